namespace MmSim.Kernel;

/// <summary>
/// The registry of invariant checks. Each subsystem registers its checks when the machine is built; the
/// scenario <c>check</c> statement and <c>mmsim check</c> run them all. A check appends one line per violation.
/// </summary>
public sealed class InvariantRegistry
{
    private readonly List<(string Name, Action<List<string>> Check)> _checks = [];

    // CheckAll's per-check buffer, reused across calls.
    private readonly List<string> _scratch = [];

    public IEnumerable<string> Names => _checks.Select(c => c.Name);

    public void Register(string name, Action<List<string>> check) => _checks.Add((name, check));

    /// <summary>Runs every check; returns the violations, each prefixed with its check's name.</summary>
    public List<string> CheckAll()
    {
        var violations = new List<string>();
        var scratch = _scratch;
        foreach (var (name, check) in _checks)
        {
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
