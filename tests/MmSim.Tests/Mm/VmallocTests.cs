using MmSim.Kernel;
using MmSim.Mm;
using Xunit;
using static MmSim.Tests.Mm.VmallocTestMachine;

namespace MmSim.Tests.Mm;

public class VmallocTests
{
    [Fact]
    public void FirstAreasStartAtVmallocStartSeparatedByGuardPages()
    {
        var m = Create();
        var a = m.Vmalloc.Vmalloc(Page, "test_a");
        var b = m.Vmalloc.Vmalloc(2 * Page, "test_b");
        var c = m.Vmalloc.Vmalloc(1, "test_c");
        Assert.Equal(K.VMALLOC_START, a);
        Assert.Equal(K.VMALLOC_START + (2 * Page), b);
        Assert.Equal(K.VMALLOC_START + (5 * Page), c);
        var vm = m.Vmalloc.FindVmArea(b)!;
        Assert.Equal(3 * Page, vm.Size);
        Assert.Equal(2 * Page, vm.GetVmAreaSize);
        Assert.Equal(2, vm.NrPages);
        Assert.Equal(VmStructFlags.VM_ALLOC, vm.Flags);
        Assert.Equal(3, m.Vmalloc.NrBusyAreas);
        Assert.Equal(4, m.Vmalloc.NrVmallocPages);
        AssertInvariants(m);
    }

    [Fact]
    public void PagesAreFlaggedMappedAndCountedInMeminfo()
    {
        var m = Create();
        var a = m.Vmalloc.Vmalloc(3 * Page);
        var vm = m.Vmalloc.FindVmArea(a)!;
        for (var i = 0; i < 3; i++)
        {
            var pfn = m.Vmalloc.VmallocToPage(a + ((ulong)i * Page) + 17);
            Assert.Equal(vm.Pages[i], pfn);
            Assert.True(m.PageAlloc.Frame(pfn).Has(PageFlags.Vmalloc));
            Assert.Equal(1, m.PageAlloc.PageRefCount(pfn));
        }

        Assert.Equal(-1, m.Vmalloc.VmallocToPage(a + (3 * Page)));
        var meminfo = ProcViews.Meminfo(m);
        Assert.Contains("VmallocTotal:   34359738367 kB\n", meminfo);
        Assert.Contains("VmallocUsed:" + new string(' ', 10) + "12 kB\n", meminfo);
        Assert.Contains("VmallocChunk:" + new string(' ', 10) + "0 kB\n", meminfo);
    }

    [Fact]
    public void VmallocZeroWarnsOnceAndReturnsNull()
    {
        var m = Create();
        Assert.Equal(0UL, m.Vmalloc.Vmalloc(0));
        Assert.Equal(1, m.Reports.WarnCount);
        Assert.Contains("__vmalloc_node_range_noprof", m.Reports.Warnings[0].Function);
        Assert.Equal(0UL, m.Vmalloc.Vmalloc(0));
        Assert.Equal(1, m.Reports.WarnCount);
        Assert.Equal(0, LiveSlabObjects(m));
    }

    [Fact]
    public void SizeAboveTotalRamFailsWithoutAWarnReport()
    {
        var m = Create(ramBytes: 16UL << 20);
        var free = m.PageAlloc.NrFreePages;
        var total = (ulong)m.PageAlloc.TotalPages;
        Assert.Equal(0UL, m.Vmalloc.Vmalloc((total + 1) * Page));
        Assert.Equal(0UL, m.Vmalloc.VmallocGfp((total + 1) * Page, Gfp.GFP_KERNEL | Gfp.__GFP_NOWARN));
        Assert.Equal(0, m.Reports.WarnCount);
        Assert.Equal(0, m.Vmalloc.NrBusyAreas + m.Vmalloc.NrLazyAreas);
        Assert.Equal(free, m.PageAlloc.NrFreePages);

        // (size >> PAGE_SHIFT) == totalram passes the check and then runs out of pages: undone completely.
        Assert.Equal(0UL, m.Vmalloc.Vmalloc(total * Page));
        AssertPristine(m, free);
    }

