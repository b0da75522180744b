using MmSim.Kernel;
using MmSim.Mm;
using Xunit;
using static MmSim.Tests.Mm.VmallocTestMachine;

namespace MmSim.Tests.Mm;

public class VmallocSparseTests
{
    private const VmStructFlags Sparse = VmStructFlags.VM_SPARSE | VmStructFlags.VM_USERMAP;

    private static long[] AllocPages(Machine m, int n) =>
        Enumerable.Range(0, n).Select(_ => m.PageAlloc.AllocPage(Gfp.GFP_KERNEL | Gfp.__GFP_ZERO)).ToArray();

    [Fact]
    public void MapAndUnmapPagesInsideASparseArea()
    {
        var m = Create();
        var free = m.PageAlloc.NrFreePages;
        var area = m.Vmalloc.GetVmArea(16 * Page, Sparse, "arena_map_alloc")!;
        var pages = AllocPages(m, 2);
        var start = area.Addr + (4 * Page);
        Assert.Equal(0, m.Vmalloc.VmAreaMapPages(area, start, start + (2 * Page), pages));
        Assert.Equal(pages[0], m.Vmalloc.VmallocToPage(start));
        Assert.Equal(pages[1], m.Vmalloc.VmallocToPage(start + Page));
        Assert.Equal(0, m.Vmalloc.NrVmallocPages);
        Assert.False(m.PageAlloc.Frame(pages[0]).Has(PageFlags.Vmalloc));
        Assert.True(m.KernelMem.WriteValue(start + Page + 8, 8, 42, "bpf_prog"));
        AssertInvariants(m);

        // A hole is reported for a plain access and quiet for a probe access.
        Assert.False(m.KernelMem.ReadValue(area.Addr, 8, "bpf_prog", out _));
        Assert.Equal(KasanBugType.VmallocOutOfBounds, Assert.Single(m.Reports.Kasan).Type);
        Assert.False(m.Vmalloc.ProbeReadValue(area.Addr, 8, out var v));
        Assert.Equal(0UL, v);
        Assert.True(m.Vmalloc.ProbeReadValue(start + Page + 8, 8, out v));
        Assert.Equal(42UL, v);

        m.Vmalloc.VmAreaUnmapPages(area, start, start + Page);
        Assert.Equal(-1, m.Vmalloc.VmallocToPage(start));
        Assert.Equal(1, m.PageAlloc.PageRefCount(pages[0]));

        // The arena's teardown: free what is still mapped, then the area.
        var freed = 0;
        Assert.Equal(0, m.Vmalloc.ApplyToExistingPageRange(area.Addr, 16 * Page, (_, pfn) =>
        {
            m.PageAlloc.FreePages(pfn, 0);
            freed++;
            return 0;
        }));
        Assert.Equal(1, freed);
        m.PageAlloc.FreePages(pages[0], 0);
        m.Vmalloc.FreeVmArea(area);
        AssertPristine(m, free);
    }

    [Fact]
    public void ApplyToExistingPageRangeStopsAtANonZeroReturn()
    {
        var m = Create();
        var area = m.Vmalloc.GetVmArea(8 * Page, Sparse)!;
        var pages = AllocPages(m, 3);
        Assert.Equal(0, m.Vmalloc.VmAreaMapPages(area, area.Addr, area.Addr + (3 * Page), pages));
        var seen = new List<ulong>();
        Assert.Equal(-7, m.Vmalloc.ApplyToExistingPageRange(area.Addr, 8 * Page, (a, _) =>
        {
            seen.Add(a);
            return seen.Count == 2 ? -7 : 0;
        }));
        Assert.Equal([area.Addr, area.Addr + Page], seen);
    }

