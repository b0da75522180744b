using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using MmSim.Check;
using MmSim.Scenario;
using Xunit;

namespace MmSim.Tests.Check;

/// <summary>
/// The checker's output for a fixed seed, pinned: the text of the first 200 sequences of seed 0 and, step by step,
/// each outcome and diagnostic as the session reports it. Host-side speed work on the step path (generator,
/// parser, runner, transcript) must leave this digest unchanged.
/// </summary>
public class CheckerDigestTests
{
    private const string Seed0Digest = "FE9EA8D0D4B8E222F6C4867C95C44983D95ED367B23C5E564B3B52D6C5D4DE12";

    [Fact]
    public void Seed0SequencesAndOutcomesArePinned()
    {
        var o = new CheckOptions { Seed = 0 };
        var checker = new Checker(o);
        var stats = new CheckStats();
        var sb = new StringBuilder();
        for (var i = 0; i < 200; i++)
        {
            var (steps, v) = checker.RunSequence(i, stats);
            var ex = new SequenceExecutor(o.MachineLine, o.Registry);
            for (var k = 0; k < steps.Count; k++)
            {
                var verdict = ex.Run(steps[k], k, out var kv);
                var r = ex.Last!;
                sb.Append(CultureInfo.InvariantCulture, $"{i}.{k} {steps[k].Line} | {r.Status} {(r.Result is null ? "-" : ValueFormat.Result(r.Result))} k{r.Kasan} w{r.Warns} | {r.Message} | {verdict} {kv}\n");
            }

            sb.Append(CultureInfo.InvariantCulture, $"{i} => {v}\n");
        }

        sb.Append(stats.CoverageTable());
        var digest = Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(sb.ToString())));
        Assert.True(digest == Seed0Digest, digest);
    }
}
