using MmSim.Kernel;

namespace MmSim.Scenario;

/// <summary>What a name is bound to at run time: a value (a step's result) and/or an object.</summary>
internal sealed class Binding
{
    public Binding(string name, int line)
    {
        Name = name;
        Line = line;
    }

    public string Name { get; }

    public int Line { get; }

    /// <summary>The step result holding the value (Value or List), if any.</summary>
    public StepResult? Result { get; set; }

    /// <summary>The process, program or tree object, if any.</summary>
    public object? Object { get; set; }
}

/// <summary>Why a name has no binding at run time: the step that should have bound it.</summary>
internal sealed record Unbound(int Line, bool StepFailed, string Actual);

/// <summary>The run-time state of one scenario file: the machine and the name table.</summary>
internal sealed class ScenarioState
{
    private readonly Dictionary<string, Binding> _names = new(StringComparer.Ordinal);
    private readonly List<Binding> _order = [];
    private readonly Dictionary<string, Unbound> _unbound = new(StringComparer.Ordinal);

    public ScenarioState(string file, Machine machine)
    {
        File = file;
        Machine = machine;
    }

    public string File { get; }

    public Machine Machine { get; }

    public void Define(string name, object obj, int line) => GetOrAdd(name, line).Object = obj;

    public void BindResult(string name, StepResult result, int line)
    {
        var b = GetOrAdd(name, line);
        b.Result = result;
        if (result.Object is not null)
        {
            b.Object = result.Object;
        }
    }

    public void MarkUnbound(string name, Unbound why) => _unbound[name] = why;

    public bool IsBound(string name) => _names.ContainsKey(name);

    public Unbound? WhyUnbound(string name) => _unbound.GetValueOrDefault(name);

    public object? ObjectOf(string name) => _names.TryGetValue(name, out var b) ? b.Object : null;

    /// <summary>The name's scalar value: a Value result (a one-element list counts).</summary>
    public ulong? ValueOf(string name)
    {
        if (!_names.TryGetValue(name, out var b) || b.Result is null)
        {
            return null;
        }

        return b.Result.Kind switch
        {
            StepKind.Value => b.Result.Value,
            StepKind.List when b.Result.List.Count == 1 => b.Result.List[0],
            _ => null,
        };
    }

    public bool HasListValue(string name) =>
        _names.TryGetValue(name, out var b) && b.Result is { Kind: StepKind.List, List.Count: not 1 };

    public IEnumerable<(string Name, T Object)> Objects<T>()
        where T : class
    {
        foreach (var b in _order)
        {
            if (b.Object is T t)
            {
                yield return (b.Name, t);
            }
        }
    }

    private Binding GetOrAdd(string name, int line)
    {
        if (!_names.TryGetValue(name, out var b))
        {
            b = new Binding(name, line);
            _names.Add(name, b);
            _order.Add(b);
            _unbound.Remove(name);
        }

        return b;
    }
}