    [Theory]
    [InlineData(VmStructFlags.VM_USERMAP)]
    [InlineData(VmStructFlags.VM_SPARSE | VmStructFlags.VM_NO_GUARD)]
    [InlineData(VmStructFlags.VM_SPARSE | VmStructFlags.VM_FLUSH_RESET_PERMS)]
    public void MapPagesIntoANonSparseAreaIsEinvalWithAWarnOnce(VmStructFlags flags)
    {
        var m = Create();
        var area = m.Vmalloc.GetVmArea(4 * Page, flags)!;
        var pages = AllocPages(m, 1);
        Assert.Equal(-(int)Errno.EINVAL, m.Vmalloc.VmAreaMapPages(area, area.Addr, area.Addr + Page, pages));
        Assert.Equal(1, m.Reports.WarnCount);
        Assert.Equal("check_sparse_vm_area", m.Reports.Warnings[0].Function);
        Assert.Equal(-(int)Errno.EINVAL, m.Vmalloc.VmAreaMapPages(area, area.Addr, area.Addr + Page, pages));
        Assert.Equal(1, m.Reports.WarnCount);
        Assert.Equal(-1, m.Vmalloc.VmallocToPage(area.Addr));

        // unmap is silent about the same problem (the WARN_ON_ONCE already fired).
        m.Vmalloc.VmAreaUnmapPages(area, area.Addr, area.Addr + Page);
        Assert.Equal(1, m.Reports.WarnCount);
    }

    [Fact]
    public void MapPagesIntoAVmallocAreaIsEinval()
    {
        var m = Create();
        var a = m.Vmalloc.Vmalloc(2 * Page);
        var vm = m.Vmalloc.FindVmArea(a)!;
        var pfn = vm.Pages[0];
        Assert.Equal(-(int)Errno.EINVAL, m.Vmalloc.VmAreaMapPages(vm, a, a + Page, AllocPages(m, 1)));
        m.Vmalloc.VmAreaUnmapPages(vm, a, a + Page);
        Assert.Equal(pfn, m.Vmalloc.VmallocToPage(a));
    }

    [Fact]
    public void MoreThanTotalramPagesIsE2big()
    {
        var m = Create(ramBytes: 16UL << 20);
        var area = m.Vmalloc.GetVmArea(K.SZ_4G, Sparse)!;
        var total = (ulong)m.PageAlloc.TotalPages;
        Assert.Equal(-(int)Errno.E2BIG, m.Vmalloc.VmAreaMapPages(area, area.Addr, area.Addr + ((total + 1) * Page), []));

        // end below start wraps to a huge count: also -E2BIG.
        Assert.Equal(-(int)Errno.E2BIG, m.Vmalloc.VmAreaMapPages(area, area.Addr + Page, area.Addr, []));
        Assert.Equal(0, m.Reports.WarnCount);
    }

    [Fact]
    public void RangesOutsideTheUsableAreaAreErange()
    {
        var m = Create();
        m.Vmalloc.Vmalloc(Page);
        var area = m.Vmalloc.GetVmArea(4 * Page, Sparse)!;
        var pages = AllocPages(m, 2);
        Assert.Equal(-(int)Errno.ERANGE, m.Vmalloc.VmAreaMapPages(area, area.Addr - Page, area.Addr + Page, pages));

        // The guard page is outside get_vm_area_size().
        Assert.Equal(-(int)Errno.ERANGE, m.Vmalloc.VmAreaMapPages(area, area.Addr + (3 * Page), area.Addr + (5 * Page), pages));
        Assert.Equal(0, m.Vmalloc.VmAreaMapPages(area, area.Addr + (2 * Page), area.Addr + (4 * Page), pages));

        // unmap ignores a bad range silently.
        m.Vmalloc.VmAreaUnmapPages(area, area.Addr + (3 * Page), area.Addr + (5 * Page));
        Assert.Equal(pages[1], m.Vmalloc.VmallocToPage(area.Addr + (3 * Page)));
        Assert.Equal(0, m.Reports.WarnCount);
        AssertInvariants(m);
    }

