using MmSim.Kernel;
using MmSim.Mm;
using Xunit;

namespace MmSim.Tests.Properties;

/// <summary>
/// For a random sequence of page and slab allocations, failing the Nth allocation at every N fails cleanly:
/// the failing call returns NULL, everything else proceeds, and after freeing all no page and no charge is left.
/// </summary>
public class FailNthSweepTests
{
    private static (int Calls, bool Clean, string Why) Run(int failNth, bool slab, ulong seed)
    {
        var m = TestMachines.WithFrames(4096, seed, memcg: 16UL << 20);
        var start = m.PageAlloc.NrFreePages;
        var rnd = new SimRandom(seed);
        if (failNth > 0)
        {
            (slab ? m.FaultInject.FailSlab : m.FaultInject.FailPageAlloc).SetNth(failNth);
        }

        var pages = new List<(long Pfn, int Order)>();
        var objs = new List<ulong>();
        var nulls = 0;
        for (var step = 0; step < 60; step++)
        {
            var r = rnd.NextBelow(10);
            if (r < 4)
            {
                var size = (ulong)rnd.Next(1, 9000);
                var gfp = rnd.Percent(50) ? Gfp.GFP_KERNEL_ACCOUNT : Gfp.GFP_KERNEL;
                var p = m.Slab.Kmalloc(size, gfp);
                if (p == 0)
                {
                    nulls++;
                }
                else
                {
                    objs.Add(p);
                }
            }
            else if (r < 7)
            {
                var order = rnd.Next(0, 4);
                var pfn = m.PageAlloc.AllocPages(rnd.Percent(50) ? Gfp.GFP_KERNEL_ACCOUNT : Gfp.GFP_KERNEL, order);
                if (pfn == PageAllocator.NoPage)
                {
                    nulls++;
                }
                else
                {
                    pages.Add((pfn, order));
                }
            }
            else if (r < 9 && objs.Count > 0)
            {
                var i = rnd.Next(0, objs.Count);
                m.Slab.Kfree(objs[i]);
                objs.RemoveAt(i);
            }
            else if (pages.Count > 0)
            {
                var i = rnd.Next(0, pages.Count);
                m.PageAlloc.FreePages(pages[i].Pfn, pages[i].Order);
                pages.RemoveAt(i);
            }
        }

        foreach (var p in objs)
        {
            m.Slab.Kfree(p);
        }

        foreach (var (pfn, order) in pages)
        {
            m.PageAlloc.FreePages(pfn, order);
        }

        var injected = (slab ? m.FaultInject.FailSlab : m.FaultInject.FailPageAlloc).Injected;
        var v = m.CheckInvariants();
        var clean = m.PageAlloc.NrFreePages == start && m.Memcg.Usage == 0 && v.Count == 0 && m.Reports.KasanCount == 0
                    && nulls == injected;
        return ((int)injected, clean, $"nulls {nulls} injected {injected} free {m.PageAlloc.NrFreePages}/{start} memcg {m.Memcg.Usage} {string.Join(";", v)}");
    }

    [Theory]
    [InlineData(false, 1UL)]
    [InlineData(true, 1UL)]
    [InlineData(false, 2UL)]
    [InlineData(true, 2UL)]
    public void EveryFailurePointFailsCleanly(bool slab, ulong seed)
    {
        var (_, baseline, why0) = Run(0, slab, seed);
        Assert.True(baseline, why0);
        var injectedSome = 0;
        for (var n = 1; n <= 80; n++)
        {
            var (calls, clean, why) = Run(n, slab, seed);
            Assert.True(clean, $"fail-nth {n}: {why}");
            injectedSome += calls;
        }

        Assert.True(injectedSome > 10, "the sweep should inject failures at many points");
    }
}
