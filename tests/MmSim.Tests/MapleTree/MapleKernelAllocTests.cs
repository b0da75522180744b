using MmSim.Kernel;
using MmSim.MapleTree;
using Xunit;
using static MmSim.MapleTree.XArrayEntryPolicy;

namespace MmSim.Tests.MapleTree;

/// <summary>
/// Ports of lib/test_maple_tree.c (linux-next, 2025) gap-search tables: check_alloc_range, check_alloc_rev_range,
/// check_empty_area_window, check_empty_area_fill, alloc_cyclic_testing, and tools/testing/radix-tree/maple.c
/// check_nomem. Entries are kernel words with the XArray encoding (xa_mk_value, XA_ZERO_ENTRY).
/// </summary>
public class MapleKernelAllocTests
{
    private const ulong MTREE_ALLOC_MAX = 0x2000000000000UL;
    private const int EBUSY = -(int)Errno.EBUSY;
    private const int EINVAL = -(int)Errno.EINVAL;
    private const int EEXIST = -(int)Errno.EEXIST;
    private const int ENOMEM = -(int)Errno.ENOMEM;

    private static MapleTree<ulong> AllocTree(IMapleNodeAllocator? a = null) =>
        new(MapleFlags.MT_FLAGS_ALLOC_RANGE, a, XArrayEntryPolicy.Instance);

    /// <summary>/proc/self/maps of a test process: [start, end) pairs in bytes.</summary>
    private static readonly ulong[] MapsRange =
    [
        0x565234af2000, 0x565234af4000,
        0x565234af4000, 0x565234af9000,
        0x565234af9000, 0x565234afb000,
        0x565234afc000, 0x565234afd000,
        0x565234afd000, 0x565234afe000,
        0x565235def000, 0x565235e10000,
        0x7f36d4bfd000, 0x7f36d4ee2000,
        0x7f36d4ee2000, 0x7f36d4f04000,
        0x7f36d4f04000, 0x7f36d504c000,
        0x7f36d504c000, 0x7f36d5098000,
        0x7f36d5098000, 0x7f36d5099000,
        0x7f36d5099000, 0x7f36d509d000,
        0x7f36d509d000, 0x7f36d509f000,
        0x7f36d509f000, 0x7f36d50a5000,
        0x7f36d50b9000, 0x7f36d50db000,
        0x7f36d50db000, 0x7f36d50dc000,
        0x7f36d50dc000, 0x7f36d50fa000,
        0x7f36d50fa000, 0x7f36d5102000,
        0x7f36d5102000, 0x7f36d5103000,
        0x7f36d5103000, 0x7f36d5104000,
        0x7f36d5104000, 0x7f36d5105000,
        0x7fff5876b000, 0x7fff5878d000,
        0x7fff5878e000, 0x7fff58791000,
        0x7fff58791000, 0x7fff58793000,
    ];

    /// <summary>Start of hole, end of hole (exclusive), size of hole.</summary>
    private static readonly ulong[] MapsHoles =
    [
        0x565234afb000, 0x565234afc000, 0x1000,
        0x565234afe000, 0x565235def000, 0x12F1000,
        0x565235e10000, 0x7f36d4bfd000, 0x28E49EDED000,
    ];

    private static MapleTree<ulong> MapsTree()
    {
        var mt = AllocTree();
        Assert.Equal(0, mt.MtreeStoreRange(MTREE_ALLOC_MAX, ulong.MaxValue, XA_ZERO_ENTRY, Gfp.GFP_KERNEL));
        for (var i = 0; i < MapsRange.Length; i += 2)
        {
            var first = MapsRange[i] >> 12;
            var last = (MapsRange[i + 1] >> 12) - 1;
            Assert.Equal(0, mt.MtreeInsertRange(first, last, XaMkValue(first), Gfp.GFP_KERNEL));
            for (var j = first; j <= last; j += Math.Max(1, (last - first) / 7))
            {
                Assert.Equal(XaMkValue(first), mt.MtreeLoad(j));
            }

            MapleTestUtil.AssertValid(mt, $"insert {first:x}");
        }

        return mt;
    }

