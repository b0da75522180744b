using System.Globalization;
using System.Text;
using MmSim.Kernel;
using MmSim.Scenario;

namespace MmSim.Check;

/// <summary>Options of a <see cref="Checker"/> run (<c>mmsim check</c>).</summary>
public sealed record CheckOptions
{
    /// <summary>The kernel profile the machines run.</summary>
    public KernelProfile Profile { get; init; } = KernelProfile.Default;

    public ulong Seed { get; init; }

    /// <summary>Budget: stop starting sequences once this many steps were checked (null: no limit).</summary>
    public long? MaxSteps { get; init; }

    /// <summary>Budget: stop after this many sequences (null: no limit).</summary>
    public long? MaxSequences { get; init; }

    /// <summary>Budget: asked before each sequence; true stops the run (the wall clock of --time lives here, outside the simulation).</summary>
    public Func<bool>? OutOfTime { get; init; }

    /// <summary>Shard I of N: this run explores sequences I, I+N, I+2N ...</summary>
    public int ShardIndex { get; init; }

    public int ShardCount { get; init; } = 1;

    /// <summary>The longest random part of a sequence (before its teardown).</summary>
    public int MaxLength { get; init; } = 40;

    /// <summary>Memory of each sequence's machine.</summary>
    public string Ram { get; init; } = "8M";

    /// <summary>
    /// Count every WARN as a violation, also the ones the real kernel of the profile hits from user space
    /// (<see cref="KernelProfile.KnownUserReachableWarnings"/>); off, those are counted in
    /// <see cref="CheckStats.KnownWarnings"/> and the sequence goes on.
    /// </summary>
    public bool Strict { get; init; }

    /// <summary>Check machine.Invariants after every step (off only to measure what the checking costs).</summary>
    public bool CheckInvariants { get; init; } = true;

    /// <summary>Shrink a counterexample (off: the sequence as found).</summary>
    public bool Shrink { get; init; } = true;

    public OpRegistry Registry { get; init; } = OpRegistry.Default;

    /// <summary>Called after each sequence with the statistics so far (the CLI prints progress from it).</summary>
    public Action<CheckStats>? Progress { get; init; }

    /// <summary>The <c>machine</c> line every sequence starts from.</summary>
    public string MachineLine => $"machine ram={Ram} kernel={Profile.Name}";
}

/// <summary>What a run explored: sequences, steps, and each operation's outcomes (its coverage).</summary>
public sealed class CheckStats
{
    private readonly SortedDictionary<string, SortedDictionary<string, long>> _outcomes = new(StringComparer.Ordinal);

    public long Sequences { get; internal set; }

    public long Steps { get; internal set; }

    /// <summary>Steps the generator produced that were not valid where it put them (a generator bug; stops the sequence).</summary>
    public long InvalidSteps { get; internal set; }

    /// <summary>The first invalid step's diagnostic, for the report.</summary>
    public string? FirstInvalid { get; internal set; }

    /// <summary>Operation → outcome (ok, an errno, a signal, KASAN ...) → count, in ordinal order.</summary>
    public IReadOnlyDictionary<string, SortedDictionary<string, long>> Outcomes => _outcomes;

    internal void Count(string op, string outcome)
    {
        if (!_outcomes.TryGetValue(op, out var d))
        {
            d = new SortedDictionary<string, long>(StringComparer.Ordinal);
            _outcomes.Add(op, d);
        }

        d[outcome] = d.GetValueOrDefault(outcome) + 1;
    }

    /// <summary>Known kernel warnings hit (function → count): WARNs the real kernel also hits from user space.</summary>
    public IReadOnlyDictionary<string, long> KnownWarnings => _known;

    private readonly SortedDictionary<string, long> _known = new(StringComparer.Ordinal);

    internal void CountKnownWarning(string function) => _known[function] = _known.GetValueOrDefault(function) + 1;

    /// <summary>Distinct (operation, outcome) pairs seen.</summary>
    public int OutcomePairs => _outcomes.Values.Sum(d => d.Count);

    /// <summary>The coverage table, one line per operation: <c>mmap: ok 1200, EINVAL 31, ENOMEM 4</c>.</summary>
    public string CoverageTable()
    {
        var sb = new StringBuilder();
        foreach (var (op, d) in _outcomes)
        {
            sb.Append("  ").Append(op).Append(": ")
                .AppendJoin(", ", d.Select(p => p.Key + " " + p.Value.ToString(CultureInfo.InvariantCulture))).Append('\n');
        }

        return sb.ToString();
    }
}

/// <summary>A violation found, shrunk and written as a scenario.</summary>
public sealed record CheckFailure(Violation Original, Violation Shrunk, long Sequence, int OriginalSteps, IReadOnlyList<CheckStep> Steps, string Scenario)
{
    /// <summary>The line of the scenario where <c>mmsim run</c> fails.</summary>
    public int FailingLine { get; init; }

    /// <summary>True when running <see cref="Scenario"/> was verified to fail at <see cref="FailingLine"/>.</summary>
    public bool Verified { get; init; }

    /// <summary>The exit code of <c>mmsim run</c> on the scenario (1, or 3 for an exception).</summary>
    public int ReplayExit { get; init; }

    public int ShrinkRuns { get; init; }
}

