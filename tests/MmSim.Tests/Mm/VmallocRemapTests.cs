using MmSim.Kernel;
using MmSim.Mm;
using Xunit;
using static MmSim.Tests.Mm.VmallocTestMachine;

namespace MmSim.Tests.Mm;

/// <summary>A user mapping for remap_vmalloc_range: vm_insert_page's range and busy checks, and a page reference.</summary>
internal sealed class FakeUserMapping(Machine m, ulong start, ulong end, ulong pgoff = 0) : IUserPageInserter
{
    public Dictionary<ulong, long> Ptes { get; } = [];

    public ulong Flags { get; private set; }

    public int? FailAtInsert { get; set; }

    public int Inserts { get; private set; }

    public ulong VmStart => start;

    public ulong VmEnd => end;

    public ulong VmPgoff => pgoff;

    public int VmInsertPage(ulong uaddr, long pfn)
    {
        if (uaddr < start || uaddr >= end)
        {
            return -(int)Errno.EFAULT;
        }

        if (FailAtInsert == Inserts)
        {
            return -(int)Errno.ENOMEM;
        }

        if (!Ptes.TryAdd(uaddr, pfn))
        {
            return -(int)Errno.EBUSY;
        }

        m.PageAlloc.GetPage(pfn);
        Inserts++;
        return 0;
    }

    public void VmFlagsSet(ulong flags) => Flags |= flags;

    public void Unmap()
    {
        foreach (var pfn in Ptes.Values.Order())
        {
            m.PageAlloc.PutPage(pfn);
        }

        Ptes.Clear();
    }
}

public class VmallocRemapTests
{
    private const ulong User = 0x7f0000000000UL;
    private const ulong DontExpandDontDump = IUserPageInserter.VM_DONTEXPAND | IUserPageInserter.VM_DONTDUMP;

    [Fact]
    public void RemapVmallocRangeInsertsEveryPageAndSetsTheFlags()
    {
        var m = Create();
        var free = m.PageAlloc.NrFreePages;
        var k = m.Vmalloc.VmallocUser(3 * Page);
        var vma = new FakeUserMapping(m, User, User + (3 * Page));
        Assert.Equal(0, m.Vmalloc.RemapVmallocRange(vma, k, 0));
        var vm = m.Vmalloc.FindVmArea(k)!;
        for (var i = 0; i < 3; i++)
        {
            Assert.Equal(vm.Pages[i], vma.Ptes[User + ((ulong)i * Page)]);
        }

        Assert.Equal(DontExpandDontDump, vma.Flags);

        // vfree while mapped: the user's references keep the pages alive, no longer counted as vmalloc.
        m.Vmalloc.Vfree(k);
        Assert.Equal(1, m.PageAlloc.PageRefCount(vma.Ptes[User]));
        Assert.False(m.PageAlloc.Frame(vma.Ptes[User]).Has(PageFlags.Vmalloc));
        AssertInvariants(m);
        vma.Unmap();
        AssertPristine(m, free);
    }

    [Fact]
    public void PgoffSkipsPagesFromTheAreaStart()
    {
        var m = Create();
        var k = m.Vmalloc.VmallocUser(4 * Page);
        var vma = new FakeUserMapping(m, User, User + (2 * Page));
        Assert.Equal(0, m.Vmalloc.RemapVmallocRange(vma, k, 2));
        Assert.Equal(m.Vmalloc.VmallocToPage(k + (2 * Page)), vma.Ptes[User]);
        Assert.Equal(m.Vmalloc.VmallocToPage(k + (3 * Page)), vma.Ptes[User + Page]);
    }

    [Fact]
    public void PgoffShiftOverflowIsEinval()
    {
        var m = Create();
        var k = m.Vmalloc.VmallocUser(Page);
        var vma = new FakeUserMapping(m, User, User + Page);
        Assert.Equal(-(int)Errno.EINVAL, m.Vmalloc.RemapVmallocRangePartial(vma, User, k, 1UL << 52, Page));
        Assert.Equal(-(int)Errno.EINVAL, m.Vmalloc.RemapVmallocRangePartial(vma, User, k, ulong.MaxValue, Page));
        Assert.Equal(0, vma.Inserts);
    }

    [Fact]
    public void UnalignedUaddrOrKaddrIsEinval()
    {
        var m = Create();
        var k = m.Vmalloc.VmallocUser(2 * Page);
        var vma = new FakeUserMapping(m, User, User + (2 * Page));
        Assert.Equal(-(int)Errno.EINVAL, m.Vmalloc.RemapVmallocRangePartial(vma, User + 8, k, 0, Page));
        Assert.Equal(-(int)Errno.EINVAL, m.Vmalloc.RemapVmallocRangePartial(vma, User, k + 8, 0, Page));
        Assert.Equal(0, vma.Inserts);
    }

