using MmSim.Scenario;

namespace MmSim.Check;

/// <summary>
/// Writes a shrunk sequence as a scenario file that <c>mmsim run</c> replays, failing at the violating step: every
/// step before it carries the outcome it had (so the file is a regression test as it stands), the violating step
/// carries <c>=&gt; any</c> (an unexpected KASAN report or WARN fails it whatever it returned) or is followed by the
/// statement that shows the violation (<c>check</c> for an invariant, a <c>stat</c> for a state that a failed call
/// changed). The result is verified by running it through <see cref="ScenarioRunner"/>.
/// </summary>
internal static class Counterexample
{
    public sealed record Written(string Text, int FailingLine, bool Verified, int Exit);

    public static Written Write(string machineLine, OpRegistry registry, IReadOnlyList<string> header, IReadOnlyList<CheckStep> steps, Violation v)
    {
        var observed = Observe(machineLine, registry, steps);
        var exact = Build(registry, machineLine, header, steps, v, observed, exactOutcomes: true);
        if (exact.Verified || observed is null)
        {
            return exact.Verified ? exact : Build(registry, machineLine, header, steps, v, null, exactOutcomes: false);
        }

        return Build(registry, machineLine, header, steps, v, null, exactOutcomes: false);
    }

    /// <summary>The outcome each step had, as an expectation (null when the replay did not run through).</summary>
    private static List<string>? Observe(string machineLine, OpRegistry registry, IReadOnlyList<CheckStep> steps)
    {
        var ex = new SequenceExecutor(machineLine, registry);
        var list = new List<string>();
        for (var i = 0; i < steps.Count; i++)
        {
            var verdict = ex.Run(steps[i], i, out _);
            if (verdict == StepVerdict.Invalid)
            {
                return null;
            }

            var r = ex.Last!;
            if (r.Warns > 0 && r.Kasan == 0 && ex.LastWarnKnown)
            {
                list.Add("WARN");      // a known kernel warning (KernelProfile.KnownUserReachableWarnings)
                continue;
            }

            list.Add(r.Result?.Kind switch
            {
                StepKind.Errno => r.Result.Errno.ToString(),
                StepKind.Signal => r.Result.Signal.ToString(),
                StepKind.Null => "null",
                StepKind.Value => ValueFormat.Number(r.Result.Value),
                StepKind.Done => "ok",
                _ => "any",
            });
        }

        return list;
    }

    private static Written Build(OpRegistry registry, string machineLine, IReadOnlyList<string> header, IReadOnlyList<CheckStep> steps, Violation v,
        List<string>? observed, bool exactOutcomes)
    {
        var lines = new List<string>(header)
        {
            $"# violation: {v.Message.Split('\n')[0]}",
            "# replay: mmsim run FILE (fails at the line marked 'violation')",
            machineLine,
        };
        var failing = 0;
        for (var i = 0; i < steps.Count; i++)
        {
            var s = steps[i];
            var expect = s.Expect;
            if (i == v.Step)
            {
                if (v.Witness is not null && observed is not null && exactOutcomes)
                {
                    expect = observed[i];
                }
            }
            else if (exactOutcomes && observed is not null && s.Expect == "any")
            {
                expect = observed[i];
            }

            var line = (s with { Expect = expect }).Line;
            if (i == v.Step)
            {
                if (v.Witness is null)
                {
                    line += "   # violation: " + v.Kind;
                    failing = lines.Count + 1;
                }
                else
                {
                    lines.Add(line);
                    line = v.Witness + "   # violation: " + v.Kind;
                    failing = lines.Count + 1;
                }
            }

            lines.Add(line);
        }

        var text = string.Join("\n", lines) + "\n";
        var run = new ScenarioRunner(TextWriter.Null, TextWriter.Null, new RunnerOptions { Registry = registry, Summary = false })
            .RunText("counterexample.mms", text);
        var failedAt = run.ExitCode == ExitCodes.Failed && run.FailedLines.Count > 0 ? run.FailedLines[0]
            : run.ExitCode == ExitCodes.Internal && run.Diagnostics.Count > 0 ? run.Diagnostics[^1].Line : -1;
        var verified = failedAt == failing && (run.ExitCode == ExitCodes.Failed || (run.ExitCode == ExitCodes.Internal && v.Kind.StartsWith("exception", StringComparison.Ordinal)));
        return new Written(text, failing, verified, run.ExitCode);
    }
}