    /// <summary>check_mtree_alloc_range(): result and, on success, the start.</summary>
    private static void CheckMtreeAllocRange(MapleTree<ulong> mt, ulong start, ulong end, ulong size, ulong expected, int eret, ulong ptr)
    {
        var ret = mt.MtreeAllocRange(out var result, ptr, size, start, end, Gfp.GFP_KERNEL);
        Assert.True(ret == eret, $"alloc_range({start:x}, {end:x}, {size:x}) = {ret}, expected {eret}");
        if (ret == 0)
        {
            Assert.True(result == expected, $"alloc_range({start:x}, {end:x}, {size:x}) at {result:x}, expected {expected:x}");
        }
    }

    /// <summary>check_mtree_alloc_rrange() (modern form: end passed as is).</summary>
    private static void CheckMtreeAllocRrange(MapleTree<ulong> mt, ulong start, ulong end, ulong size, ulong expected, int eret, ulong ptr)
    {
        var ret = mt.MtreeAllocRrange(out var result, ptr, size, start, end, Gfp.GFP_KERNEL);
        Assert.True(ret == eret, $"alloc_rrange({start:x}, {end:x}, {size:x}) = {ret}, expected {eret}");
        if (ret == 0)
        {
            Assert.True(result == expected, $"alloc_rrange({start:x}, {end:x}, {size:x}) at {result:x}, expected {expected:x}");
        }
    }

    [Fact]
    public void CheckAllocRange()
    {
        var mt = MapsTree();
        var mas = new MaState<ulong>(mt);
        ulong min = 0x565234af2000;
        for (var i = 0; i < MapsHoles.Length; i += 3)
        {
            Assert.Equal(0, mas.MasEmptyArea(min >> 12, MapsHoles[i + 1] >> 12, MapsHoles[i + 2] >> 12));
            Assert.Equal(MapsHoles[i] >> 12, mas.Index);
            min = MapsHoles[i + 1];
            mas.MasReset();
        }

        ulong[] req =
        [
            0x565234af9000, 0x7fff58791000, 0x1000, 0x565234afb000, 0,
            0x0, 0x7fff58791000, 0x1F00, 0x0, 0,
            34148797436UL << 12, 0x7fff587AF000, 0x3000, 34148798629UL << 12, 0,
            34148798623UL << 12, 34148798683UL << 12, 0x15000, 0, unchecked((ulong)EBUSY),
            34148798623UL << 12, 0x7fff587AF000, 0x10000, 34148798632UL << 12, 0,
            0, ulong.MaxValue, ulong.MaxValue, 0, unchecked((ulong)EBUSY),
            0, ulong.MaxValue, 4503599618982063UL << 12, 34359052178UL << 12, unchecked((ulong)EBUSY),
            34148798648UL << 12, 34148798648UL << 12, 4096, 34148798648UL << 12, 0,
        ];
        for (var i = 0; i < req.Length; i += 5)
        {
            CheckMtreeAllocRange(mt, req[i] >> 12, req[i + 1] >> 12, req[i + 2] >> 12, req[i + 3] >> 12,
                (int)(long)req[i + 4], XaMkValue(req[i] >> 12));
            MapleTestUtil.AssertValid(mt, $"req {i / 5}");
        }

        mt.MtreeDestroy();
        Assert.True(mt.MtreeEmpty);
    }