    [Fact]
    public void NoAreaIsEinval()
    {
        var m = Create();
        var k = m.Vmalloc.VmallocUser(Page);
        m.Vmalloc.Vfree(k);
        var vma = new FakeUserMapping(m, User, User + Page);
        Assert.Equal(-(int)Errno.EINVAL, m.Vmalloc.RemapVmallocRange(vma, k, 0));
        Assert.Equal(-(int)Errno.EINVAL, m.Vmalloc.RemapVmallocRange(vma, K.VMALLOC_START + (1UL << 40), 0));

        // A direct-map (kmalloc) address is not a vm area either.
        Assert.Equal(-(int)Errno.EINVAL, m.Vmalloc.RemapVmallocRange(vma, m.Slab.Kmalloc(Page, Gfp.GFP_KERNEL), 0));
    }

    [Fact]
    public void AnAreaWithoutVmUsermapIsEinval()
    {
        var m = Create();
        var k = m.Vmalloc.Vzalloc(Page);
        var vma = new FakeUserMapping(m, User, User + Page);
        Assert.Equal(-(int)Errno.EINVAL, m.Vmalloc.RemapVmallocRange(vma, k, 0));
        Assert.Equal(0, vma.Inserts);
    }

    [Fact]
    public void VmDmaCoherentAlsoQualifies()
    {
        var m = Create();
        var k = m.Vmalloc.VmallocNodeRange(Page, 1, K.VMALLOC_START, K.VMALLOC_END, Gfp.GFP_KERNEL,
            VmStructFlags.VM_DMA_COHERENT, -1, "dma");
        var vma = new FakeUserMapping(m, User, User + Page);
        Assert.Equal(0, m.Vmalloc.RemapVmallocRange(vma, k, 0));
    }

    [Fact]
    public void SizePlusOffsetBeyondTheAreaIsEinval()
    {
        var m = Create();
        var k = m.Vmalloc.VmallocUser(2 * Page);

        // One page more than the area (the guard page does not count).
        var vma = new FakeUserMapping(m, User, User + (3 * Page));
        Assert.Equal(-(int)Errno.EINVAL, m.Vmalloc.RemapVmallocRange(vma, k, 0));

        // The offset counts: 2 pages from pgoff 1.
        var two = new FakeUserMapping(m, User, User + (2 * Page));
        Assert.Equal(-(int)Errno.EINVAL, m.Vmalloc.RemapVmallocRange(two, k, 1));

        // size is PAGE_ALIGNed first: one byte more than the area is a whole page more.
        Assert.Equal(-(int)Errno.EINVAL, m.Vmalloc.RemapVmallocRangePartial(vma, User, k, 0, (2 * Page) + 1));

        // size + offset overflows.
        Assert.Equal(-(int)Errno.EINVAL, m.Vmalloc.RemapVmallocRangePartial(vma, User, k, (ulong.MaxValue >> K.PAGE_SHIFT) - 1, 3 * Page));
        Assert.Equal(0, vma.Inserts + two.Inserts);
    }

    [Fact]
    public void VmInsertPageErrorsArePropagatedAndEarlierPagesStay()
    {
        var m = Create();
        var k = m.Vmalloc.VmallocUser(3 * Page);

        // The VMA is smaller than the range asked for: the third insert is outside it.
        var small = new FakeUserMapping(m, User, User + (2 * Page));
        Assert.Equal(-(int)Errno.EFAULT, m.Vmalloc.RemapVmallocRangePartial(small, User, k, 0, 3 * Page));
        Assert.Equal(2, small.Inserts);
        Assert.Equal(0UL, small.Flags);

        var failing = new FakeUserMapping(m, User, User + (3 * Page)) { FailAtInsert = 1 };
        Assert.Equal(-(int)Errno.ENOMEM, m.Vmalloc.RemapVmallocRange(failing, k, 0));
        Assert.Equal(1, failing.Inserts);
        Assert.Equal(0UL, failing.Flags);
    }

    [Fact]
    public void AnInteriorKaddrIsMeasuredFromTheAreaStartAndRunsIntoTheGuardPage()
    {
        var m = Create();
        var k = m.Vmalloc.VmallocUser(2 * Page);
        var vma = new FakeUserMapping(m, User, User + (2 * Page));

        // The bound check passes (2 pages <= the area), but from k + PAGE_SIZE the second page is the guard.
        Assert.Equal(-(int)Errno.EFAULT, m.Vmalloc.RemapVmallocRange(vma, k + Page, 0));
        Assert.Equal(1, vma.Inserts);
        Assert.Equal("vm_insert_page", Assert.Single(m.Reports.Kasan).Function);
    }
}
