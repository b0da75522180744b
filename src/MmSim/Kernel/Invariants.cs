namespace MmSim.Kernel;

/// <summary>
/// The registry of invariant checks. Each subsystem registers its checks when the machine is built; the
/// scenario <c>check</c> statement and <c>mmsim check</c> run them all. A check appends one line per violation.
/// A check may come with a quick path: a cheaper test that returns true only when the check would report nothing
/// (a conservative pre-check, never a substitute). <see cref="CheckAllQuick"/> runs the full check only where the
/// quick path cannot vouch for the state, so it reports exactly what <see cref="CheckAll"/> reports.
/// </summary>
public sealed class InvariantRegistry
{
    private readonly List<(string Name, Action<List<string>> Check, Func<bool>? Quick)> _checks = [];

    // The per-check buffer, reused across calls.
    private readonly List<string> _scratch = [];

    public IEnumerable<string> Names => _checks.Select(c => c.Name);

    public void Register(string name, Action<List<string>> check) => _checks.Add((name, check, null));

    /// <summary>
    /// Register a check with a quick path: <paramref name="quick"/> must return true only when
    /// <paramref name="check"/> would append nothing (when in doubt, false: the full check then runs).
    /// </summary>
    public void Register(string name, Action<List<string>> check, Func<bool> quick) => _checks.Add((name, check, quick));

    /// <summary>Runs every full check; returns the violations, each prefixed with its check's name.</summary>
    public List<string> CheckAll() => Run(quick: false);

    /// <summary>
    /// The same violations as <see cref="CheckAll"/>, cheaper: a check whose quick path vouches for the state is
    /// not run. <c>mmsim check</c> calls this after every step; the scenario <c>check</c> statement calls
    /// <see cref="CheckAll"/>.
    /// </summary>
    public List<string> CheckAllQuick() => Run(quick: true);

    /// <summary>Each check with a quick path, and whether that path vouches for the current state (tests).</summary>
    internal IEnumerable<(string Name, bool Holds)> QuickResults() =>
        _checks.Where(c => c.Quick is not null).Select(c => (c.Name, c.Quick!()));

    /// <summary>Runs one check by name, its quick path when <paramref name="quick"/> and it has one (benchmarks).</summary>
    internal int RunOne(string name, bool quick)
    {
        var (_, check, q) = _checks.Find(c => c.Name == name);
        if (quick && q is not null)
        {
            return q() ? 0 : -1;
        }

        _scratch.Clear();
        check(_scratch);
        return _scratch.Count;
    }

    private List<string> Run(bool quick)
    {
        var violations = new List<string>();
        var scratch = _scratch;
        foreach (var (name, check, q) in _checks)
        {
            if (quick && q is not null && q())
            {
                continue;
            }

            scratch.Clear();
            check(scratch);
            foreach (var v in scratch)
            {
                violations.Add(name + ": " + v);
            }
        }

        scratch.Clear();
        return violations;
    }
}
