using MmSim.Kernel;
using MmSim.Mm;
using Xunit;

namespace MmSim.Tests.Mm;

public class PageAllocTests
{
    [Fact]
    public void BootPutsAllMemoryInMaxOrderBlocks()
    {
        var m = TestMachines.Default();
        Assert.Equal(262144, m.PageAlloc.TotalPages);
        Assert.Equal(262144, m.PageAlloc.NrFreePages);
        Assert.Equal(256, m.PageAlloc.FreeBlocks(K.MAX_PAGE_ORDER));
        for (var o = 0; o < K.MAX_PAGE_ORDER; o++)
        {
            Assert.Equal(0, m.PageAlloc.FreeBlocks(o));
        }

        TestMachines.AssertInvariants(m);
    }

    [Fact]
    public void OddSizedMemoryIsSplitIntoAlignedBlocks()
    {
        var m = TestMachines.WithFrames(1024 + 512 + 3);
        Assert.Equal(1, m.PageAlloc.FreeBlocks(10));
        Assert.Equal(1, m.PageAlloc.FreeBlocks(9));
        Assert.Equal(1, m.PageAlloc.FreeBlocks(1));
        Assert.Equal(1, m.PageAlloc.FreeBlocks(0));
        TestMachines.AssertInvariants(m);
    }

    [Fact]
    public void OrderZeroAllocationSplitsTheLowestBlockAndFreeMergesItBack()
    {
        var m = TestMachines.WithFrames(2048);
        var pfn = m.PageAlloc.AllocPages(Gfp.GFP_KERNEL, 0);
        Assert.Equal(0, pfn);
        Assert.Equal(1, m.PageAlloc.Frame(0).Refcount);
        for (var o = 0; o < K.MAX_PAGE_ORDER; o++)
        {
            Assert.Equal(1, m.PageAlloc.FreeBlocks(o));
        }

        Assert.Equal(1, m.PageAlloc.FreeBlocks(K.MAX_PAGE_ORDER));
        Assert.Equal(1, m.PageAlloc.AllocPages(Gfp.GFP_KERNEL, 0));
        m.PageAlloc.FreePages(1, 0);
        m.PageAlloc.FreePages(0, 0);
        Assert.Equal(2, m.PageAlloc.FreeBlocks(K.MAX_PAGE_ORDER));
        Assert.Equal(2048, m.PageAlloc.NrFreePages);
        TestMachines.AssertInvariants(m);
    }

    [Fact]
    public void SmallestSufficientOrderIsUsedBeforeSplittingALargerBlock()
    {
        var m = TestMachines.WithFrames(1024);
        var a = m.PageAlloc.AllocPages(Gfp.GFP_KERNEL, 0); // leaves free blocks of orders 0..9
        Assert.Equal(0, a);
        Assert.Equal(4, m.PageAlloc.AllocPages(Gfp.GFP_KERNEL, 2));   // the order-2 block at 4
        Assert.Equal(1, m.PageAlloc.AllocPages(Gfp.GFP_KERNEL, 0));   // the order-0 block at 1
        Assert.Equal(2, m.PageAlloc.AllocPages(Gfp.GFP_KERNEL, 0));   // splits the order-1 block at 2
        TestMachines.AssertInvariants(m);
    }

    [Fact]
    public void OrderAboveMaxFailsWithAWarnUnlessNowarn()
    {
        var m = TestMachines.WithFrames(4096);
        Assert.Equal(PageAllocator.NoPage, m.PageAlloc.AllocPages(Gfp.GFP_KERNEL | Gfp.__GFP_NOWARN, 11));
        Assert.Equal(0, m.Reports.WarnCount);
        Assert.Equal(PageAllocator.NoPage, m.PageAlloc.AllocPages(Gfp.GFP_KERNEL, 11));
        Assert.Equal(1, m.Reports.WarnCount);
        Assert.Equal(4096, m.PageAlloc.NrFreePages);
    }

    [Fact]
    public void ExhaustionFailsWithoutChangingState()
    {
        var m = TestMachines.WithFrames(8);
        Assert.Equal(0, m.PageAlloc.AllocPages(Gfp.GFP_KERNEL, 3));
        Assert.Equal(PageAllocator.NoPage, m.PageAlloc.AllocPages(Gfp.GFP_KERNEL, 0));
        Assert.Equal(0, m.PageAlloc.NrFreePages);
        m.PageAlloc.FreePages(0, 3);
        Assert.Equal(8, m.PageAlloc.NrFreePages);
        TestMachines.AssertInvariants(m);
    }

    [Fact]
    public void GetPageKeepsThePageUntilTheLastPut()
    {
        var m = TestMachines.WithFrames(16);
        var pfn = m.PageAlloc.AllocPage(Gfp.GFP_KERNEL);
        m.PageAlloc.GetPage(pfn);
        m.PageAlloc.PutPage(pfn);
        Assert.Equal(15, m.PageAlloc.NrFreePages);
        m.PageAlloc.PutPage(pfn);
        Assert.Equal(16, m.PageAlloc.NrFreePages);
    }