    [Fact]
    public void VfreeOfNullIsANoOp()
    {
        var m = Create();
        m.Vmalloc.Vfree(0);
        Assert.Equal(0, m.Reports.WarnCount);
    }

    [Fact]
    public void VfreeOfAnUnalignedAddressWarnsTwiceAndFreesNothing()
    {
        var m = Create();
        var a = m.Vmalloc.Vmalloc(2 * Page);
        m.Vmalloc.Vfree(a + 8);
        Assert.Equal(2, m.Reports.WarnCount);
        Assert.Contains("Trying to vfree() bad address", m.Reports.Warnings[0].Message);
        Assert.Contains("Trying to vfree() nonexistent vm area", m.Reports.Warnings[1].Message);
        Assert.NotNull(m.Vmalloc.FindVmArea(a));
        Assert.Equal(2, m.Vmalloc.NrVmallocPages);
        AssertInvariants(m);
    }

    [Fact]
    public void VfreeOfAnAddressOutsideEveryAreaWarns()
    {
        var m = Create();
        m.Vmalloc.Vfree(K.VMALLOC_START + (100 * Page));
        Assert.Equal(1, m.Reports.WarnCount);
        Assert.Contains("nonexistent vm area", m.Reports.Warnings[0].Message);
    }

    [Fact]
    public void DoubleVfreeWarnsNonexistent()
    {
        var m = Create();
        var free = m.PageAlloc.NrFreePages;
        var a = m.Vmalloc.Vmalloc(Page);
        m.Vmalloc.Vfree(a);
        m.Vmalloc.Vfree(a);
        Assert.Equal(1, m.Reports.WarnCount);
        Assert.Equal(0, m.Reports.KasanCount);
        AssertPristine(m, free);
    }

    [Theory]
    [InlineData(1UL)]
    [InlineData(2UL)]
    [InlineData(3UL)]
    public void VfreeOfAnInteriorOrGuardPageAddressFreesTheWholeArea(ulong pageIndex)
    {
        var m = Create();
        var free = m.PageAlloc.NrFreePages;
        var a = m.Vmalloc.Vmalloc(3 * Page);

        // Page 3 is the guard page: it belongs to the vmap_area, so the containment lookup finds the area.
        m.Vmalloc.Vfree(a + (pageIndex * Page));
        Assert.Equal(0, m.Reports.WarnCount);
        Assert.Null(m.Vmalloc.FindVmArea(a));
        AssertPristine(m, free);
    }

    [Fact]
    public void FreedRangesAreReusedOnlyAfterAPurge()
    {
        var m = Create();
        var a = m.Vmalloc.Vmalloc(Page);
        m.Vmalloc.Vfree(a);
        Assert.Equal(1, m.Vmalloc.NrLazyAreas);
        Assert.Equal(2, m.Vmalloc.VmapLazyNr);
        Assert.Contains("unpurged vm_area", m.Vmalloc.VmallocInfo());

        var b = m.Vmalloc.Vmalloc(Page);
        Assert.Equal(a + (2 * Page), b);

        m.Vmalloc.PurgeVmapAreaLazy();
        Assert.Equal(0, m.Vmalloc.NrLazyAreas);
        Assert.Equal(0, m.Vmalloc.VmapLazyNr);
        var c = m.Vmalloc.Vmalloc(Page);
        Assert.Equal(a, c);
        AssertInvariants(m);
    }

    [Fact]
    public void LazyRangesArePurgedPastLazyMaxPages()
    {
        var m = Create(cpus: 2);
        Assert.Equal(16384, m.Vmalloc.LazyMaxPages);
        Assert.Equal(8192, Create(cpus: 1).Vmalloc.LazyMaxPages);
        Assert.Equal(24576, Create(cpus: 4).Vmalloc.LazyMaxPages);

        // 8 MiB sparse reservations: 2049 pages each with the guard. 8 of them are 16392 pages > 16384.
        var areas = Enumerable.Range(0, 8).Select(_ => m.Vmalloc.GetVmArea(8UL << 20, VmStructFlags.VM_SPARSE)!).ToList();
        for (var i = 0; i < 7; i++)
        {
            m.Vmalloc.FreeVmArea(areas[i]);
        }

        Assert.Equal(7, m.Vmalloc.NrLazyAreas);
        Assert.Equal(7 * 2049, m.Vmalloc.VmapLazyNr);
        var purges = m.Vmalloc.NrPurges;
        m.Vmalloc.FreeVmArea(areas[7]);
        Assert.Equal(purges + 1, m.Vmalloc.NrPurges);
        Assert.Equal(0, m.Vmalloc.NrLazyAreas);
        Assert.Equal(0, m.Vmalloc.VmapLazyNr);
        AssertInvariants(m);
    }

