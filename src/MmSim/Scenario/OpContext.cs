using Microsoft.Extensions.Logging;
using MmSim.Kernel;
using MmSim.Vm;

namespace MmSim.Scenario;

/// <summary>An argument after evaluation, as a handler sees it.</summary>
public sealed class ArgValue
{
    internal ArgValue(ArgNode node) => Node = node;

    public ArgNode Node { get; }

    public ArgSpec Spec => Node.Spec;

    /// <summary>Expr, Size, Prot, Flags, Word, ExprOrWord: the value (a word stands for its table value).</summary>
    public ulong Value { get; internal init; }

    /// <summary>List and ExprOrList: the values (a single expression gives one).</summary>
    public IReadOnlyList<ulong> List
    {
        get => _list ??= Single ? [Value] : [];
        internal init => _list = value;
    }

    /// <summary>An expression: <see cref="List"/> is its one value (made when asked for, most handlers never do).</summary>
    internal bool Single { get; init; }

    private IReadOnlyList<ulong>? _list;

    /// <summary>Word, ExprOrWord (when a word), names and profiles: the word as written.</summary>
    public string? Word { get; internal init; }

    /// <summary>Flags: the words as written (numbers left out).</summary>
    public IReadOnlyList<string> Words { get; internal init; } = [];

    /// <summary>ProcessRef: the TaskStruct.</summary>
    public object? Object { get; internal init; }
}

/// <summary>
/// What a handler gets: the machine, the statement, its subject (the TaskStruct of <c>P:</c>, the program object
/// of <c>G:</c>, the tree object of <c>T:</c>), its evaluated arguments by name, and the scenario's name table.
/// Arguments are looked up by the name in the schema (positional ones too: <c>ctx.U64("addr")</c>).
/// </summary>
public sealed class OpContext
{
    private readonly ScenarioState _state;
    private readonly Dictionary<string, ArgValue> _args;

    internal OpContext(ScenarioState state, Statement statement, object? subject, Dictionary<string, ArgValue> args)
    {
        _state = state;
        Statement = statement;
        Subject = subject;
        _args = args;
    }

    public Machine Machine => _state.Machine;

    public Statement Statement { get; }

    /// <summary>The file name, as given.</summary>
    public string File => _state.File;

    public int Line => Statement.Line;

    /// <summary>The op name (<c>"mmap"</c>, <c>"stat free_pages"</c>).</summary>
    public string Op => Statement.Schema.Name;

    /// <summary>The subject's name (the P of <c>P: op</c>), or null for a global statement.</summary>
    public string? SubjectName => Statement.Subject;

    /// <summary>The subject object: a TaskStruct, a program, a tree; null for a global statement.</summary>
    public object? Subject { get; }

    /// <summary>The subject process of a <c>P:</c> statement.</summary>
    public TaskStruct Process => Subject as TaskStruct
        ?? throw new InvalidOperationException($"'{Op}' has no process subject");

    /// <summary>The scenario logger category.</summary>
    public ILogger Log => Machine.Log.Scenario;

    /// <summary>The subject as <typeparamref name="T"/> (the program or tree type of a later layer).</summary>
    public T SubjectAs<T>()
        where T : class =>
        Subject as T ?? throw new InvalidOperationException($"the subject of '{Op}' is {Subject?.GetType().Name ?? "null"}, not {typeof(T).Name}");

    /// <summary>True when the argument or option was given.</summary>
    public bool Has(string arg) => _args.ContainsKey(arg);

    /// <summary>The value of an argument (Expr, ExprOrWord, Size, Prot, Flags, Word).</summary>
    public ulong U64(string arg) => Get(arg).Value;

    /// <summary>The value of an optional argument, or <paramref name="fallback"/>.</summary>
    public ulong U64(string arg, ulong fallback) => _args.TryGetValue(arg, out var v) ? v.Value : fallback;

    /// <summary>The value as a signed 64-bit number (<c>-1</c> stays -1).</summary>
    public long I64(string arg) => unchecked((long)U64(arg));

    public long I64(string arg, long fallback) => _args.TryGetValue(arg, out var v) ? unchecked((long)v.Value) : fallback;

