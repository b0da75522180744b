using MmSim.Kernel;
using MmSim.Mm;
using Xunit;

namespace MmSim.Tests.Mm;

public class SlubTests
{
    private sealed class Widget : SlabObject
    {
        public int Value { get; set; }
    }

    [Theory]
    [InlineData(1UL, 8UL)]
    [InlineData(8UL, 8UL)]
    [InlineData(9UL, 16UL)]
    [InlineData(65UL, 96UL)]
    [InlineData(97UL, 128UL)]
    [InlineData(129UL, 192UL)]
    [InlineData(193UL, 256UL)]
    [InlineData(4097UL, 8192UL)]
    [InlineData(8192UL, 8192UL)]
    [InlineData(8193UL, 16384UL)]
    [InlineData(4UL << 20, 4UL << 20)]
    public void KmallocServesTheKernelSizeClass(ulong size, ulong usable)
    {
        var m = TestMachines.Default();
        var p = m.Slab.Kmalloc(size, Gfp.GFP_KERNEL);
        Assert.NotEqual(0UL, p);
        Assert.Equal(usable, m.Slab.Ksize(p));
        m.Slab.Kfree(p);
        Assert.Equal(m.PageAlloc.TotalPages, m.PageAlloc.NrFreePages);
        TestMachines.AssertInvariants(m);
    }

    [Fact]
    public void KmallocZeroReturnsZeroSizePtrAndKfreeAcceptsIt()
    {
        var m = TestMachines.Default();
        Assert.Equal(SlabAllocator.ZERO_SIZE_PTR, m.Slab.Kmalloc(0, Gfp.GFP_KERNEL));
        m.Slab.Kfree(SlabAllocator.ZERO_SIZE_PTR);
        m.Slab.Kfree(0);
        Assert.Equal(0, m.Reports.KasanCount);
    }

    [Fact]
    public void KmallocAboveMaxSizeFailsWithWarnUnlessNowarn()
    {
        var m = TestMachines.Default();
        Assert.Equal(0UL, m.Slab.Kmalloc(SlabAllocator.KMALLOC_MAX_SIZE + 1, Gfp.GFP_KERNEL | Gfp.__GFP_NOWARN));
        Assert.Equal(0, m.Reports.WarnCount);
        Assert.Equal(0UL, m.Slab.Kmalloc(SlabAllocator.KMALLOC_MAX_SIZE + 1, Gfp.GFP_KERNEL));
        Assert.Equal(1, m.Reports.WarnCount);
    }

    [Fact]
    public void SlabOrdersFollowCalculateOrder()
    {
        var m = TestMachines.Default();
        Assert.Equal(0, m.Slab.KmallocSlab(8, Gfp.GFP_KERNEL).Order);
        Assert.Equal(512, m.Slab.KmallocSlab(8, Gfp.GFP_KERNEL).ObjectsPerSlab);
        Assert.Equal(3, m.Slab.KmallocSlab(8192, Gfp.GFP_KERNEL).Order);
        Assert.Equal(2, m.Slab.KmallocSlab(1024, Gfp.GFP_KERNEL).Order); // 2 CPUs: min_objects 12
        Assert.Equal("kmalloc-cg-64", m.Slab.KmallocSlab(33, Gfp.GFP_KERNEL_ACCOUNT).Name);
    }

    [Fact]
    public void EmptySlabsGoBackToThePageAllocator()
    {
        var m = TestMachines.Default();
        var start = m.PageAlloc.NrFreePages;
        var ptrs = Enumerable.Range(0, 1000).Select(_ => m.Slab.Kmalloc(64, Gfp.GFP_KERNEL)).ToList();
        Assert.Equal(start - 16, m.PageAlloc.NrFreePages); // 64 objects of 64 bytes per page
        Assert.Equal(ptrs.Count, ptrs.Distinct().Count());
        foreach (var p in ptrs)
        {
            m.Slab.Kfree(p);
        }

        Assert.Equal(start, m.PageAlloc.NrFreePages);
        TestMachines.AssertInvariants(m);
    }

    [Fact]
    public void DoubleKfreeIsAKasanDoubleFree()
    {
        var m = TestMachines.Default();
        var keep = m.Slab.Kmalloc(32, Gfp.GFP_KERNEL);
        var p = m.Slab.Kmalloc(32, Gfp.GFP_KERNEL);
        m.Slab.Kfree(p);
        m.Slab.Kfree(p);
        Assert.Single(m.Reports.Kasan);
        Assert.Equal(KasanBugType.DoubleFree, m.Reports.Kasan[0].Type);
        Assert.StartsWith("BUG: KASAN: double-free in", m.Reports.Kasan[0].ToString(), StringComparison.Ordinal);
        m.Slab.Kfree(keep);
        TestMachines.AssertInvariants(m);
    }