    [Fact]
    public void AllocationFailurePurgesAndRetries()
    {
        var m = Create();
        var start = K.VMALLOC_START + (1UL << 30);
        var end = start + (3 * Page);
        var a = m.Vmalloc.VmallocNodeRange(Page, 1, start, end, Gfp.GFP_KERNEL, VmStructFlags.None, -1, "t");
        Assert.Equal(start, a);

        // The window holds one page plus its guard: the next allocation does not fit...
        Assert.Equal(0UL, m.Vmalloc.VmallocNodeRange(Page, 1, start, end, Gfp.GFP_KERNEL | Gfp.__GFP_NOWARN, VmStructFlags.None, -1, "t"));

        // ...and after a vfree it fits only because the failure triggers a purge and a retry.
        m.Vmalloc.Vfree(a);
        var purges = m.Vmalloc.NrPurges;
        var b = m.Vmalloc.VmallocNodeRange(Page, 1, start, end, Gfp.GFP_KERNEL, VmStructFlags.None, -1, "t");
        Assert.Equal(start, b);
        Assert.Equal(purges + 1, m.Vmalloc.NrPurges);
        Assert.Equal(0, m.Reports.WarnCount);
        AssertInvariants(m);
    }

    [Fact]
    public void AlignmentIsHonouredLowestFirst()
    {
        var m = Create();
        m.Vmalloc.Vmalloc(Page);
        var a = m.Vmalloc.VmallocNodeRange(Page, 1UL << 21, K.VMALLOC_START, K.VMALLOC_END, Gfp.GFP_KERNEL, VmStructFlags.None, -1, "t");
        Assert.Equal(K.VMALLOC_START + (1UL << 21), a);

        // The hole below the aligned area is still used first by an unaligned request.
        var b = m.Vmalloc.Vmalloc(Page);
        Assert.Equal(K.VMALLOC_START + (2 * Page), b);

        // A non-power-of-two align fails (alloc_vmap_area: -EINVAL) and leaves nothing behind.
        var objects = LiveSlabObjects(m);
        Assert.Equal(0UL, m.Vmalloc.VmallocNodeRange(Page, 3 * Page, K.VMALLOC_START, K.VMALLOC_END, Gfp.GFP_KERNEL, VmStructFlags.None, -1, "t"));
        Assert.Equal(objects, LiveSlabObjects(m));
        AssertInvariants(m);
    }

    [Fact]
    public void VmallocUserIsZeroedUsermapAndShmlbaAligned()
    {
        var m = Create();
        var a = m.Vmalloc.VmallocUser(5000, "user_caller");
        var vm = m.Vmalloc.FindVmArea(a)!;
        Assert.Equal(VmStructFlags.VM_ALLOC | VmStructFlags.VM_USERMAP, vm.Flags);
        Assert.Equal(0UL, a % VmallocConstants.SHMLBA);
        Assert.True(m.KernelMem.ReadValue(a + 4096, 8, "test", out var v));
        Assert.Equal(0UL, v);
        Assert.Contains("user_caller pages=2 vmalloc user N0=2", m.Vmalloc.VmallocInfo());
    }

    [Fact]
    public void KernelLoadsAndStoresReachTheMappedPages()
    {
        var m = Create();
        var a = m.Vmalloc.Vzalloc(2 * Page);
        Assert.True(m.KernelMem.WriteValue(a + 4092, 8, 0x1122334455667788UL, "test"));
        Assert.True(m.KernelMem.ReadValue(a + 4092, 8, "test", out var v));
        Assert.Equal(0x1122334455667788UL, v);
        var pfn1 = m.Vmalloc.VmallocToPage(a + Page);
        Assert.Equal(0x11, m.PageAlloc.Contents.Read(pfn1)[3]);
        Assert.Equal(0, m.Reports.KasanCount);
    }

