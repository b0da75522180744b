using MmSim.Kernel;
using MmSim.Mm;
using Xunit;
using static MmSim.Tests.Mm.VmallocTestMachine;

namespace MmSim.Tests.Mm;

public class KvmallocTests
{
    private static bool IsVmalloc(ulong a) => VmallocAllocator.IsVmallocAddr(a);

    private static bool IsDirectMap(ulong a) => a >= K.PAGE_OFFSET && !IsVmalloc(a);

    [Fact]
    public void PageSizeIsKmallocAndNeverFallsBack()
    {
        var m = Create();
        var a = m.Vmalloc.Kvmalloc(Page, Gfp.GFP_KERNEL);
        Assert.True(IsDirectMap(a));
        Assert.Equal(Page, m.Slab.Ksize(a));

        m.FaultInject.FailSlab.SetNth(1);
        Assert.Equal(0UL, m.Vmalloc.Kvmalloc(Page, Gfp.GFP_KERNEL));
        Assert.Equal(1, m.FaultInject.FailSlab.Injected);
        Assert.Equal(0, m.Vmalloc.NrBusyAreas);
    }

    [Fact]
    public void PageSizePlusOneFallsBackToVmallocWhenKmallocFails()
    {
        var m = Create();
        var free = m.PageAlloc.NrFreePages;
        var a = m.Vmalloc.Kvmalloc(Page + 1, Gfp.GFP_KERNEL);
        Assert.True(IsDirectMap(a));
        Assert.Equal(2 * Page, m.Slab.Ksize(a));

        m.FaultInject.FailSlab.SetNth(1);
        var b = m.Vmalloc.Kvmalloc(Page + 1, Gfp.GFP_KERNEL, "kv_caller");
        Assert.True(IsVmalloc(b));
        var vm = m.Vmalloc.FindVmArea(b)!;
        Assert.Equal(2, vm.NrPages);
        Assert.Equal(VmStructFlags.VM_ALLOC | VmStructFlags.VM_ALLOW_HUGE_VMAP, vm.Flags);
        Assert.Contains("kv_caller pages=2 vmalloc N0=2", m.Vmalloc.VmallocInfo());

        m.Vmalloc.Kvfree(a);
        m.Vmalloc.Kvfree(b);
        AssertPristine(m, free);
    }

    [Fact]
    public void KmallocMaxCacheSizeBoundary()
    {
        var m = Create();
        var free = m.PageAlloc.NrFreePages;
        var slab = m.Vmalloc.Kvmalloc(SlabAllocator.KMALLOC_MAX_CACHE_SIZE, Gfp.GFP_KERNEL);
        Assert.Equal(SlabAllocator.KMALLOC_MAX_CACHE_SIZE, m.Slab.Ksize(slab));

        // One byte more goes to the page allocator (kmalloc_large, order 2).
        var large = m.Vmalloc.Kvmalloc(SlabAllocator.KMALLOC_MAX_CACHE_SIZE + 1, Gfp.GFP_KERNEL);
        Assert.True(IsDirectMap(large));
        Assert.Equal(4 * Page, m.Slab.Ksize(large));

        // A failed large kmalloc falls back to vmalloc.
        m.FaultInject.FailPageAlloc.SetNth(1);
        var v = m.Vmalloc.Kvmalloc(SlabAllocator.KMALLOC_MAX_CACHE_SIZE + 1, Gfp.GFP_KERNEL);
        Assert.True(IsVmalloc(v));
        Assert.Equal(3, m.Vmalloc.FindVmArea(v)!.NrPages);

        foreach (var a in new[] { slab, large, v })
        {
            m.Vmalloc.Kvfree(a);
        }

        AssertPristine(m, free);
    }

    [Fact]
    public void KmallocMaxSizeBoundary()
    {
        var m = Create();
        var at = m.Vmalloc.Kvmalloc(SlabAllocator.KMALLOC_MAX_SIZE, Gfp.GFP_KERNEL);
        Assert.True(IsDirectMap(at));
        Assert.Equal(SlabAllocator.KMALLOC_MAX_SIZE, m.Slab.Ksize(at));

        // Above KMALLOC_MAX_SIZE kmalloc needs order 11: it fails without the order WARN (__GFP_NOWARN was added),
        // and vmalloc takes over.
        var above = m.Vmalloc.Kvmalloc(SlabAllocator.KMALLOC_MAX_SIZE + 1, Gfp.GFP_KERNEL);
        Assert.True(IsVmalloc(above));
        Assert.Equal(1025, m.Vmalloc.FindVmArea(above)!.NrPages);
        Assert.Equal(0, m.Reports.WarnCount);

        // kmalloc itself, without kvmalloc's __GFP_NOWARN, warns about the order.
        Assert.Equal(0UL, m.Slab.Kmalloc(SlabAllocator.KMALLOC_MAX_SIZE + 1, Gfp.GFP_KERNEL));
        Assert.Equal(1, m.Reports.WarnCount);
    }

