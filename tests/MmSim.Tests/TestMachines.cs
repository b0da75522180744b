using MmSim.Kernel;

namespace MmSim.Tests;

/// <summary>Small machines for tests.</summary>
internal static class TestMachines
{
    public static Machine WithFrames(long frames, ulong seed = 0, ulong? memcg = null) =>
        new(new MachineConfig { RamBytes = (ulong)frames * K.PAGE_SIZE, Seed = seed, MemcgLimit = memcg });

    public static Machine Default() => new(new MachineConfig());

    public static void AssertInvariants(Machine m)
    {
        var v = m.CheckInvariants();
        Xunit.Assert.True(v.Count == 0, string.Join("\n", v));
    }
}