    [Fact]
    public void CheckAllocRevRange()
    {
        var mt = MapsTree();
        var mas = new MaState<ulong>(mt);
        ulong min = 0;
        for (var i = 0; i < MapsHoles.Length; i += 3)
        {
            Assert.Equal(0, mas.MasEmptyAreaRev(min, MapsHoles[i + 1] >> 12, MapsHoles[i + 2] >> 12));
            Assert.Equal(MapsHoles[i + 1] >> 12, mas.Last + 1);
            Assert.Equal((MapsHoles[i + 1] >> 12) - (MapsHoles[i + 2] >> 12), mas.Index);
            min = MapsHoles[i + 1] >> 12;
            mas.MasReset();
        }

        ulong[] req =
        [
            0x565234af9000, 0x7fff58791000, 0x1000, 0x7fff5878dUL << 12, 0,
            0x0, 0x565234AF0UL << 12, 0x3000, 0x565234AEEUL << 12, 0,
            0x0, ulong.MaxValue, 0x1000, 562949953421311UL << 12, 0,
            0x0, 0x7F36D5109UL << 12, 0x4000, 0x7F36D5106UL << 12, 0,
            0x0, 34148798628UL << 12, 19UL << 12, 34148797418UL << 12, 0,
            0x0, 18446744073709551615UL, 562915594369134UL << 12, 0x0, unchecked((ulong)EBUSY),
            34148798725UL << 12, 34148798725UL << 12, 1UL << 12, 34148798725UL << 12, 0,
        ];
        for (var i = 0; i < req.Length; i += 5)
        {
            CheckMtreeAllocRrange(mt, req[i] >> 12, req[i + 1] >> 12, req[i + 2] >> 12, req[i + 3] >> 12,
                (int)(long)req[i + 4], XaMkValue(req[i] >> 12));
            MapleTestUtil.AssertValid(mt, $"req {i / 5}");
        }

        // Create a deleted range, then allocate across it from the top.
        mt.MtreeErase(34148798727);
        mt.MtreeErase(34148798725);
        CheckMtreeAllocRrange(mt, 0, 34359052173, 210253414, 34148798725, 0, 0xdead000);
        MapleTestUtil.AssertValid(mt);
    }

    [Fact]
    public void CheckEmptyAreaWindow()
    {
        var mt = AllocTree();
        for (ulong i = 1; i <= 20; i++)
        {
            Assert.Equal(0, mt.MtreeStoreRange(i * 10, (i * 10) + 9, XaMkValue(i), Gfp.GFP_KERNEL));
        }

        // Another hole besides the one at 0.
        Assert.Equal(0, mt.MtreeStoreRange(160, 169, 0, Gfp.GFP_KERNEL));
        var mas = new MaState<ulong>(mt);

        // Lower bounds that don't fit.
        Assert.Equal(EBUSY, mas.MasEmptyAreaRev(5, 90, 10));
        mas.MasReset();
        Assert.Equal(EBUSY, mas.MasEmptyAreaRev(6, 90, 5));

        // Lower bound that does fit.
        mas.MasReset();
        Assert.Equal(0, mas.MasEmptyAreaRev(5, 90, 5));
        Assert.Equal(5UL, mas.Index);
        Assert.Equal(9UL, mas.Last);

        // One gap that doesn't fit and one that does.
        mas.MasReset();
        Assert.Equal(0, mas.MasEmptyAreaRev(5, 217, 9));
        Assert.Equal(161UL, mas.Index);
        Assert.Equal(169UL, mas.Last);

        // One gap that does fit above the min.
        mas.MasReset();
        Assert.Equal(0, mas.MasEmptyAreaRev(100, 218, 3));
        Assert.Equal(216UL, mas.Index);
        Assert.Equal(218UL, mas.Last);

        // A size that doesn't fit any gap.
        mas.MasReset();
        Assert.Equal(EBUSY, mas.MasEmptyAreaRev(100, 218, 16));

        // A size that fits the gap but not the lower end of the window.
        mas.MasReset();
        Assert.Equal(EBUSY, mas.MasEmptyAreaRev(167, 200, 4));

        // A size that fits the gap but not the upper end of the window.
        mas.MasReset();
        Assert.Equal(EBUSY, mas.MasEmptyAreaRev(100, 162, 4));

        // Forward.
        mas.MasReset();
        Assert.Equal(0, mas.MasEmptyArea(0, 100, 9));
        Assert.Equal(0UL, mas.Index);
        Assert.Equal(8UL, mas.Last);

        mas.MasReset();
        Assert.Equal(0, mas.MasEmptyArea(0, 100, 4));
        Assert.Equal(0UL, mas.Index);
        Assert.Equal(3UL, mas.Last);

        mas.MasReset();
        Assert.Equal(EBUSY, mas.MasEmptyArea(0, 100, 11));

        mas.MasReset();
        Assert.Equal(EBUSY, mas.MasEmptyArea(5, 100, 6));

        // The window is smaller than the size: -EINVAL since the v6.5 lower-bound fixes (was -EBUSY).
        mas.MasReset();
        Assert.Equal(EINVAL, mas.MasEmptyArea(0, 8, 10));

        // The kernel calls this one without checking; the lowest fit is the start of the hole at 160.
        mas.MasReset();
        Assert.Equal(0, mas.MasEmptyArea(100, 165, 3));
        Assert.Equal(160UL, mas.Index);

        mas.MasReset();
        Assert.Equal(EBUSY, mas.MasEmptyArea(100, 163, 6));
    }