/// <summary>The result of a run.</summary>
public sealed record CheckResult(CheckStats Stats, CheckFailure? Failure);

/// <summary>
/// <c>mmsim check</c>: explores random whole-system sequences (<see cref="Generator"/>), every property checked
/// after every step (<see cref="SequenceExecutor"/>), each sequence ending with a leak-free teardown. Sequence
/// <c>i</c> depends only on the seed and <c>i</c>; the budgets only decide how many run. The first violation is
/// shrunk (<see cref="Shrinker"/>) and written as a scenario that <c>mmsim run</c> replays.
/// </summary>
public sealed class Checker
{
    private readonly CheckOptions _o;

    public Checker(CheckOptions options) => _o = options;

    public CheckResult Run()
    {
        var stats = new CheckStats();
        var shardCount = Math.Max(1, _o.ShardCount);
        for (long i = _o.ShardIndex; ; i += shardCount)
        {
            if ((_o.MaxSteps is { } ms && stats.Steps >= ms) || (_o.MaxSequences is { } mq && stats.Sequences >= mq) ||
                (_o.OutOfTime?.Invoke() ?? false))
            {
                break;
            }

            var (steps, v) = RunSequence(i, stats);
            stats.Sequences++;
            _o.Progress?.Invoke(stats);
            if (v is not null)
            {
                return new CheckResult(stats, Report(i, steps, v));
            }
        }

        return new CheckResult(stats, null);
    }

    /// <summary>The steps of sequence <paramref name="index"/> as run (up to its violation), and the violation.</summary>
    public (List<CheckStep> Steps, Violation? Violation) RunSequence(long index, CheckStats? stats = null)
    {
        stats ??= new CheckStats();
        var rng = CheckRandom.ForSequence(_o.Seed, index);
        var gen = new Generator(rng, _o.Registry);
        var ex = new SequenceExecutor(_o.MachineLine, _o.Registry, _o.CheckInvariants) { Strict = _o.Strict };
        var steps = new List<CheckStep>();
        var length = rng.Range(4, Math.Max(4, _o.MaxLength));

        Violation? Step(CheckStep s)
        {
            steps.Add(s);
            stats.Steps++;
            var verdict = ex.Run(s, steps.Count - 1, out var v);
            var r = ex.Last!;
            stats.Count(s.Op, Outcome(r));
            if (ex.LastWarnKnown)
            {
                stats.CountKnownWarning(ex.Machine.Reports.Warnings[^1].Function);
            }

            if (verdict == StepVerdict.Invalid)
            {
                stats.InvalidSteps++;
                stats.FirstInvalid ??= $"sequence {index} step {steps.Count}: {s.Line}: {r.Message}";
                return null;
            }

            gen.Observe(s, r, ex.Session);
            return v;
        }

        foreach (var s in gen.Prologue())
        {
            if (Step(s) is { } v)
            {
                return (steps, v);
            }
        }

        for (var k = 0; k < length && !ex.Session.Stopped; k++)
        {
            if (Step(gen.Next()) is { } v)
            {
                return (steps, v);
            }
        }

        if (ex.Session.Stopped)
        {
            return (steps, null);
        }

        foreach (var s in gen.Teardown())
        {
            if (Step(s) is { } v)
            {
                return (steps, v);
            }

            if (ex.Session.Stopped)
            {
                break;
            }
        }

        return (steps, null);
    }

    private static string Outcome(SessionStep r)
    {
        if (r.Kasan > 0)
        {
            return "KASAN";
        }

        if (r.Warns > 0)
        {
            return "WARN";
        }

        return r.Status switch
        {
            SessionStatus.InternalError => "exception",
            SessionStatus.ParseError or SessionStatus.ScenarioError => "invalid",
            _ => r.Result?.Kind switch
            {
                StepKind.Errno => r.Result.Errno.ToString(),
                StepKind.Signal => r.Result.Signal.ToString(),
                StepKind.Null => "null",
                null => "?",
                _ => "ok",
            },
        };
    }

    private CheckFailure Report(long sequence, List<CheckStep> steps, Violation v)
    {
        var shrunk = steps.Take(v.Step + 1).ToList();
        var sv = v;
        var runs = 0;
        if (_o.Shrink)
        {
            var shrinker = new Shrinker(_o.MachineLine, _o.Registry, v.Kind, strict: _o.Strict);
            (shrunk, sv) = shrinker.Shrink(steps, v);
            runs = shrinker.Runs;
        }

        var header = new List<string>
        {
            $"# mmsim check counterexample: {sv.Kind}",
            $"# found by: mmsim check --kernel {_o.Profile.Name} --seed {_o.Seed}" +
                (_o.ShardCount > 1 ? $" --shard {_o.ShardIndex}/{_o.ShardCount}" : "") +
                $" (sequence {sequence}, step {v.Step + 1}); shrunk from {v.Step + 1} to {sv.Step + 1} steps",
        };
        var written = Counterexample.Write(_o.MachineLine, _o.Registry, header, shrunk, sv);
        return new CheckFailure(v, sv, sequence, v.Step + 1, shrunk, written.Text)
        {
            FailingLine = written.FailingLine,
            Verified = written.Verified,
            ReplayExit = written.Exit,
            ShrinkRuns = runs,
        };
    }
}
