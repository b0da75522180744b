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

        // Both pages wait on the per-CPU list (free frames, but not buddy free blocks) until a drain, with page 2
        // that the second refill took (pcp->batch 1, doubled by alloc_factor after the first refill).
        Assert.Equal(2048, m.PageAlloc.NrFreePages);
        Assert.Equal(3, m.PageAlloc.PcpCount);
        Assert.Equal([0L, 1L, 2L], m.PageAlloc.PcpListPfns(0));
        Assert.Equal(1, m.PageAlloc.FreeBlocks(K.MAX_PAGE_ORDER));
        TestMachines.AssertInvariants(m);
        m.PageAlloc.DrainAllPages();
        Assert.Equal(2, m.PageAlloc.FreeBlocks(K.MAX_PAGE_ORDER));
        Assert.Equal(2048, m.PageAlloc.NrFreePages);
        Assert.Equal(2048, m.PageAlloc.NrFreeBuddyPages);
        TestMachines.AssertInvariants(m);
    }

    [Theory]
    [InlineData(4096, 2, 1, 80)] // 16 MiB: zone_batchsize() clamps to 1; high = low watermark 160 / 2 CPUs
    [InlineData(262144, 2, 63, 643)] // 1 GiB: batch 63; min_free_kbytes 4096 -> low watermark 1286
    [InlineData(262144, 4, 63, 321)]
    [InlineData(16777216, 2, 63, 12484)] // 64 GiB: min_free_kbytes 32768 -> min 8192 + 16777 pages
    [InlineData(8, 2, 1, 20)] // min_free_kbytes 128 (the floor): min 32 + 8 pages
    public void PcpBatchAndHighFollowTheKernelsFormulas(long frames, int cpus, int batch, int high)
    {
        Assert.Equal(batch, PcpTunables.ZoneBatchsize(frames));
        Assert.Equal(high, PcpTunables.ZoneHighsize(frames, batch, cpus));
    }

    [Fact]
    public void PcpIsLifoRefillsInBatchesAndDrainsPastHigh()
    {
        var m = TestMachines.WithFrames(262144); // batch 63, high 643
        var pa = m.PageAlloc;
        Assert.Equal(63, pa.PcpBatch);
        Assert.Equal(643, pa.PcpHigh);

        // The first order-0 allocation refills the empty list with a batch of the lowest pages.
        Assert.Equal(0, pa.AllocPages(Gfp.GFP_KERNEL, 0));
        Assert.Equal(62, pa.PcpCount);
        Assert.Equal(262144 - 1, pa.NrFreePages);
        Assert.Equal(262144 - 63, pa.NrFreeBuddyPages);

        // Freed pages go to the head and come back first (cache-hot).
        pa.FreePages(0, 0);
        Assert.Equal(0, pa.AllocPages(Gfp.GFP_KERNEL, 0));
        pa.FreePages(0, 0);

        // Free enough pages to pass pcp->high: a bulk free from the tail leaves at least a batch.
        var held = new List<long>();
        for (var i = 0; i < 1000; i++)
        {
            held.Add(pa.AllocPages(Gfp.GFP_KERNEL, 0));
        }

        foreach (var p in held)
        {
            pa.FreePages(p, 0);
            Assert.True(pa.PcpCount < pa.PcpHigh, $"pcp->count {pa.PcpCount}");
        }

        Assert.Equal(262144, pa.NrFreePages);
        TestMachines.AssertInvariants(m);
        pa.DrainAllPages();
        Assert.Equal(0, pa.PcpCount);
        Assert.Equal(262144, pa.NrFreeBuddyPages);
        Assert.Equal(262144 / 1024, pa.FreeBlocks(K.MAX_PAGE_ORDER));
    }

    [Fact]
    public void PagesOnPcpListsAreOnlyReclaimedByCallersThatMayReclaim()
    {
        var m = TestMachines.WithFrames(16);
        var pa = m.PageAlloc;
        var blocks = new List<long>();
        for (var i = 0; i < 16; i++)
        {
            blocks.Add(pa.AllocPages(Gfp.GFP_KERNEL, 0));
        }

        Assert.DoesNotContain(PageAllocator.NoPage, blocks);
        foreach (var b in blocks)
        {
            pa.FreePages(b, 0);
        }

        Assert.Equal(16, pa.NrFreePages);
        Assert.True(pa.PcpCount > 0);

        // GFP_ATOMIC cannot enter direct reclaim, so it does not drain the lists: no order-3 block is whole.
        Assert.Equal(PageAllocator.NoPage, pa.AllocPages(Gfp.GFP_ATOMIC | Gfp.__GFP_NOWARN, 3));

        // GFP_KERNEL drains them (drain_all_pages() in __alloc_pages_direct_reclaim()) and retries.
        Assert.Equal(0, pa.AllocPages(Gfp.GFP_KERNEL, 3));
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
    public void FrameMetadataIsSevenBytesAndUnderEightPerFrameWithTheBitmaps()
    {
        Assert.Equal(7, System.Runtime.CompilerServices.Unsafe.SizeOf<PageFrame>());
        var m = TestMachines.Default();
        Assert.True(m.PageAlloc.MetadataHostBytes <= 8 * m.PageAlloc.TotalPages,
            $"{m.PageAlloc.MetadataHostBytes} bytes for {m.PageAlloc.TotalPages} frames");
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(-1)]
    [InlineData(PageFrame.MaxRefcount)]
    [InlineData(PageFrame.MinRefcount)]
    public void RefcountAndOrderShareAWordWithoutDisturbingEachOther(int refcount)
    {
        var f = default(PageFrame);
        for (byte order = 0; order <= K.MAX_PAGE_ORDER; order++)
        {
            f.Order = order;
            f.Refcount = refcount;
            Assert.Equal((refcount, order), (f.Refcount, f.Order));
            f.Order = (byte)(K.MAX_PAGE_ORDER - order);
            Assert.Equal(refcount, f.Refcount);
        }
    }

    [Fact]
    public void RefcountWrapsAtItsWidthLikeAnInt()
    {
        var f = default(PageFrame);
        f.Order = 3;
        f.Refcount = PageFrame.MaxRefcount;
        f.Refcount++;
        Assert.Equal((PageFrame.MinRefcount, (byte)3), (f.Refcount, f.Order));
        f.Refcount--;
        Assert.Equal((PageFrame.MaxRefcount, (byte)3), (f.Refcount, f.Order));
    }

    [Fact]
    public void ARefcountOverflowIsCaughtAsAnUnderflowByTheNextPut()
    {
        var m = TestMachines.WithFrames(16);
        var pfn = m.PageAlloc.AllocPage(Gfp.GFP_KERNEL);
        m.PageAlloc.Frame(pfn).Refcount = PageFrame.MaxRefcount;
        m.PageAlloc.GetPage(pfn);
        Assert.Equal(PageFrame.MinRefcount, m.PageAlloc.PageRefCount(pfn));
        Assert.Equal(0, m.Reports.KasanCount);
        m.PageAlloc.PutPage(pfn);
        Assert.Equal(1, m.Reports.KasanCount);
        Assert.Equal(KasanBugType.BadPageState, m.Reports.Kasan[0].Type);
        m.PageAlloc.GetPage(pfn);
        Assert.Equal(2, m.Reports.KasanCount);
        Assert.Equal(KasanBugType.UseAfterFree, m.Reports.Kasan[1].Type);
        Assert.Equal(15, m.PageAlloc.NrFreePages);
    }

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
