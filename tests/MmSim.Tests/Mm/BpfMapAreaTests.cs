using MmSim.Kernel;
using MmSim.Mm;
using Xunit;
using static MmSim.Tests.Mm.VmallocTestMachine;

namespace MmSim.Tests.Mm;

public class BpfMapAreaTests
{
    private const ulong Costly = K.PAGE_SIZE << K.PAGE_ALLOC_COSTLY_ORDER;

    [Fact]
    public void SmallAreasAreAccountedKmalloc()
    {
        var m = Create();
        var free = m.PageAlloc.NrFreePages;
        var a = m.BpfMapArea.BpfMapAreaAlloc(100, -1);
        Assert.False(VmallocAllocator.IsVmallocAddr(a));
        Assert.Equal(128UL, m.Slab.Ksize(a));
        Assert.Equal(128UL, m.Memcg.Usage);
        Assert.Equal(1, m.Slab.Caches.Single(c => c.Name == "kmalloc-cg-128").ActiveObjects);
        m.BpfMapArea.BpfMapAreaFree(a);
        AssertPristine(m, free);
    }

    [Fact]
    public void ZeroBytesIsZeroSizePtr()
    {
        var m = Create();
        Assert.Equal(SlabAllocator.ZERO_SIZE_PTR, m.BpfMapArea.BpfMapAreaAlloc(0, -1));
        m.BpfMapArea.BpfMapAreaFree(SlabAllocator.ZERO_SIZE_PTR);
        Assert.Equal(0, m.Reports.KasanCount + m.Reports.WarnCount);
    }

    [Fact]
    public void CostlyOrderBoundary()
    {
        var m = Create();
        var free = m.PageAlloc.NrFreePages;
        var at = m.BpfMapArea.BpfMapAreaAlloc(Costly, -1);
        Assert.False(VmallocAllocator.IsVmallocAddr(at));
        Assert.Equal(Costly, m.Slab.Ksize(at));
        Assert.Equal(Costly, m.Memcg.Usage);

        var above = m.BpfMapArea.BpfMapAreaAlloc(Costly + 1, -1, "array_map_alloc");
        Assert.True(VmallocAllocator.IsVmallocAddr(above));
        var vm = m.Vmalloc.FindVmArea(above)!;
        Assert.Equal(9, vm.NrPages);
        Assert.Equal(VmStructFlags.VM_ALLOC, vm.Flags);
        Assert.Equal(Costly + (9 * Page), m.Memcg.Usage);
        Assert.Contains("array_map_alloc pages=9 vmalloc N0=9", m.Vmalloc.VmallocInfo());

        m.BpfMapArea.BpfMapAreaFree(at);
        m.BpfMapArea.BpfMapAreaFree(above);
        AssertPristine(m, free);
    }

    [Fact]
    public void AFailedKmallocFallsThroughToVmalloc()
    {
        var m = Create();
        m.FaultInject.FailSlab.SetNth(1);
        var a = m.BpfMapArea.BpfMapAreaAlloc(100, -1);
        Assert.True(VmallocAllocator.IsVmallocAddr(a));
        Assert.Equal(1, m.Vmalloc.FindVmArea(a)!.NrPages);
        Assert.True(m.KernelMem.ReadValue(a + 96, 4, "t", out var v));
        Assert.Equal(0UL, v);
    }

    [Fact]
    public void MmapableAreasAreAlwaysVmallocUsermap()
    {
        var m = Create();
        var free = m.PageAlloc.NrFreePages;
        var a = m.BpfMapArea.BpfMapAreaMmapableAlloc(Page, -1, "array_map_alloc");
        Assert.True(VmallocAllocator.IsVmallocAddr(a));
        var vm = m.Vmalloc.FindVmArea(a)!;
        Assert.Equal(VmStructFlags.VM_ALLOC | VmStructFlags.VM_USERMAP, vm.Flags);
        Assert.Equal(Page, m.Memcg.Usage);
        Assert.Contains("array_map_alloc pages=1 vmalloc user N0=1", m.Vmalloc.VmallocInfo());
        var vma = new FakeUserMapping(m, 0x10000000, 0x10001000);
        Assert.Equal(0, m.Vmalloc.RemapVmallocRange(vma, a, 0));
        vma.Unmap();
        m.BpfMapArea.BpfMapAreaFree(a);
        AssertPristine(m, free);
    }

    [Fact]
    public void AnUnalignedMmapableSizeIsABug()
    {
        var m = Create();
        Assert.Throws<KernelBugException>(() => m.BpfMapArea.BpfMapAreaMmapableAlloc(Page + 1, -1));
    }

    [Fact]
    public void HugeSizesFailWithoutWarnings()
    {
        var m = Create();
        Assert.Equal(0UL, m.BpfMapArea.BpfMapAreaAlloc(ulong.MaxValue, -1));
        Assert.Equal(0UL, m.BpfMapArea.BpfMapAreaAlloc(ulong.MaxValue - 1, -1));
        Assert.Equal(0UL, m.BpfMapArea.BpfMapAreaAlloc(1UL << 40, -1));
        Assert.Equal(0UL, m.BpfMapArea.BpfMapAreaMmapableAlloc(1UL << 40, -1));
        Assert.Equal(0, m.Reports.WarnCount + m.Reports.KasanCount);
        Assert.Equal(0, m.Vmalloc.NrBusyAreas);
    }

    [Fact]
    public void TheMemcgLimitMakesItFailCleanly()
    {
        var m = Create(memcgLimit: 16 * Page);
        var free = m.PageAlloc.NrFreePages;
        var a = m.BpfMapArea.BpfMapAreaAlloc(12 * Page, -1);
        Assert.NotEqual(0UL, a);
        Assert.Equal(0UL, m.BpfMapArea.BpfMapAreaAlloc(8 * Page, -1));
        Assert.Equal(0UL, m.BpfMapArea.BpfMapAreaMmapableAlloc(8 * Page, -1));
        Assert.Equal(0, m.Reports.WarnCount);
        m.BpfMapArea.BpfMapAreaFree(a);
        AssertPristine(m, free);
    }

    [Fact]
    public void NobpfLeavesTheAllocationUnaccounted()
    {
        var m = Create();
        m.BpfMapArea.MemcgBpfEnabled = false;
        var a = m.BpfMapArea.BpfMapAreaAlloc(64 * Page, -1);
        Assert.NotEqual(0UL, a);
        Assert.Equal(0UL, m.Memcg.Usage);
    }
}