    [Fact]
    public void KfreeOfAnInteriorPointerIsAnInvalidFree()
    {
        var m = TestMachines.Default();
        var p = m.Slab.Kmalloc(64, Gfp.GFP_KERNEL);
        m.Slab.Kfree(p + 8);
        Assert.Equal(KasanBugType.InvalidFree, Assert.Single(m.Reports.Kasan).Type);
        Assert.Equal(64UL, m.Slab.Ksize(p));
    }

    [Fact]
    public void TypedObjectsAreCheckedForUseAfterFree()
    {
        var m = TestMachines.Default();
        var cache = m.Slab.KmemCacheCreate("widget", 40);
        var w = m.Slab.AllocObject(cache, Gfp.GFP_KERNEL, () => new Widget { Value = 7 });
        Assert.NotNull(w);
        Assert.True(m.Kasan.Check(w, "widget_use"));
        m.Slab.FreeObject(w);
        Assert.False(m.Kasan.Check(w, "widget_use"));
        var r = Assert.Single(m.Reports.Kasan);
        Assert.Equal("BUG: KASAN: slab-use-after-free in widget_use", r.ToString()[..r.ToString().IndexOf(':', 20)]);
        m.Slab.FreeObject(w);
        Assert.Equal(KasanBugType.DoubleFree, m.Reports.Kasan[1].Type);
        Assert.Equal(m.PageAlloc.TotalPages, m.PageAlloc.NrFreePages);
    }

    [Fact]
    public void AccountedObjectsAreChargedAndUnchargedExactly()
    {
        var m = TestMachines.WithFrames(1024, memcg: 1000);
        var a = m.Slab.Kmalloc(500, Gfp.GFP_KERNEL_ACCOUNT);
        Assert.NotEqual(0UL, a);
        Assert.Equal(512UL, m.Memcg.Usage);
        Assert.Equal(0UL, m.Slab.Kmalloc(500, Gfp.GFP_KERNEL_ACCOUNT));
        Assert.Equal(512UL, m.Memcg.Usage);
        var cache = m.Slab.KmemCacheCreate("plain", 100);
        var b = m.Slab.KmemCacheAlloc(cache, Gfp.GFP_KERNEL_ACCOUNT);
        Assert.Equal(616UL, m.Memcg.Usage);
        m.Slab.KmemCacheFree(cache, b);
        m.Slab.Kfree(a);
        Assert.Equal(0UL, m.Memcg.Usage);
        TestMachines.AssertInvariants(m);
    }

    [Fact]
    public void KernelMemoryDetectsUseAfterFreeAndOutOfBounds()
    {
        var m = TestMachines.Default();
        var keep = m.Slab.Kmalloc(24, Gfp.GFP_KERNEL); // keeps the slab alive after p is freed
        var p = m.Slab.Kmalloc(24, Gfp.GFP_KERNEL);
        Assert.True(m.KernelMem.WriteValue(p + 16, 8, 0x1122334455667788UL, "t"));
        Assert.True(m.KernelMem.ReadValue(p + 16, 8, "t", out var v));
        Assert.Equal(0x1122334455667788UL, v);
        Assert.False(m.KernelMem.ReadValue(p + 20, 8, "oob_reader", out _));
        Assert.Equal(KasanBugType.SlabOutOfBounds, m.Reports.Kasan[^1].Type);
        m.Slab.Kfree(p);
        Assert.False(m.KernelMem.ReadValue(p, 8, "uaf_reader", out _));
        Assert.Equal(KasanBugType.SlabUseAfterFree, m.Reports.Kasan[^1].Type);
        Assert.Equal("uaf_reader", m.Reports.Kasan[^1].Function);
        m.Slab.Kfree(keep);
        Assert.False(m.KernelMem.ReadValue(keep, 8, "page_uaf_reader", out _));
        Assert.Equal(KasanBugType.UseAfterFree, m.Reports.Kasan[^1].Type);
    }

    [Fact]
    public void KzallocZeroesAReusedSlot()
    {
        var m = TestMachines.Default();
        var keep = m.Slab.Kmalloc(64, Gfp.GFP_KERNEL);
        var p = m.Slab.Kmalloc(64, Gfp.GFP_KERNEL);
        m.KernelMem.WriteValue(p, 8, ulong.MaxValue, "t");
        m.Slab.Kfree(p);
        var q = m.Slab.Kzalloc(64, Gfp.GFP_KERNEL);
        Assert.Equal(p, q);
        m.KernelMem.ReadValue(q, 8, "t", out var v);
        Assert.Equal(0UL, v);
        m.Slab.Kfree(keep);
    }
}