    [Fact]
    public void CheckEmptyAreaFill()
    {
        var mt = AllocTree();
        const ulong max = 0x25D78000;
        var mas = new MaState<ulong>(mt);
        for (var shift = 12; shift <= 16; shift++)
        {
            var size = 1UL << shift;
            for (var loop = 0; loop < 5000; loop++)
            {
                mas.MasSet(0);
                Assert.Equal(0, mas.MasEmptyArea(0, max, size));
                Assert.Equal(mas.Index + size - 1, mas.Last);
                Assert.Equal(0, mas.MasStoreGfp(size, Gfp.GFP_KERNEL));
                mas.MasReset();
            }
        }

        MapleTestUtil.AssertValid(mt, "after fill");

        // No space left.
        Assert.Equal(EBUSY, mas.MasEmptyArea(0, max, 0x1000));

        // Fill a depth 3 node to the maximum.
        for (ulong i = 629440511; i <= 629440800; i += 6)
        {
            Assert.Equal(0, mt.MtreeStoreRange(i, i + 5, i, Gfp.GFP_KERNEL));
        }

        // Make space in the second-last depth 4 node, then in the last one.
        mt.MtreeErase(631668735);
        mt.MtreeErase(629506047);
        mas.MasReset();

        // Search from just after the gap in the second-last depth 4 node.
        Assert.Equal(0, mas.MasEmptyArea(629506048, 690000000, 0x5000));
        MapleTestUtil.AssertValid(mt, "end");
        Assert.True(mt.Height >= 3);
    }

    [Fact]
    public void AllocCyclicTesting()
    {
        var mt = AllocTree();
        const ulong entry = 0x7000;
        ulong next = 0;
        for (ulong i = 0; i < 100; i++)
        {
            Assert.Equal(0, mt.MtreeAllocCyclic(out var location, entry, 2, ulong.MaxValue, ref next, Gfp.GFP_KERNEL));
            Assert.Equal(i, location - 2);
            Assert.Equal(i, next - 3);
            Assert.Equal(entry, mt.MtreeLoad(location));
        }

        mt.MtreeDestroy();

        // Exhausting the area and forcing the search to wrap (needs mas_reset() in mas_alloc_cyclic()).
        next = 0;
        mt = AllocTree();
        for (ulong i = 0; i < 1023; i++)
        {
            mt.MtreeAllocCyclic(out var location, entry, 2, 1024, ref next, Gfp.GFP_KERNEL);
            Assert.Equal(i, location - 2);
            Assert.Equal(i, next - 3);
            Assert.Equal(entry, mt.MtreeLoad(location));
        }

        mt.MtreeErase(123);
        Assert.Equal(0UL, mt.MtreeLoad(123));
        Assert.Equal(1, mt.MtreeAllocCyclic(out var loc, entry, 2, 1024, ref next, Gfp.GFP_KERNEL));
        Assert.Equal(123UL, loc);
        Assert.Equal(124UL, next);
        Assert.Equal(entry, mt.MtreeLoad(loc));
        mt.MtreeErase(100);
        mt.MtreeAllocCyclic(out loc, entry, 2, 1024, ref next, Gfp.GFP_KERNEL);
        Assert.Equal(100UL, loc);
        Assert.Equal(101UL, next);
        mt.MtreeDestroy();

        // Overflow: the third allocation reports the wrap.
        next = ulong.MaxValue - 1;
        Assert.Equal(0, mt.MtreeAllocCyclic(out _, entry, 2, ulong.MaxValue, ref next, Gfp.GFP_KERNEL));
        Assert.Equal(0, mt.MtreeAllocCyclic(out _, entry, 2, ulong.MaxValue, ref next, Gfp.GFP_KERNEL));
        Assert.Equal(1, mt.MtreeAllocCyclic(out _, entry, 2, ulong.MaxValue, ref next, Gfp.GFP_KERNEL));
        MapleTestUtil.AssertValid(mt);
    }