    [Fact]
    public void NonBlockingGfpHasNoFallback()
    {
        var m = Create();
        m.FaultInject.FailSlab.SetNth(1);
        Assert.Equal(0UL, m.Vmalloc.Kvmalloc(Page + 1, Gfp.GFP_ATOMIC));
        m.FaultInject.FailSlab.SetNth(1);
        Assert.Equal(0UL, m.Vmalloc.Kvmalloc(Page + 1, Gfp.GFP_NOWAIT));
        Assert.Equal(0UL, m.Vmalloc.Kvmalloc(SlabAllocator.KMALLOC_MAX_SIZE + 1, Gfp.GFP_ATOMIC));
        Assert.Equal(0, m.Vmalloc.NrBusyAreas);
        Assert.Equal(0, m.Reports.WarnCount);

        // GFP_NOIO and GFP_NOFS may block: they fall back.
        m.FaultInject.FailSlab.SetNth(1);
        Assert.True(IsVmalloc(m.Vmalloc.Kvmalloc(Page + 1, Gfp.GFP_NOFS)));
    }

    [Fact]
    public void SizesAboveIntMaxWarnOnceUnlessNowarn()
    {
        var m = Create();
        Assert.Equal(0UL, m.Vmalloc.Kvmalloc(VmallocConstants.INT_MAX + 1, Gfp.GFP_KERNEL | Gfp.__GFP_NOWARN));
        Assert.Equal(0, m.Reports.WarnCount);
        Assert.Equal(0UL, m.Vmalloc.Kvmalloc(VmallocConstants.INT_MAX + 1, Gfp.GFP_KERNEL));
        Assert.Equal("__kvmalloc_node_noprof", Assert.Single(m.Reports.Warnings).Function);
        Assert.Equal(0UL, m.Vmalloc.Kvmalloc(1UL << 40, Gfp.GFP_KERNEL));
        Assert.Equal(1, m.Reports.WarnCount);

        // INT_MAX itself passes to vmalloc, which refuses more pages than the machine has: no WARN.
        Assert.Equal(0UL, m.Vmalloc.Kvmalloc(VmallocConstants.INT_MAX, Gfp.GFP_KERNEL));
        Assert.Equal(1, m.Reports.WarnCount);
        Assert.Equal(0, m.Vmalloc.NrBusyAreas + m.Vmalloc.NrLazyAreas);
    }

    [Fact]
    public void NofailIsDroppedForTheKmallocTryAboveAPage()
    {
        var m = Create();

        // Above PAGE_SIZE the kmalloc try loses __GFP_NOFAIL, so failslab can fail it; vmalloc takes over.
        m.FaultInject.FailSlab.SetNth(1);
        Assert.True(IsVmalloc(m.Vmalloc.Kvmalloc(Page + 1, Gfp.GFP_KERNEL | Gfp.__GFP_NOFAIL)));
        Assert.Equal(1, m.FaultInject.FailSlab.Injected);

        // At PAGE_SIZE the flags are passed through: failslab never fails a __GFP_NOFAIL allocation.
        m.FaultInject.FailSlab.SetNth(1);
        Assert.True(IsDirectMap(m.Vmalloc.Kvmalloc(Page, Gfp.GFP_KERNEL | Gfp.__GFP_NOFAIL)));
        Assert.Equal(1, m.FaultInject.FailSlab.Injected);
        m.FaultInject.Off();
    }

    [Fact]
    public void KvzallocAndKvfreeOfEveryKind()
    {
        var m = Create();
        var free = m.PageAlloc.NrFreePages;
        var z = m.Vmalloc.Kvzalloc(0, Gfp.GFP_KERNEL);
        Assert.Equal(SlabAllocator.ZERO_SIZE_PTR, z);
        var small = m.Vmalloc.Kvzalloc(100, Gfp.GFP_KERNEL);
        Assert.True(m.KernelMem.ReadValue(small, 8, "t", out var v));
        Assert.Equal(0UL, v);
        var big = m.Vmalloc.Kvzalloc(8UL << 20, Gfp.GFP_KERNEL);
        Assert.True(IsVmalloc(big));
        Assert.True(m.KernelMem.ReadValue(big + (5UL << 20), 8, "t", out v));
        Assert.Equal(0UL, v);
        m.Vmalloc.Kvfree(0);
        m.Vmalloc.Kvfree(z);
        m.Vmalloc.Kvfree(small);
        m.Vmalloc.Kvfree(big);
        Assert.Equal(0, m.Reports.WarnCount + m.Reports.KasanCount);
        AssertPristine(m, free);
    }
}
