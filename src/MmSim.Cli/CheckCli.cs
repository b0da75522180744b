using System.Diagnostics;
using System.Globalization;
using MmSim.Check;
using MmSim.Scenario;

namespace MmSim.Cli;

/// <summary>
/// The front end of <c>mmsim check</c>: the wall-clock budget, progress lines on stderr (about once a second:
/// steps/s, sequences, operation/outcome coverage), the summary, and the counterexample file.
/// </summary>
internal static class CheckCli
{
    public static int Run(CheckOptions options, double? seconds, string outPath, TextWriter output, TextWriter err)
    {
        var clock = Stopwatch.StartNew();
        var lastProgress = 0.0;
        var budget = seconds is { } s ? TimeSpan.FromSeconds(s) : (TimeSpan?)null;
        var opts = options with
        {
            OutOfTime = () => budget is { } b && clock.Elapsed >= b,
            Progress = stats =>
            {
                var t = clock.Elapsed.TotalSeconds;
                if (t - lastProgress >= 1.0)
                {
                    lastProgress = t;
                    err.Write(string.Create(CultureInfo.InvariantCulture,
                        $"mmsim check: {t:F0}s {stats.Steps} steps ({stats.Steps / Math.Max(t, 1e-9):F0}/s), {stats.Sequences} sequences, {stats.Outcomes.Count} ops, {stats.OutcomePairs} op/outcome pairs\n"));
                }
            },
        };
        err.Write($"mmsim check: kernel {opts.Profile.Name}, seed {opts.Seed}, shard {opts.ShardIndex}/{opts.ShardCount}, " +
            (options.MaxSteps is { } ms ? $"{ms} steps" : "") + (options.MaxSteps is not null && seconds is not null ? " or " : "") +
            (seconds is { } sec ? string.Create(CultureInfo.InvariantCulture, $"{sec}s") : "") + "\n");
        CheckResult result;
        try
        {
            result = new Checker(opts).Run();
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // Exceptions of the simulated kernel are violations (caught per step); this is the checker's own bug.
            err.Write($"mmsim check: internal error: {e}\n");
            return ExitCodes.Internal;
        }

        var elapsed = clock.Elapsed.TotalSeconds;
        var st = result.Stats;
        output.Write(string.Create(CultureInfo.InvariantCulture,
            $"mmsim check: {st.Sequences} sequences, {st.Steps} steps in {elapsed:F1}s ({st.Steps / Math.Max(elapsed, 1e-9):F0} steps/s); coverage: {st.Outcomes.Count} ops, {st.OutcomePairs} op/outcome pairs\n"));
        output.Write(st.CoverageTable());
        foreach (var (function, count) in st.KnownWarnings)
        {
            output.Write($"known kernel warning: WARN in {function} hit {count} times (the real kernel hits it from user space too; --strict counts it as a violation)\n");
        }

        if (st.InvalidSteps > 0)
        {
            output.Write($"note: {st.InvalidSteps} generated steps were not valid statements where they stood (each stopped its sequence), first: {st.FirstInvalid}\n");
        }

        if (result.Failure is not { } f)
        {
            output.Write("no violation\n");
            return ExitCodes.Ok;
        }

        try
        {
            File.WriteAllText(outPath, f.Scenario);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            err.Write($"mmsim check: cannot write {outPath}: {e.Message}\n");
        }

        output.Write($"VIOLATION in sequence {f.Sequence}: {f.Shrunk.Kind}\n  {f.Shrunk.Message.Replace("\n", "\n  ", StringComparison.Ordinal)}\n");
        output.Write($"shrunk from {f.OriginalSteps} to {f.Steps.Count} steps ({f.ShrinkRuns} replays); written to {outPath}" +
            (f.Verified ? $": mmsim run {outPath} fails at line {f.FailingLine}" : ": WARNING: the replay was not verified to fail at the violating line") + "\n");
        output.Write(f.Scenario);
        return ExitCodes.Failed;
    }
}