    /// <summary>The value as an int; a value out of int range is a scenario error pointing at the argument.</summary>
    public int Int(string arg, long min = int.MinValue, long max = int.MaxValue)
    {
        var v = I64(arg);
        if (v < min || v > max)
        {
            throw Fail($"{arg}={ValueFormat.Signed(U64(arg))} is out of range ({min}..{max})", arg);
        }

        return (int)v;
    }

    /// <summary>An optional int argument, or <paramref name="fallback"/> when absent.</summary>
    public int IntOr(string arg, int fallback, long min = int.MinValue, long max = int.MaxValue) =>
        Has(arg) ? Int(arg, min, max) : fallback;

    /// <summary>A list argument's values (an ExprOrList written without commas gives one value).</summary>
    public IReadOnlyList<ulong> List(string arg) => Get(arg).List;

    /// <summary>True when an ExprOrList argument was written as a list.</summary>
    public bool IsList(string arg) => _args.TryGetValue(arg, out var v) && v.Node.IsList;

    /// <summary>A Word argument's word as written (null when given as a number).</summary>
    public string? Word(string arg) => _args.TryGetValue(arg, out var v) ? v.Word : null;

    /// <summary>A Flags argument's words as written.</summary>
    public IReadOnlyList<string> Words(string arg) => _args.TryGetValue(arg, out var v) ? v.Words : [];

    /// <summary>A NewProcess/NewTree/ProcessRef/Profile argument's name.</summary>
    public string Name(string arg) => Get(arg).Word!;

    /// <summary>A ProcessRef argument's process.</summary>
    public TaskStruct ProcessArg(string arg) => (TaskStruct)Get(arg).Object!;

    /// <summary>Bind one of the statement's new names (spawn P, fork C, tree T) to its object.</summary>
    public void Define(string name, object obj)
    {
        if (!Statement.NewNames.Contains(name))
        {
            throw new InvalidOperationException($"'{Op}' does not declare the name '{name}'");
        }

        _state.Define(name, obj, Statement.Line);
    }

    /// <summary>The object bound to a name (a process, program or tree).</summary>
    public T Lookup<T>(string name)
        where T : class =>
        TryLookup<T>(name, out var obj) ? obj : throw Fail($"'{name}' is not bound to a {typeof(T).Name}");

    public bool TryLookup<T>(string name, out T obj)
        where T : class
    {
        obj = _state.ObjectOf(name) as T ?? null!;
        return obj is not null;
    }

    /// <summary>Every name bound to an object of type <typeparamref name="T"/>, in binding order.</summary>
    public IEnumerable<(string Name, T Object)> Bound<T>()
        where T : class => _state.Objects<T>();

    /// <summary>
    /// The object bound to an argument written as a bare name (<c>stat writecnt m</c>, where <c>m = map_create ...</c>
    /// bound the map object), or null when the argument is an expression or its name holds no object.
    /// </summary>
    public T? BoundObject<T>(string arg)
        where T : class
    {
        if (_args.TryGetValue(arg, out var v) && v.Node.Expr is { Terms.Count: 1 } e
            && e.Terms[0] is { IsName: true, Negative: false } t)
        {
            return _state.ObjectOf(t.Name!) as T;
        }

        return null;
    }

    /// <summary>The column an argument starts at (the op when absent).</summary>
    public int ColumnOf(string? arg) =>
        arg is not null && _args.TryGetValue(arg, out var v) ? v.Node.NameColumn : Statement.OpColumn;

    /// <summary>A scenario error (exit 2) pointing at an argument (or the op).</summary>
    public StepResult Error(string message, string? arg = null) => StepResult.ScenarioError(message, ColumnOf(arg));

    /// <summary>The same as an exception to throw from helper code.</summary>
    public ScenarioException Fail(string message, string? arg = null) => new(message) { Column = ColumnOf(arg) };

    private ArgValue Get(string arg) =>
        _args.TryGetValue(arg, out var v) ? v : throw new InvalidOperationException($"'{Op}' has no argument '{arg}' here (optional and absent, or not in its schema)");
}