    [Fact]
    public void AllocRequiresAllocTreeAndRejectsReservedEntries()
    {
        var reports = new KernelReports();
        var plain = new MapleTree<ulong>(0, null, XArrayEntryPolicy.Instance, reports);
        Assert.Equal(EINVAL, plain.MtreeAllocRange(out _, 0x1000, 1, 0, 100, Gfp.GFP_KERNEL));
        Assert.Equal(EINVAL, plain.MtreeAllocRrange(out _, 0x1000, 1, 0, 100, Gfp.GFP_KERNEL));
        Assert.Equal(0, reports.WarnCount);

        var mt = new MapleTree<ulong>(MapleFlags.MT_FLAGS_ALLOC_RANGE, null, XArrayEntryPolicy.Instance, reports);
        Assert.Equal(EINVAL, mt.MtreeAllocRange(out _, XaMkInternal(3), 1, 0, 100, Gfp.GFP_KERNEL));
        Assert.Equal(1, reports.WarnCount);

        // XA_ZERO_ENTRY is not advanced: it can be stored, occupies its range, and reads as NULL.
        Assert.Equal(EINVAL, mt.MtreeStore(5, XA_RETRY_ENTRY, Gfp.GFP_KERNEL));
        Assert.Equal(0, mt.MtreeStoreRange(10, 20, XA_ZERO_ENTRY, Gfp.GFP_KERNEL));
        Assert.Equal(0UL, mt.MtreeLoad(15));
        Assert.Equal(EEXIST, mt.MtreeInsert(12, XaMkValue(1), Gfp.GFP_KERNEL));
        Assert.Equal(0, mt.MtreeAllocRange(out var start, XaMkValue(2), 11, 0, 100, Gfp.GFP_KERNEL));
        Assert.Equal(21UL, start);
        ulong index = 0;
        Assert.Equal(XaMkValue(2), mt.MtFind(ref index, ulong.MaxValue));
        Assert.Equal(XA_ZERO_ENTRY, mt.MtreeErase(10));

        // An internal entry never lives in the root pointer: storing it at 0 makes a node.
        var t = new MapleTree<ulong>(0, null, XArrayEntryPolicy.Instance);
        Assert.Equal(0, t.MtreeStore(0, XaMkInternal(300), Gfp.GFP_KERNEL));
        Assert.False(t.IsRootPointer);
        Assert.Equal(1, t.Height);
        Assert.Equal(0, t.MtreeStore(0, 0x5000, Gfp.GFP_KERNEL));
        Assert.Equal(0x5000UL, t.MtreeLoad(0));
    }

