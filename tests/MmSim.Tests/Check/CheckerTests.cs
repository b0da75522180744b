using MmSim.Check;
using MmSim.Scenario;
using Xunit;

namespace MmSim.Tests.Check;

/// <summary>
/// The checker (<c>mmsim check</c>): the whole-system generator as a property test, determinism, shards, and the
/// path from a violation to a shrunk counterexample that <c>mmsim run</c> replays, failing at the violating line.
/// A long run by hand: <c>MMSIM_CHECK_SEQUENCES=100000 dotnet test --filter CheckerTests</c>.
/// </summary>
public class CheckerTests
{
    private static readonly long Sequences =
        long.TryParse(Environment.GetEnvironmentVariable("MMSIM_CHECK_SEQUENCES"), out var n) ? n : 300;

    /// <summary>The default registry with some statements left out (the generator only uses what is registered).</summary>
    internal static OpRegistry Registry(Func<OpSchema, OpHandler, OpHandler?> map)
    {
        var d = OpRegistry.Default;
        var r = new OpRegistry();
        foreach (var s in d.Schemas)
        {
            if (d.FindHandler(s.Scope, s.Name) is not { } h || map(s, h) is not { } handler)
            {
                continue;
            }

            if (r.FindSchema(s.Scope, s.Name) is null)
            {
                r.Add(s, handler);
                continue;
            }

            _ = s.Scope switch
            {
                OpScope.Process => r.Process(s.Name, handler),
                OpScope.Program => r.Program(s.Name, handler),
                OpScope.Tree => r.Tree(s.Name, handler),
                _ => r.Global(s.Name, handler),
            };
        }

        return r;
    }

    private static readonly string[] BpfOps = ["map_create", "prog_load"];

    /// <summary>Processes, mappings, files and fault injection (no bpf): every property holds.</summary>
    internal static OpRegistry VmOnly { get; } = Registry((s, h) => BpfOps.Contains(s.Name) ? null : h);

    [Fact]
    public void ProcessesMappingsAndFaultInjectionKeepEveryProperty()
    {
        var result = new Checker(new CheckOptions { Seed = 1, MaxSequences = Sequences, Registry = VmOnly }).Run();
        Assert.True(result.Failure is null, result.Failure?.Scenario);
        Assert.Equal(0, result.Stats.InvalidSteps);
        Assert.Equal(Sequences, result.Stats.Sequences);

        // The generator reaches the paths it is weighted towards, and hostile inputs come back as errnos.
        var o = result.Stats.Outcomes;
        foreach (var op in new[] { "mmap", "munmap", "mprotect", "mremap", "fork", "exit", "read", "write", "close", "open_test" })
        {
            Assert.True(o.ContainsKey(op), op);
        }

        Assert.Contains("EINVAL", o["mmap"].Keys);
        Assert.Contains("ENOMEM", o["mmap"].Keys);
        Assert.Contains("EBADF", o["close"].Keys);
        Assert.Contains("SIGSEGV", o["read"].Keys);
        Assert.Contains("EFAULT", o["mremap"].Keys);
    }

    [Fact]
    public void WholeSystemFindingsReplayAsScenarios()
    {
        // Every layer, bpf included. A violation found here is a real bug in a layer: whatever it is, its
        // counterexample must replay under mmsim run, failing at the line it names.
        var result = new Checker(new CheckOptions { Seed = 2, MaxSequences = Sequences }).Run();

        // Every generated step is valid where it stands (the generator follows closes, exits and program lifetimes).
        Assert.True(result.Stats.InvalidSteps == 0, result.Stats.FirstInvalid);
        if (result.Failure is { } f)
        {
            Assert.True(f.Verified, f.Scenario);
            AssertReplayFails(f, OpRegistry.Default);
        }
    }

    /// <summary>
    /// Every generated step is a valid statement where it stands: a program statement names only a program that is
    /// still loaded (seed 0 sequence 324 once closed its only program fd and then called a kfunc through it).
    /// </summary>
    [Fact]
    public void GeneratedStepsNameOnlyLivePrograms()
    {
        var result = new Checker(new CheckOptions { Seed = 0, MaxSequences = 400, CheckInvariants = false }).Run();
        Assert.True(result.Stats.InvalidSteps == 0, result.Stats.FirstInvalid);
        Assert.Equal(400, result.Stats.Sequences);
    }

    /// <summary>Program-side arena accesses (PROBE_MEM32 load/store through a loaded program) are a normal share of the steps.</summary>
    [Fact]
    public void ProgramArenaAccessesAreANormalShare()
    {
        var result = new Checker(new CheckOptions { Seed = 0, MaxSequences = 300, CheckInvariants = false }).Run();
        var o = result.Stats.Outcomes;
        var accesses = o.GetValueOrDefault("load")?.Values.Sum() + o.GetValueOrDefault("store")?.Values.Sum() ?? 0;
        Assert.True(accesses * 100 >= 2 * result.Stats.Steps, $"{accesses} program-side arena accesses in {result.Stats.Steps} steps");
    }