    [Fact]
    public void GuardPageAndFreedAreaAccessesAreReported()
    {
        var m = Create();
        var a = m.Vmalloc.Vmalloc(Page);
        Assert.False(m.KernelMem.ReadValue(a + Page, 4, "guard_reader", out _));
        Assert.Equal(KasanBugType.VmallocOutOfBounds, m.Reports.Kasan[^1].Type);
        Assert.Equal("guard_reader", m.Reports.Kasan[^1].Function);

        // A load that straddles the end of the area into the guard page is reported too.
        Assert.False(m.KernelMem.ReadValue(a + Page - 4, 8, "straddle", out _));
        Assert.Equal(2, m.Reports.KasanCount);

        m.Vmalloc.Vfree(a);
        Assert.False(m.KernelMem.WriteValue(a, 8, 1, "use_after_vfree"));
        Assert.Equal(3, m.Reports.KasanCount);
    }

    [Fact]
    public void ProbeAccessesFailQuietly()
    {
        var m = Create();
        var a = m.Vmalloc.Vmalloc(Page);
        Assert.True(m.Vmalloc.ProbeWriteValue(a + 8, 4, 0xdeadbeef));
        Assert.True(m.Vmalloc.ProbeReadValue(a + 8, 4, out var v));
        Assert.Equal(0xdeadbeefUL, v);
        Assert.False(m.Vmalloc.ProbeReadValue(a + Page, 8, out v));
        Assert.Equal(0UL, v);
        Assert.False(m.Vmalloc.ProbeWriteValue(a + Page - 4, 8, ulong.MaxValue));
        Assert.True(m.Vmalloc.ProbeReadValue(a + Page - 4, 4, out v));
        Assert.Equal(0UL, v);
        Assert.False(m.Vmalloc.TryResolve(a + Page, out _));
        Assert.True(m.Vmalloc.TryResolve(a, out var pfn));
        Assert.Equal(m.Vmalloc.VmallocToPfn(a), pfn);
        Assert.Equal(0, m.Reports.KasanCount);
    }

    [Fact]
    public void LargeAreasKeepTheirPageArrayInVmallocSpace()
    {
        var m = Create();
        var free = m.PageAlloc.NrFreePages;

        // 512 pages: the page-pointer array is exactly one page, kmalloc'd.
        var a = m.Vmalloc.Vmalloc(512 * Page, "small_array");
        Assert.False(VmallocAllocator.IsVmallocAddr(m.Vmalloc.FindVmArea(a)!.PagesArray));

        // 513 pages: the array (4104 bytes) comes from a nested vmalloc of 2 pages with the same caller.
        var b = m.Vmalloc.Vmalloc(513 * Page, "big_array");
        var vm = m.Vmalloc.FindVmArea(b)!;
        Assert.True(VmallocAllocator.IsVmallocAddr(vm.PagesArray));
        var info = m.Vmalloc.VmallocInfo();
        Assert.Contains("big_array pages=513 vmalloc vpages N0=513", info);
        Assert.Contains("big_array pages=2 vmalloc N0=2", info);
        Assert.Equal(512 + 513 + 2, m.Vmalloc.NrVmallocPages);
        AssertInvariants(m);

        m.Vmalloc.Vfree(a);
        m.Vmalloc.Vfree(b);
        Assert.Equal(3, m.Vmalloc.NrLazyAreas);
        AssertPristine(m, free);
    }

    [Fact]
    public void VmallocinfoUsesTheKernelFormat()
    {
        var m = Create();
        var a = m.Vmalloc.Vmalloc(3 * Page, "array_map_alloc+0x1a2/0x3c0");
        var sparse = m.Vmalloc.GetVmArea(4 * Page, VmStructFlags.VM_SPARSE | VmStructFlags.VM_USERMAP, "arena_map_alloc");
        var b = m.Vmalloc.Vmalloc(Page, "gone");
        m.Vmalloc.Vfree(b);
        var lines = m.Vmalloc.VmallocInfo().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(
        [
            "0xffffc90000000000-0xffffc90000004000   16384 array_map_alloc+0x1a2/0x3c0 pages=3 vmalloc N0=3",
            "0xffffc90000004000-0xffffc90000009000   20480 arena_map_alloc sparse user",
            "0xffffc90000009000-0xffffc9000000b000    8192 unpurged vm_area",
        ], lines);
        Assert.NotNull(sparse);
        Assert.NotEqual(0UL, a);
    }