    [Fact]
    public void EmptyAreaRootPointerAndEmptyTree()
    {
        var mt = AllocTree();
        var mas = new MaState<ulong>(mt);

        // Empty tree: success without searching.
        Assert.Equal(0, mas.MasEmptyArea(0, 100, 10));
        Assert.Equal((0UL, 9UL), (mas.Index, mas.Last));
        Assert.Equal(0, mas.MasEmptyAreaRev(0, 100, 10));
        Assert.Equal((91UL, 100UL), (mas.Index, mas.Last));
        Assert.Equal(EINVAL, mas.MasEmptyArea(5, 4, 1));
        Assert.Equal(EINVAL, mas.MasEmptyArea(0, 100, 0));
        Assert.Equal(EINVAL, mas.MasEmptyArea(0, 8, 10));

        // Root pointer at 0: min 0 is bumped to 1.
        Assert.Equal(0, mt.MtreeInsert(0, 0x4000, Gfp.GFP_KERNEL));
        Assert.True(mt.IsRootPointer);
        Assert.Equal(0, mas.MasEmptyArea(0, 100, 10));
        Assert.Equal((1UL, 10UL), (mas.Index, mas.Last));
        Assert.Equal(EBUSY, mas.MasEmptyArea(0, 9, 10));
        Assert.Equal(EBUSY, mas.MasEmptyArea(0, 0, 1));
        Assert.Equal(0, mas.MasEmptyAreaRev(0, ulong.MaxValue, 1));
        Assert.Equal(ulong.MaxValue, mas.Index);

        // Whole index space: overflow-free.
        Assert.Equal(0, mt.MtreeAllocRrange(out var s, 0x8000, 2, 0, ulong.MaxValue, Gfp.GFP_KERNEL));
        Assert.Equal(ulong.MaxValue - 1, s);
        Assert.Equal(0, mt.MtreeAllocRange(out s, 0x9000, ulong.MaxValue - 2, 0, ulong.MaxValue, Gfp.GFP_KERNEL));
        Assert.Equal(1UL, s);
        Assert.Equal(EBUSY, mt.MtreeAllocRange(out _, 0x9000, 1, 0, ulong.MaxValue, Gfp.GFP_KERNEL));
        MapleTestUtil.AssertValid(mt);
    }

    [Fact]
    public void CheckNomem()
    {
        // mt_set_non_kernel(0): allocations that may not sleep fail, as in the kernel's userspace test harness.
        var alloc = new FailNthMapleNodeAllocator { NonKernel = 0 };
        var mt = new MapleTree<ulong>(0, alloc, XArrayEntryPolicy.Instance);
        const ulong ms = 0xffff8881000f0000;
        Assert.True(mt.MtreeEmpty);

        // Storing something at 1 requires memory allocation; storing at 0 does not.
        Assert.Equal(ENOMEM, mt.MtreeInsert(1, ms, Gfp.GFP_ATOMIC));
        Assert.Equal(ENOMEM, mt.MtreeInsert(1, ms, Gfp.GFP_ATOMIC));
        Assert.Equal(0, mt.MtreeInsert(0, ms, Gfp.GFP_ATOMIC));
        Assert.True(mt.IsRootPointer);
        Assert.Equal(0, alloc.Live);

        // Two racing writers: the first fails to allocate for index 1, gets a node in mas_nomem(), the second
        // inserts at 2, then the first stores with the node it holds, and mas_destroy() frees what is unused.
        var mas = new MaState<ulong>(mt, 1, 1);
        mas.MasStore(ms);
        Assert.Equal(MapleStatus.ma_error, mas.Status);
        Assert.Equal(ENOMEM, mas.Error);
        Assert.True(mas.MasNomem(Gfp.GFP_KERNEL));
        Assert.Equal(MapleStatus.ma_start, mas.Status);
        Assert.Equal(1, mas.Allocated);
        Assert.Equal(0, mt.MtreeInsert(2, 0x3000, Gfp.GFP_KERNEL));
        mas.MasStore(ms);
        Assert.False(mas.MasNomem(Gfp.GFP_KERNEL));
        mas.MasDestroy();
        Assert.Equal(0, mas.Allocated);
        Assert.Equal(ms, mt.MtreeLoad(1));
        Assert.Equal(mt.NodeCount, alloc.Live);
        MapleTestUtil.AssertValid(mt);
        mt.MtreeDestroy();
        Assert.Equal(0, alloc.Live);
    }
}