    [Fact]
    public void SequencesDependOnlyOnSeedAndIndex()
    {
        var a = new Checker(new CheckOptions { Seed = 7, Registry = VmOnly });
        var b = new Checker(new CheckOptions { Seed = 7, Registry = VmOnly, ShardIndex = 1, ShardCount = 3 });
        for (var i = 0; i < 20; i++)
        {
            Assert.Equal(Text(a.RunSequence(i).Steps), Text(b.RunSequence(i).Steps));
        }

        Assert.NotEqual(Text(a.RunSequence(0).Steps), Text(new Checker(new CheckOptions { Seed = 8, Registry = VmOnly }).RunSequence(0).Steps));
        var r1 = new Checker(new CheckOptions { Seed = 3, MaxSteps = 2000, Registry = VmOnly }).Run();
        var r2 = new Checker(new CheckOptions { Seed = 3, MaxSteps = 2000, Registry = VmOnly }).Run();
        Assert.Equal(r1.Stats.Steps, r2.Stats.Steps);
        Assert.Equal(r1.Stats.CoverageTable(), r2.Stats.CoverageTable());
    }

    /// <summary>A bug planted in munmap (a WARN once a process holds three VMAs after a munmap) is found and shrunk.</summary>
    [Fact]
    public void PlantedBugIsFoundShrunkAndReplayed()
    {
        var buggy = Registry((s, h) => s.Name != "munmap" || BpfOps.Contains(s.Name) ? (BpfOps.Contains(s.Name) ? null : h) : ctx =>
        {
            var r = h(ctx);
            ctx.Machine.Reports.WarnOn(r.IsSuccess && (ctx.Process.Mm?.MapCount ?? 0) >= 3, "planted_bug", "three VMAs after munmap");
            return r;
        });
        var o = new CheckOptions { Seed = 11, MaxSequences = 2000, Registry = buggy };
        var result = new Checker(o).Run();
        var f = Assert.IsType<CheckFailure>(result.Failure);
        Assert.Equal("WARN in planted_bug", f.Shrunk.Kind);
        Assert.True(f.Steps.Count <= 8, f.Scenario);
        Assert.True(f.Steps.Count < f.OriginalSteps || f.OriginalSteps <= 8, f.Scenario);
        Assert.True(f.Verified, f.Scenario);
        AssertReplayFails(f, buggy);
        Assert.Contains("# violation: WARN in planted_bug", f.Scenario, StringComparison.Ordinal);

        // Deterministic: the same options give the same counterexample, byte for byte.
        Assert.Equal(f.Scenario, new Checker(o).Run().Failure!.Scenario);

        // A shard explores only its own sequences: I, I+N, ...
        var odd = new Checker(o with { ShardIndex = 1, ShardCount = 2 }).Run().Failure!;
        Assert.Equal(1, odd.Sequence % 2);
    }

    /// <summary>
    /// Rediscovery: on Linux v6.12 as released the checker finds the arena fork/split bug by itself (the arena's
    /// vml->vma left dangling, which the next zap dereferences) and shrinks it to at most 8 steps; on 6.12.y the
    /// same number of sequences does not reach it.
    /// </summary>
    [Fact]
    public void ArenaForkSplitBugIsRediscoveredOn6120Only()
    {
        var o = new CheckOptions { Profile = MmSim.Kernel.KernelProfile.V6_12_0, MaxSequences = 1000 };
        var found = new Checker(o).Run();
        var f = Assert.IsType<CheckFailure>(found.Failure);
        Assert.True(f.Shrunk.Kind is "invariant bpf" || f.Shrunk.Kind.StartsWith("KASAN", StringComparison.Ordinal), f.Scenario);
        Assert.Contains("arena", f.Shrunk.Message, StringComparison.Ordinal);
        Assert.True(f.Steps.Count <= 8, f.Scenario);
        Assert.True(f.Verified, f.Scenario);
        AssertReplayFails(f, OpRegistry.Default);

        var fixedKernel = new Checker(o with { Profile = MmSim.Kernel.KernelProfile.V6_12_y, MaxSequences = found.Stats.Sequences }).Run();
        Assert.True(fixedKernel.Failure is null, fixedKernel.Failure?.Scenario);
    }

    private static void AssertReplayFails(CheckFailure f, OpRegistry registry)
    {
        var output = new StringWriter();
        var run = new ScenarioRunner(output, TextWriter.Null, new RunnerOptions { Registry = registry }).RunText("ce.mms", f.Scenario);
        Assert.True(run.ExitCode is ExitCodes.Failed or ExitCodes.Internal, output.ToString());
        var failedAt = run.ExitCode == ExitCodes.Failed ? run.FailedLines[0] : run.Diagnostics[^1].Line;
        Assert.Equal(f.FailingLine, failedAt);
        Assert.Contains("# violation", f.Scenario.Split('\n')[f.FailingLine - 1], StringComparison.Ordinal);
    }

    private static string Text(IEnumerable<CheckStep> steps) => string.Join("\n", steps.Select(s => s.Line));

    [Fact]
    public void ShrinkCandidatesAreSmaller()
    {
        Assert.All(Shrinker.Candidates(CheckArg.Num(0x5000)), c => Assert.True(c.Number < 0x5000));
        Assert.Empty(Shrinker.Candidates(CheckArg.Num(0)));
        Assert.All(Shrinker.Candidates(CheckArg.Ref("a", -0x3000)), c => Assert.True(Math.Abs(c.Offset) < 0x3000));
        Assert.Equal("a1 + 2p", CheckArg.Ref("a1", 0x2000).Value);
        Assert.Equal("a1 - 1", CheckArg.Ref("a1", -1).Value);
        Assert.Equal("0xfffffffffffff000", CheckArg.Num(0xfffffffffffff000).Value);
        Assert.Equal("p1: a2 = mmap len=4p prot=rw => any",
            new CheckStep("p1", "a2", "mmap", [CheckArg.Num(0x4000, "len"), CheckArg.Word("rw", "prot")]).Line);
    }
}
