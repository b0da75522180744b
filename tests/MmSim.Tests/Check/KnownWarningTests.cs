using MmSim.Check;
using MmSim.Kernel;
using MmSim.Scenario;
using Xunit;

namespace MmSim.Tests.Check;

/// <summary>
/// WARN_ON_ONCE(arena->user_vm_start) in arena_get_unmapped_area is reachable from user space on every 6.12
/// kernel: MmSim reproduces it, and the checker counts it as a known kernel warning unless --strict.
/// </summary>
public sealed class KnownWarningTests
{
    private static readonly CheckStep[] Steps =
    [
        new(null, null, "spawn", [CheckArg.Word("p1")]),
        new("p1", "m", "map_create", [CheckArg.Word("arena", "type"), CheckArg.Num(1, "entries"), CheckArg.Word("mmapable", "flags"), CheckArg.Num(0, "extra")]),
        new("p1", "a", "mmap", [CheckArg.Num(0x1000, "addr"), CheckArg.Num(0x1_0000_0000, "len"), CheckArg.Word("rw", "prot"), CheckArg.Word("shared", "flags"), CheckArg.Ref("m", 0, "fd")]),
        new("p1", "b", "mmap", [CheckArg.Num(0x1_0000_0000, "addr"), CheckArg.Num(0x1_0000_0000, "len"), CheckArg.Word("rw", "prot"), CheckArg.Word("shared", "flags"), CheckArg.Ref("m", 0, "fd")]),
    ];

    [Fact]
    public void TheArenaUnmappedAreaWarningIsKnownInEveryProfile()
    {
        foreach (var p in KernelProfile.All)
        {
            Assert.Contains("arena_get_unmapped_area", p.KnownUserReachableWarnings);
        }
    }

    [Fact]
    public void StrictCountsTheKnownWarningAsAViolationAndDefaultDoesNot()
    {
        const string machine = "machine ram=8M kernel=6.12.y";
        var strict = SequenceExecutor.Replay(machine, OpRegistry.Default, Steps, out var invalid1, strict: true);
        Assert.False(invalid1);
        Assert.NotNull(strict);
        Assert.Equal("WARN in arena_get_unmapped_area", strict!.Kind);

        var ex = new SequenceExecutor(machine, OpRegistry.Default);
        for (var i = 0; i < Steps.Length; i++)
        {
            Assert.Equal(StepVerdict.Ok, ex.Run(Steps[i], i, out var v));
            Assert.Null(v);
        }

        Assert.True(ex.LastWarnKnown);
        Assert.Equal(1, ex.Machine.Reports.WarnCount);
    }

    [Fact]
    public void AKnownWarningIsStillAViolationWhereTheStepExpectedSomethingElse()
    {
        var steps = Steps.ToArray();
        steps[^1] = steps[^1] with { Expect = "EBUSY" };
        var v = SequenceExecutor.Replay("machine ram=8M", OpRegistry.Default, steps, out var invalid);
        Assert.False(invalid);
        Assert.NotNull(v);
        Assert.Equal("WARN in arena_get_unmapped_area", v!.Kind);
    }
}
