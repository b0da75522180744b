using MmSim.Kernel;
using Xunit;

namespace MmSim.Tests.Mm;

/// <summary>Machines for the vmalloc tests, and assertions every vmalloc test makes.</summary>
internal static class VmallocTestMachine
{
    public const ulong Page = K.PAGE_SIZE;

    public static Machine Create(ulong ramBytes = 64UL << 20, int cpus = 2, ulong? memcgLimit = null) =>
        new(new MachineConfig { RamBytes = ramBytes, Cpus = cpus, MemcgLimit = memcgLimit, Seed = 1 });

    /// <summary>Every registered invariant holds.</summary>
    public static void AssertInvariants(Machine m)
    {
        var v = m.CheckInvariants();
        Assert.True(v.Count == 0, string.Join("\n", v));
    }

    /// <summary>Slab objects live across all caches.</summary>
    public static long LiveSlabObjects(Machine m) => m.Slab.Caches.Sum(c => c.ActiveObjects);

    /// <summary>The machine's memory is back where it started: every page free, no slab object, no area.</summary>
    public static void AssertPristine(Machine m, long freePagesAtStart)
    {
        m.Vmalloc.PurgeVmapAreaLazy();
        AssertInvariants(m);
        Assert.Equal(0, LiveSlabObjects(m));
        Assert.Equal(0, m.Vmalloc.NrBusyAreas);
        Assert.Equal(0, m.Vmalloc.NrLazyAreas);
        Assert.Equal(0, m.Vmalloc.NrVmallocPages);
        Assert.Equal(freePagesAtStart, m.PageAlloc.NrFreePages);
        Assert.Equal(0UL, m.Memcg.Usage);
    }
}
