using MmSim.Kernel;
using MmSim.Mm;
using Xunit;

namespace MmSim.Tests.Mm;

public class FaultInjectionTests
{
    [Fact]
    public void FailNthFailsExactlyTheNthPageAllocation()
    {
        var m = TestMachines.WithFrames(64);
        m.FaultInject.FailPageAlloc.SetNth(3);
        Assert.NotEqual(PageAllocator.NoPage, m.PageAlloc.AllocPage(Gfp.GFP_KERNEL));
        Assert.NotEqual(PageAllocator.NoPage, m.PageAlloc.AllocPage(Gfp.GFP_KERNEL));
        Assert.Equal(PageAllocator.NoPage, m.PageAlloc.AllocPage(Gfp.GFP_KERNEL));
        Assert.NotEqual(PageAllocator.NoPage, m.PageAlloc.AllocPage(Gfp.GFP_KERNEL));
        Assert.Equal(1, m.FaultInject.FailPageAlloc.Injected);
        Assert.Equal(61, m.PageAlloc.NrFreePages);
    }

    [Fact]
    public void NofailAllocationsAreNeverFailed()
    {
        var m = TestMachines.WithFrames(64);
        m.FaultInject.FailPageAlloc.SetNth(1);
        Assert.NotEqual(PageAllocator.NoPage, m.PageAlloc.AllocPage(Gfp.GFP_KERNEL | Gfp.__GFP_NOFAIL));
        Assert.Equal(PageAllocator.NoPage, m.PageAlloc.AllocPage(Gfp.GFP_KERNEL));
    }

    [Fact]
    public void KernelDefaultsLeaveSleepingAndOrderZeroAllocationsAlone()
    {
        var m = TestMachines.WithFrames(64);
        var a = m.FaultInject.FailPageAlloc;
        a.Probability = 100;
        a.Times = -1;
        a.IgnoreGfpReclaim = true;
        a.MinOrder = 1;
        Assert.NotEqual(PageAllocator.NoPage, m.PageAlloc.AllocPages(Gfp.GFP_KERNEL, 1));
        Assert.NotEqual(PageAllocator.NoPage, m.PageAlloc.AllocPages(Gfp.GFP_ATOMIC, 0));
        Assert.Equal(PageAllocator.NoPage, m.PageAlloc.AllocPages(Gfp.GFP_ATOMIC, 1));
    }

    [Fact]
    public void ProbabilityIsDeterministicForASeed()
    {
        static string Run(ulong seed)
        {
            var m = TestMachines.WithFrames(4096, seed);
            m.FaultInject.FailSlab.Probability = 30;
            m.FaultInject.FailSlab.Times = -1;
            return string.Concat(Enumerable.Range(0, 64).Select(_ => m.Slab.Kmalloc(32, Gfp.GFP_KERNEL) == 0 ? 'x' : '.'));
        }

        Assert.Equal(Run(42), Run(42));
        Assert.NotEqual(Run(42), Run(43));
        Assert.Contains('x', Run(42));
    }

    [Fact]
    public void TimesAndIntervalLimitInjection()
    {
        var m = TestMachines.WithFrames(64);
        var a = m.FaultInject.FailPageAlloc;
        a.Probability = 100;
        a.Interval = 2;
        a.Times = 2;
        var results = Enumerable.Range(0, 8).Select(_ => m.PageAlloc.AllocPage(Gfp.GFP_ATOMIC) == PageAllocator.NoPage).ToArray();
        Assert.Equal([false, true, false, true, false, false, false, false], results);
    }
}
