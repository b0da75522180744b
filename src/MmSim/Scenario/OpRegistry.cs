using System.Reflection;

namespace MmSim.Scenario;

/// <summary>A statement handler: does the step and says what happened.</summary>
public delegate StepResult OpHandler(OpContext ctx);

/// <summary>
/// Marks a static class that registers scenario statements. The class has a
/// <c>static void Register(OpRegistry r)</c> method; <see cref="OpRegistry.CreateDefault"/> finds every such
/// class in the MmSim assembly (ordered by full type name) and calls it. A layer adds its statements in its own
/// file without editing the runner.
/// </summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = false, Inherited = false)]
public sealed class ScenarioOpsAttribute : Attribute;

/// <summary>
/// The table of statements the runner knows: every schema (the core ones of <see cref="OpSchemas"/> plus the
/// ones added with <see cref="Add"/>) and the handlers registered for them. A statement with a schema but no
/// handler parses and, when it runs, stops the file with "'op' is not implemented yet" (exit 2).
/// </summary>
public sealed class OpRegistry
{
    private readonly List<OpSchema> _schemas = [];
    private readonly Dictionary<(OpScope, string), OpSchema> _byName = [];
    private readonly Dictionary<(OpScope, string), OpHandler> _handlers = [];
    private static readonly Lazy<OpRegistry> s_default = new(() => CreateDefault());

    /// <summary>A registry with the core schemas and no handlers.</summary>
    public OpRegistry()
    {
        foreach (var s in OpSchemas.All)
        {
            AddSchema(s);
        }
    }

    /// <summary>The registry built by <see cref="CreateDefault"/>, shared (handlers keep no state of their own).</summary>
    public static OpRegistry Default => s_default.Value;

    public IReadOnlyList<OpSchema> Schemas => _schemas;

    /// <summary>Core schemas plus every <see cref="ScenarioOpsAttribute"/> class of MmSim and of <paramref name="more"/>.</summary>
    public static OpRegistry CreateDefault(params Assembly[] more)
    {
        var r = new OpRegistry();
        foreach (var asm in new[] { typeof(OpRegistry).Assembly }.Concat(more).Distinct())
        {
            r.RegisterFrom(asm);
        }

        return r;
    }

    /// <summary>Call <c>Register(OpRegistry)</c> of every <see cref="ScenarioOpsAttribute"/> class in the assembly.</summary>
    public OpRegistry RegisterFrom(Assembly assembly)
    {
        var types = assembly.GetTypes()
            .Where(t => t.GetCustomAttribute<ScenarioOpsAttribute>() is not null)
            .OrderBy(t => t.FullName, StringComparer.Ordinal);
        foreach (var t in types)
        {
            var m = t.GetMethod("Register", BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic, [typeof(OpRegistry)])
                ?? throw new InvalidOperationException($"{t.FullName} is marked [ScenarioOps] but has no static Register(OpRegistry)");
            m.Invoke(null, [this]);
        }

        return this;
    }

    /// <summary>Implement a global statement (<c>spawn</c>, <c>check</c>, <c>tree</c> ...).</summary>
    public OpRegistry Global(string op, OpHandler handler) => Handle(OpScope.Global, op, handler);

    /// <summary>Implement a process statement (<c>P: mmap ...</c>); the context's subject is the TaskStruct.</summary>
    public OpRegistry Process(string op, OpHandler handler) => Handle(OpScope.Process, op, handler);

    /// <summary>Implement a program statement (<c>G: arena_alloc_pages ...</c>); the subject is the program object.</summary>
    public OpRegistry Program(string op, OpHandler handler) => Handle(OpScope.Program, op, handler);

    /// <summary>Implement a tree statement (<c>T: insert ...</c>); the subject is the tree object.</summary>
    public OpRegistry Tree(string op, OpHandler handler) => Handle(OpScope.Tree, op, handler);

    /// <summary>Implement <c>show VIEW ...</c>; return <see cref="StepResult.Show"/>.</summary>
    public OpRegistry Show(string view, OpHandler handler) => Handle(OpScope.Global, "show " + view, handler);

    /// <summary>Implement <c>stat COUNTER ...</c>; return <see cref="StepResult.Of(ulong)"/>.</summary>
    public OpRegistry Stat(string counter, OpHandler handler) => Handle(OpScope.Global, "stat " + counter, handler);

    /// <summary>Implement <c>inject KIND ...</c>.</summary>
    public OpRegistry Inject(string kind, OpHandler handler) => Handle(OpScope.Global, "inject " + kind, handler);

    /// <summary>Add a statement that is not in the core table, with its schema, and implement it.</summary>
    public OpRegistry Add(OpSchema schema, OpHandler handler)
    {
        if (_byName.ContainsKey((schema.Scope, schema.Name)))
        {
            throw new InvalidOperationException($"{schema.Scope} statement '{schema.Name}' already has a schema");
        }

        AddSchema(schema);
        return Handle(schema.Scope, schema.Name, handler);
    }

    public OpSchema? FindSchema(OpScope scope, string name) => _byName.GetValueOrDefault((scope, name));

    public OpHandler? FindHandler(OpScope scope, string name) => _handlers.GetValueOrDefault((scope, name));

    public bool IsImplemented(OpSchema schema) => _handlers.ContainsKey((schema.Scope, schema.Name));

    /// <summary>True for the global families whose statements have two-word names: show, stat, inject.</summary>
    public bool IsFamily(string word) => _schemas.Exists(s => s.Scope == OpScope.Global && s.Name.StartsWith(word + " ", StringComparison.Ordinal));

    /// <summary>The second words of a family, in table order (<c>show</c>: maps, buddyinfo ...).</summary>
    public IReadOnlyList<string> FamilyMembers(string family) =>
        _schemas.Where(s => s.Scope == OpScope.Global && s.Name.StartsWith(family + " ", StringComparison.Ordinal))
            .Select(s => s.Name[(family.Length + 1)..]).ToList();

    /// <summary>True for the first word of any global statement: such words cannot be names.</summary>
    public bool IsGlobalKeyword(string word) =>
        _schemas.Exists(s => s.Scope == OpScope.Global && (s.Name == word || s.Name.StartsWith(word + " ", StringComparison.Ordinal)));

    private void AddSchema(OpSchema schema)
    {
        _schemas.Add(schema);
        _byName.Add((schema.Scope, schema.Name), schema);
    }

    private OpRegistry Handle(OpScope scope, string op, OpHandler handler)
    {
        if (!_byName.ContainsKey((scope, op)))
        {
            throw new InvalidOperationException($"no schema for {scope} statement '{op}': add it to OpSchemas or use OpRegistry.Add");
        }

        if (!_handlers.TryAdd((scope, op), handler))
        {
            throw new InvalidOperationException($"{scope} statement '{op}' is registered twice");
        }

        return this;
    }
}