    [Fact]
    public void MappingOverAPresentPteIsEbusyWithAWarnAndKeepsThePagesMappedBeforeIt()
    {
        var m = Create();
        var area = m.Vmalloc.GetVmArea(8 * Page, Sparse)!;
        var first = AllocPages(m, 1);
        Assert.Equal(0, m.Vmalloc.VmAreaMapPages(area, area.Addr + (2 * Page), area.Addr + (3 * Page), first));
        var more = AllocPages(m, 3);
        Assert.Equal(-(int)Errno.EBUSY, m.Vmalloc.VmAreaMapPages(area, area.Addr + Page, area.Addr + (4 * Page), more));
        Assert.Equal("vmap_pages_pte_range", Assert.Single(m.Reports.Warnings).Function);
        Assert.Equal(more[0], m.Vmalloc.VmallocToPage(area.Addr + Page));
        Assert.Equal(first[0], m.Vmalloc.VmallocToPage(area.Addr + (2 * Page)));
        Assert.Equal(-1, m.Vmalloc.VmallocToPage(area.Addr + (3 * Page)));

        // WARN_ON, not WARN_ON_ONCE: it fires every time.
        Assert.Equal(-(int)Errno.EBUSY, m.Vmalloc.VmAreaMapPages(area, area.Addr + (2 * Page), area.Addr + (3 * Page), first));
        Assert.Equal(2, m.Reports.WarnCount);
        AssertInvariants(m);
    }

    [Fact]
    public void NullAndInvalidPagesAreEnomemAndEinval()
    {
        var m = Create();
        var area = m.Vmalloc.GetVmArea(8 * Page, Sparse)!;
        var good = AllocPages(m, 1)[0];
        Assert.Equal(-(int)Errno.ENOMEM, m.Vmalloc.VmAreaMapPages(area, area.Addr, area.Addr + (2 * Page), [good, -1]));
        Assert.Equal(good, m.Vmalloc.VmallocToPage(area.Addr));
        Assert.Equal(-(int)Errno.EINVAL, m.Vmalloc.VmAreaMapPages(area, area.Addr + (4 * Page), area.Addr + (5 * Page), [m.PageAlloc.TotalPages]));
        Assert.Equal(2, m.Reports.WarnCount);
    }

    [Fact]
    public void AnEmptyOrUnalignedRangeIsABug()
    {
        var m = Create();
        var area = m.Vmalloc.GetVmArea(8 * Page, Sparse)!;
        Assert.Throws<KernelBugException>(() => m.Vmalloc.VmAreaMapPages(area, area.Addr, area.Addr, []));
        Assert.Throws<KernelBugException>(() => m.Vmalloc.VmAreaUnmapPages(area, area.Addr + Page, area.Addr + Page));
        Assert.Throws<KernelBugException>(() => m.Vmalloc.VmAreaMapPages(area, area.Addr + 1, area.Addr + Page + 1, [0]));
    }

    [Fact]
    public void FreeVmAreaUnmapsButDoesNotFreeMappedPages()
    {
        var m = Create();
        var area = m.Vmalloc.GetVmArea(4 * Page, Sparse)!;
        var pages = AllocPages(m, 1);
        Assert.Equal(0, m.Vmalloc.VmAreaMapPages(area, area.Addr, area.Addr + Page, pages));
        var addr = area.Addr;
        m.Vmalloc.FreeVmArea(area);
        Assert.Equal(-1, m.Vmalloc.VmallocToPage(addr));
        Assert.Equal(1, m.PageAlloc.PageRefCount(pages[0]));
        AssertInvariants(m);
    }

    [Fact]
    public void MapPagesIntoAFreedAreaIsAKasanUseAfterFree()
    {
        var m = Create();
        var area = m.Vmalloc.GetVmArea(4 * Page, Sparse)!;
        m.Vmalloc.FreeVmArea(area);
        Assert.Equal(-(int)Errno.EINVAL, m.Vmalloc.VmAreaMapPages(area, area.Addr, area.Addr + Page, AllocPages(m, 1)));
        Assert.Equal(KasanBugType.SlabUseAfterFree, Assert.Single(m.Reports.Kasan).Type);
    }
}
