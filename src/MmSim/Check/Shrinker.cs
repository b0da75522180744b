using MmSim.Scenario;

namespace MmSim.Check;

/// <summary>
/// Shrinks a failing sequence: delta debugging over its steps (chunks, then single steps together with the steps
/// that use the names they bind), then each numeric parameter (addresses' offsets, lengths, counts, sizes) towards
/// 0 and round values, repeated until nothing shrinks. A candidate is kept only when it reproduces a violation of
/// the same kind. Deterministic: the candidates are tried in a fixed order.
/// </summary>
internal sealed class Shrinker
{
    private readonly string _machineLine;
    private readonly bool _strict;
    private readonly OpRegistry _registry;
    private readonly string _kind;
    private readonly int _maxRuns;

    public Shrinker(string machineLine, OpRegistry registry, string kind, int maxRuns = 4000, bool strict = false)
    {
        _machineLine = machineLine;
        _registry = registry;
        _kind = kind;
        _maxRuns = maxRuns;
        _strict = strict;
    }

    /// <summary>Candidates replayed.</summary>
    public int Runs { get; private set; }

    /// <summary>Candidates kept.</summary>
    public int Accepted { get; private set; }

    /// <summary>True when the violation happened in the teardown: candidates get their teardown rebuilt.</summary>
    private bool _inTeardown;

    public (List<CheckStep> Steps, Violation Violation) Shrink(IReadOnlyList<CheckStep> steps, Violation violation)
    {
        _inTeardown = steps[violation.Step].Teardown;
        var cur = steps.Take(violation.Step + 1).Where(s => !s.Teardown).ToList();
        var v = violation;
        for (var round = 0; round < 8; round++)
        {
            var before = cur.Count;
            var beforeText = string.Join("\n", cur);
            (cur, v) = DeltaDebug(cur, v);
            (cur, v) = DropWithDependents(cur, v);
            (cur, v) = ShrinkParameters(cur, v);
            if (cur.Count == before && string.Join("\n", cur) == beforeText)
            {
                break;
            }
        }

        var full = Complete(cur);
        return (full.Take(v.Step + 1).ToList(), v);
    }

    private List<CheckStep> Complete(List<CheckStep> body) =>
        _inTeardown ? [.. body, .. Generator.TeardownFor(body)] : body;

    private Violation? Test(List<CheckStep> candidate)
    {
        if (Runs >= _maxRuns)
        {
            return null;
        }

        Runs++;
        var v = SequenceExecutor.Replay(_machineLine, _registry, Complete(candidate), out _, _strict);
        if (v is null || v.Kind != _kind)
        {
            return null;
        }

        Accepted++;
        return v;
    }

    private (List<CheckStep>, Violation) DeltaDebug(List<CheckStep> cur, Violation v)
    {
        var n = 2;
        while (cur.Count >= 2 && Runs < _maxRuns)
        {
            var chunk = (cur.Count + n - 1) / n;
            var reduced = false;
            for (var start = 0; start < cur.Count; start += chunk)
            {
                var cand = new List<CheckStep>(cur.Count);
                cand.AddRange(cur.Take(start));
                cand.AddRange(cur.Skip(start + chunk));
                if (cand.Count == 0)
                {
                    continue;
                }

                var got = Test(cand);
                if (got is not null)
                {
                    cur = cand.Take(Math.Min(cand.Count, got.Step + 1)).ToList();
                    v = got;
                    n = Math.Max(n - 1, 2);
                    reduced = true;
                    break;
                }
            }

            if (!reduced)
            {
                if (n >= cur.Count)
                {
                    break;
                }

                n = Math.Min(cur.Count, n * 2);
            }
        }

        return (cur, v);
    }

    /// <summary>Remove one step together with every later step that uses a name it binds (transitively).</summary>
    private (List<CheckStep>, Violation) DropWithDependents(List<CheckStep> cur, Violation v)
    {
        for (var i = cur.Count - 1; i >= 0 && Runs < _maxRuns; i--)
        {
            if (i >= cur.Count)
            {
                continue;
            }

            var names = new HashSet<string>(cur[i].Binds(), StringComparer.Ordinal);
            if (names.Count == 0)
            {
                continue;
            }

            var drop = new HashSet<int> { i };
            for (var j = i + 1; j < cur.Count; j++)
            {
                if (cur[j].Uses().Any(names.Contains))
                {
                    drop.Add(j);
                    foreach (var b in cur[j].Binds())
                    {
                        names.Add(b);
                    }
                }
            }

            if (drop.Count == 1)
            {
                continue;
            }

            var cand = cur.Where((_, k) => !drop.Contains(k)).ToList();
            if (cand.Count == 0)
            {
                continue;
            }

            var got = Test(cand);
            if (got is not null)
            {
                cur = cand.Take(Math.Min(cand.Count, got.Step + 1)).ToList();
                v = got;
            }
        }

        return (cur, v);
    }

    private (List<CheckStep>, Violation) ShrinkParameters(List<CheckStep> cur, Violation v)
    {
        var progress = true;
        while (progress && Runs < _maxRuns)
        {
            progress = false;
            for (var i = 0; i < cur.Count; i++)
            {
                for (var j = 0; j < cur[i].Args.Count; j++)
                {
                    foreach (var smaller in Candidates(cur[i].Args[j]))
                    {
                        var cand = cur.ToList();
                        cand[i] = cur[i].WithArg(j, smaller);
                        var got = Test(cand);
                        if (got is not null)
                        {
                            cur = cand.Take(Math.Min(cand.Count, got.Step + 1)).ToList();
                            v = got;
                            progress = true;
                            break;
                        }
                    }

                    if (i >= cur.Count)
                    {
                        break;
                    }
                }
            }
        }

        return (cur, v);
    }

    /// <summary>Smaller values for one argument, the most aggressive first.</summary>
    internal static IEnumerable<CheckArg> Candidates(CheckArg a)
    {
        const ulong page = 4096;
        switch (a.Kind)
        {
            case CheckArgKind.Number:
                {
                    var v = a.Number;
                    var seen = new HashSet<ulong>();
                    foreach (var c in new[] { 0UL, 1UL, page, v / page * page, v / 2 / page * page, v / 2, v - (v / 4), v - (v / 8) })
                    {
                        if (c < v && seen.Add(c))
                        {
                            yield return a with { Number = c };
                        }
                    }

                    break;
                }

            case CheckArgKind.Ref when a.Offset != 0:
                {
                    var o = a.Offset;
                    var seen = new HashSet<long>();
                    var half = o / 2 / (long)page * (long)page;
                    foreach (var c in new[] { 0L, half, o / 2, o - (o / 4) })
                    {
                        if (Math.Abs(c) < Math.Abs(o) && seen.Add(c))
                        {
                            yield return a with { Offset = c };
                        }
                    }

                    break;
                }
        }
    }
}