    [Fact]
    public void GetVmAreaReservesAddressSpaceOnly()
    {
        var m = Create();
        var free = m.PageAlloc.NrFreePages;
        var area = m.Vmalloc.GetVmArea(K.SZ_4G + (64UL << 10), VmStructFlags.VM_SPARSE | VmStructFlags.VM_USERMAP)!;
        Assert.Equal(K.VMALLOC_START, area.Addr);
        Assert.Equal(K.SZ_4G + (64UL << 10) + Page, area.Size);
        Assert.Equal(0, area.NrPages);
        Assert.Equal(0, m.Vmalloc.NrVmallocPages);
        Assert.Same(area, m.Vmalloc.FindVmArea(area.Addr + K.SZ_4G));
        Assert.Null(m.Vmalloc.GetVmArea(0, VmStructFlags.VM_SPARSE));
        Assert.Null(m.Vmalloc.GetVmArea(ulong.MaxValue - 5, VmStructFlags.VM_SPARSE));
        m.Vmalloc.FreeVmArea(area);
        AssertPristine(m, free);
    }

    [Fact]
    public void GetVmAreaThatCannotFitFailsWithNothingLeft()
    {
        var m = Create();
        var free = m.PageAlloc.NrFreePages;
        // VMALLOC_END is an exclusive bound one byte short of 32 TiB: the largest area is 32 TiB - 4 KiB.
        Assert.Null(m.Vmalloc.GetVmArea(VmallocConstants.VMALLOC_TOTAL, VmStructFlags.VM_NO_GUARD));
        Assert.Null(m.Vmalloc.GetVmArea(VmallocConstants.VMALLOC_TOTAL - Page + 1, VmStructFlags.VM_SPARSE));
        var whole = m.Vmalloc.GetVmArea(VmallocConstants.VMALLOC_TOTAL - Page + 1, VmStructFlags.VM_NO_GUARD);
        Assert.NotNull(whole);
        Assert.Equal(0, m.Reports.WarnCount);
        m.Vmalloc.FreeVmArea(whole!);
        AssertPristine(m, free);
    }

    [Fact]
    public void FreeVmAreaTwiceIsAKasanUseAfterFree()
    {
        var m = Create();
        var area = m.Vmalloc.GetVmArea(Page, VmStructFlags.VM_SPARSE)!;
        m.Vmalloc.FreeVmArea(area);
        m.Vmalloc.FreeVmArea(area);
        Assert.Equal(KasanBugType.SlabUseAfterFree, Assert.Single(m.Reports.Kasan).Type);
    }

    [Fact]
    public void PageAllocationFailureUndoesEverything()
    {
        var m = Create(ramBytes: 8UL << 20);
        var free = m.PageAlloc.NrFreePages;
        var hog = m.Vmalloc.Vmalloc((ulong)(free - 64) * Page);
        Assert.NotEqual(0UL, hog);
        Assert.Equal(0UL, m.Vmalloc.Vmalloc(200 * Page));
        AssertInvariants(m);
        m.Vmalloc.Vfree(hog);
        AssertPristine(m, free);
    }

    [Fact]
    public void AccountedPagesAreChargedAndTheMemcgLimitFailsCleanly()
    {
        var m = Create(memcgLimit: 40 * Page);
        var free = m.PageAlloc.NrFreePages;
        var a = m.Vmalloc.VmallocGfp(32 * Page, Gfp.GFP_KERNEL_ACCOUNT);
        Assert.Equal(32 * Page, m.Memcg.Usage);
        Assert.Equal(0UL, m.Vmalloc.VmallocGfp(16 * Page, Gfp.GFP_KERNEL_ACCOUNT));
        Assert.Equal(32 * Page, m.Memcg.Usage);
        m.Vmalloc.Vfree(a);
        AssertPristine(m, free);
    }
}