    [Fact]
    public void DoubleFreeIsReportedAndChangesNothing()
    {
        var m = TestMachines.WithFrames(16);
        var pfn = m.PageAlloc.AllocPage(Gfp.GFP_KERNEL);
        m.PageAlloc.FreePages(pfn, 0);
        m.PageAlloc.FreePages(pfn, 0);
        Assert.Equal(1, m.Reports.KasanCount);
        Assert.Equal(KasanBugType.BadPageState, m.Reports.Kasan[0].Type);
        Assert.Equal(16, m.PageAlloc.NrFreePages);
        TestMachines.AssertInvariants(m);
    }

    [Fact]
    public void CompoundTailPagesResolveToTheirHead()
    {
        var m = TestMachines.WithFrames(64);
        var pfn = m.PageAlloc.AllocPages(Gfp.GFP_KERNEL | Gfp.__GFP_COMP, 3);
        Assert.Equal(pfn, m.PageAlloc.CompoundHead(pfn + 5));
        m.PageAlloc.GetPage(pfn + 5);
        Assert.Equal(2, m.PageAlloc.PageRefCount(pfn + 7));
        m.PageAlloc.PutPage(pfn + 1);
        m.PageAlloc.PutPage(pfn + 2);
        Assert.Equal(64, m.PageAlloc.NrFreePages);
        TestMachines.AssertInvariants(m);
    }

    [Fact]
    public void NonCompoundHighOrderFreeWithAnExtraReferenceFreesTheRest()
    {
        var m = TestMachines.WithFrames(64);
        var pfn = m.PageAlloc.AllocPages(Gfp.GFP_KERNEL, 2);
        m.PageAlloc.GetPage(pfn);
        m.PageAlloc.FreePages(pfn, 2);
        Assert.Equal(63, m.PageAlloc.NrFreePages);
        m.PageAlloc.PutPage(pfn);
        Assert.Equal(64, m.PageAlloc.NrFreePages);
        TestMachines.AssertInvariants(m);
    }

    [Fact]
    public void AccountedPagesAreChargedAndTheLimitFailsTheAllocation()
    {
        var m = TestMachines.WithFrames(64, memcg: 3 * K.PAGE_SIZE);
        var a = m.PageAlloc.AllocPages(Gfp.GFP_KERNEL_ACCOUNT, 1);
        Assert.NotEqual(PageAllocator.NoPage, a);
        Assert.Equal(2 * K.PAGE_SIZE, m.Memcg.Usage);
        Assert.Equal(PageAllocator.NoPage, m.PageAlloc.AllocPages(Gfp.GFP_KERNEL_ACCOUNT, 1));
        Assert.Equal(62, m.PageAlloc.NrFreePages);
        Assert.NotEqual(PageAllocator.NoPage, m.PageAlloc.AllocPages(Gfp.GFP_KERNEL, 1));
        m.PageAlloc.FreePages(a, 1);
        Assert.Equal(0UL, m.Memcg.Usage);
        TestMachines.AssertInvariants(m);
    }

    [Fact]
    public void ContentsAreMaterializedOnlyWhenWrittenAndDroppedOnFree()
    {
        var m = TestMachines.WithFrames(16);
        var pfn = m.PageAlloc.AllocPage(Gfp.GFP_KERNEL);
        Assert.False(m.PageAlloc.Contents.HasBuffer(pfn));
        Assert.Equal(0, m.PageAlloc.Contents.Read(pfn)[100]);
        m.PageAlloc.Contents.Write(pfn)[100] = 0x41;
        Assert.Equal(1, m.PageAlloc.Contents.Materialized);
        m.PageAlloc.FreePages(pfn, 0);
        Assert.Equal(0, m.PageAlloc.Contents.Materialized);
        var again = m.PageAlloc.AllocPage(Gfp.GFP_KERNEL);
        Assert.Equal(pfn, again);
        Assert.Equal(0, m.PageAlloc.Contents.Read(again)[100]);
    }

    [Fact]
    public void FrameMetadataIsEightBytes() =>
        Assert.Equal(8, System.Runtime.CompilerServices.Unsafe.SizeOf<PageFrame>());

    [Fact]
    public void BuddyinfoAndMeminfoUseTheKernelFormat()
    {
        var m = TestMachines.WithFrames(2048);
        m.PageAlloc.AllocPage(Gfp.GFP_KERNEL);
        Assert.Equal("Node 0, zone   Normal      1      1      1      1      1      1      1      1      1      1      1\n",
            ProcViews.Buddyinfo(m));
        var meminfo = ProcViews.Meminfo(m);
        Assert.StartsWith("MemTotal:           8192 kB\nMemFree:            8188 kB\n", meminfo, StringComparison.Ordinal);
    }
}
