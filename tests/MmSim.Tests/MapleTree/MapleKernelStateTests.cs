using MmSim.Kernel;
using MmSim.MapleTree;
using Xunit;
using static MmSim.MapleTree.XArrayEntryPolicy;

namespace MmSim.Tests.MapleTree;

/// <summary>
/// Ports of the lib/test_maple_tree.c iterator tests: check_state_handling (the ma_state transition table),
/// next_prev_test, check_find, check_find_2, check_rev_find, check_next_entry, check_prev_entry,
/// check_iteration, check_mas_store_gfp, check_gap_combining (its gap searches).
/// </summary>
public class MapleKernelStateTests
{
    private static MapleTree<ulong> Tree(uint flags = 0) => new(flags, null, XArrayEntryPolicy.Instance);

    private static void AssertState(MaState<ulong> mas, ulong entry, ulong got, ulong index, ulong last, MapleStatus status)
    {
        Assert.Equal(entry, got);
        Assert.Equal(index, mas.Index);
        Assert.Equal(last, mas.Last);
        Assert.Equal(status, mas.Status);
    }

    [Fact]
    public void CheckStateHandlingRootPointer()
    {
        var mt = Tree();
        const ulong ptr = 0x1234500;
        const ulong none = 0;
        mt.MtreeStoreRange(0, 0, ptr, Gfp.GFP_KERNEL);
        var mas = new MaState<ulong>(mt);

        // prev: start -> underflow
        Assert.Equal(none, mas.MasPrev(0));
        Assert.Equal(MapleStatus.ma_underflow, mas.Status);

        // prev: start -> root; pause -> root
        mas.MasSet(10);
        AssertState(mas, ptr, mas.MasPrev(0), 0, 0, MapleStatus.ma_root);
        mas.MasSet(10);
        mas.MasPause();
        AssertState(mas, ptr, mas.MasPrev(0), 0, 0, MapleStatus.ma_root);

        // next: start -> none (from 0 and from 10)
        mas.MasSet(0);
        AssertState(mas, none, mas.MasNext(ulong.MaxValue), 1, ulong.MaxValue, MapleStatus.ma_none);
        mas.MasSet(10);
        AssertState(mas, none, mas.MasNext(ulong.MaxValue), 1, ulong.MaxValue, MapleStatus.ma_none);

        // find: start -> root; root -> none; none -> none; start -> none
        mas.MasSet(0);
        AssertState(mas, ptr, mas.MasFind(ulong.MaxValue), 0, 0, MapleStatus.ma_root);
        AssertState(mas, none, mas.MasFind(ulong.MaxValue), 1, ulong.MaxValue, MapleStatus.ma_none);
        AssertState(mas, none, mas.MasFind(ulong.MaxValue), 1, ulong.MaxValue, MapleStatus.ma_none);
        mas.MasSet(10);
        AssertState(mas, none, mas.MasFind(ulong.MaxValue), 1, ulong.MaxValue, MapleStatus.ma_none);

        // find_rev: none -> root; start -> root; root -> none; none -> none; start -> root
        AssertState(mas, ptr, mas.MasFindRev(0), 0, 0, MapleStatus.ma_root);
        mas.MasSet(0);
        AssertState(mas, ptr, mas.MasFindRev(0), 0, 0, MapleStatus.ma_root);
        AssertState(mas, none, mas.MasFindRev(0), 0, 0, MapleStatus.ma_none);
        AssertState(mas, none, mas.MasFindRev(0), 0, 0, MapleStatus.ma_none);
        mas.MasSet(10);
        AssertState(mas, ptr, mas.MasFindRev(0), 0, 0, MapleStatus.ma_root);

        // walk: start -> none; pause -> none; none -> none (twice)
        mas.MasSet(10);
        AssertState(mas, none, mas.MasWalk(), 1, ulong.MaxValue, MapleStatus.ma_none);
        mas.MasSet(10);
        mas.MasPause();
        AssertState(mas, none, mas.MasWalk(), 1, ulong.MaxValue, MapleStatus.ma_none);
        mas.Index = mas.Last = 10;
        AssertState(mas, none, mas.MasWalk(), 1, ulong.MaxValue, MapleStatus.ma_none);
        AssertState(mas, none, mas.MasWalk(), 1, ulong.MaxValue, MapleStatus.ma_none);

        // walk: start -> root; pause -> root; none -> root; root -> root; root -> none; none -> root
        mas.MasSet(0);
        AssertState(mas, ptr, mas.MasWalk(), 0, 0, MapleStatus.ma_root);
        mas.MasSet(0);
        mas.MasPause();
        AssertState(mas, ptr, mas.MasWalk(), 0, 0, MapleStatus.ma_root);
        mas.Status = MapleStatus.ma_none;
        AssertState(mas, ptr, mas.MasWalk(), 0, 0, MapleStatus.ma_root);
        AssertState(mas, ptr, mas.MasWalk(), 0, 0, MapleStatus.ma_root);
        mas.MasSet(10);
        AssertState(mas, none, mas.MasWalk(), 1, ulong.MaxValue, MapleStatus.ma_none);
        mas.Index = mas.Last = 0;
        AssertState(mas, ptr, mas.MasWalk(), 0, 0, MapleStatus.ma_root);
    }

    [Fact]
    public void CheckStateHandlingNodes()
    {
        var mt = Tree();
        const ulong ptr = 0x1234500, ptr2 = 0x7fff0010, ptr3 = 0x7fff0020;
        const MapleStatus active = MapleStatus.ma_active;
        mt.MtreeStoreRange(0, 0, ptr, Gfp.GFP_KERNEL);
        mt.MtreeStoreRange(0, 0, 0, Gfp.GFP_KERNEL);
        mt.MtreeStoreRange(0x1000, 0x1500, ptr, Gfp.GFP_KERNEL);
        mt.MtreeStoreRange(0x2000, 0x2500, ptr2, Gfp.GFP_KERNEL);
        mt.MtreeStoreRange(0x3000, 0x3500, ptr3, Gfp.GFP_KERNEL);
        var mas = new MaState<ulong>(mt);

        // next: start -> active; pause -> active; none -> active
        mas.MasSet(0);
        AssertState(mas, ptr, mas.MasNext(ulong.MaxValue), 0x1000, 0x1500, active);
        mas.MasSet(0);
        mas.MasPause();
        AssertState(mas, ptr, mas.MasNext(ulong.MaxValue), 0x1000, 0x1500, active);
        mas.Index = mas.Last = 0;
        mas.Offset = 0;
        mas.Status = MapleStatus.ma_none;
        AssertState(mas, ptr, mas.MasNext(ulong.MaxValue), 0x1000, 0x1500, active);

        // next: active -> active (spanning limit); active -> overflow beyond data; overflow -> active
        AssertState(mas, ptr2, mas.MasNext(0x2100), 0x2000, 0x2500, active);
        AssertState(mas, 0, mas.MasNext(0x2999), 0x2501, 0x2fff, MapleStatus.ma_overflow);
        AssertState(mas, ptr3, mas.MasNext(ulong.MaxValue), 0x3000, 0x3500, active);

        // next: active -> overflow (limit reached); overflow -> overflow
        AssertState(mas, 0, mas.MasNext(ulong.MaxValue), 0x3501, ulong.MaxValue, MapleStatus.ma_overflow);
        AssertState(mas, 0, mas.MasNext(ulong.MaxValue), 0x3501, ulong.MaxValue, MapleStatus.ma_overflow);

        // prev: overflow -> active
        AssertState(mas, ptr3, mas.MasPrev(0), 0x3000, 0x3500, active);

        // next: none -> active, skipping the value at the location
        mas.MasSet(0);
        mas.MasNext(ulong.MaxValue);
        mas.Status = MapleStatus.ma_none;
        mas.Offset = 0;
        AssertState(mas, ptr2, mas.MasNext(ulong.MaxValue), 0x2000, 0x2500, active);

        // prev: active -> active; active -> underflow (span limit)
        AssertState(mas, ptr, mas.MasPrev(0), 0x1000, 0x1500, active);
        mas.MasNext(ulong.MaxValue);
        AssertState(mas, ptr, mas.MasPrev(0x1200), 0x1000, 0x1500, active);
        AssertState(mas, 0, mas.MasPrev(0x1200), 0x1000, 0x1500, MapleStatus.ma_underflow);

        // prev: underflow -> underflow (lower limit) spanning the end range; underflow -> underflow (twice)
        AssertState(mas, 0, mas.MasPrev(0x0100), 0, 0x0fff, MapleStatus.ma_underflow);
        AssertState(mas, 0, mas.MasPrev(0), 0, 0x0fff, MapleStatus.ma_underflow);
        AssertState(mas, 0, mas.MasPrev(0), 0, 0x0fff, MapleStatus.ma_underflow);

        // next: underflow -> active; prev: first value -> underflow; find: underflow -> first value
        AssertState(mas, ptr, mas.MasNext(ulong.MaxValue), 0x1000, 0x1500, active);
        AssertState(mas, 0, mas.MasPrev(0x1000), 0x1000, 0x1500, MapleStatus.ma_underflow);
        AssertState(mas, ptr, mas.MasFind(ulong.MaxValue), 0x1000, 0x1500, active);

        // prev: pause -> active
        mas.MasSet(0x3600);
        Assert.Equal(ptr3, mas.MasPrev(0));
        mas.MasPause();
        AssertState(mas, ptr2, mas.MasPrev(0), 0x2000, 0x2500, active);

        // prev: active -> underflow spanning min; active -> active, continue
        AssertState(mas, 0, mas.MasPrev(0x1600), 0x1501, 0x1fff, MapleStatus.ma_underflow);
        AssertState(mas, ptr, mas.MasPrev(0), 0x1000, 0x1500, active);

        // find: start -> active; pause -> active; start -> active on value; active -> active
        mas.MasSet(0);
        AssertState(mas, ptr, mas.MasFind(ulong.MaxValue), 0x1000, 0x1500, active);
        mas.MasSet(0);
        mas.MasPause();
        AssertState(mas, ptr, mas.MasFind(ulong.MaxValue), 0x1000, 0x1500, active);
        mas.MasSet(1200);
        AssertState(mas, ptr, mas.MasFind(ulong.MaxValue), 0x1000, 0x1500, active);
        AssertState(mas, ptr2, mas.MasFind(ulong.MaxValue), 0x2000, 0x2500, active);

        // find: active -> active (NULL); overflow -> active; active -> active (NULL) end
        AssertState(mas, 0, mas.MasFind(0x2700), 0x2501, 0x2fff, active);
        AssertState(mas, ptr3, mas.MasFind(0x5000), 0x3000, 0x3500, active);
        AssertState(mas, 0, mas.MasFind(ulong.MaxValue), 0x3501, ulong.MaxValue, active);

        // find_rev: active (END) -> active; active -> active; pause -> active; active -> underflow
        AssertState(mas, ptr3, mas.MasFindRev(0), 0x3000, 0x3500, active);
        AssertState(mas, ptr2, mas.MasFindRev(0), 0x2000, 0x2500, active);
        mas.MasPause();
        AssertState(mas, ptr, mas.MasFindRev(0), 0x1000, 0x1500, active);
        AssertState(mas, 0, mas.MasFindRev(0), 0, 0x0fff, MapleStatus.ma_underflow);

        // find_rev: start -> active
        mas.MasSet(0x1200);
        AssertState(mas, ptr, mas.MasFindRev(0), 0x1000, 0x1500, active);

        // walk: start -> active (value and NULL), pause -> active, none -> active, active -> active
        mas.MasSet(0x1200);
        AssertState(mas, ptr, mas.MasWalk(), 0x1000, 0x1500, active);
        mas.MasSet(0x1600);
        AssertState(mas, 0, mas.MasWalk(), 0x1501, 0x1fff, active);
        mas.MasSet(0x1200);
        mas.MasPause();
        AssertState(mas, ptr, mas.MasWalk(), 0x1000, 0x1500, active);
        mas.MasSet(0x1600);
        mas.MasPause();
        AssertState(mas, 0, mas.MasWalk(), 0x1501, 0x1fff, active);
        mas.MasSet(0x1200);
        mas.Status = MapleStatus.ma_none;
        AssertState(mas, ptr, mas.MasWalk(), 0x1000, 0x1500, active);
        mas.MasSet(0x1600);
        mas.Status = MapleStatus.ma_none;
        AssertState(mas, 0, mas.MasWalk(), 0x1501, 0x1fff, active);
        mas.Index = 0x1200;
        mas.Last = 0x1200;
        mas.Offset = 0;
        AssertState(mas, ptr, mas.MasWalk(), 0x1000, 0x1500, active);
        mas.Index = 0x1600;
        mas.Last = 0x1600;
        AssertState(mas, 0, mas.MasWalk(), 0x1501, 0x1fff, active);
        mt.MtreeDestroy();

        // mas_find() with ma_underflow; restore active on mas_next(); overflow -> active.
        mt.MtInitFlags(MapleFlags.MT_FLAGS_ALLOC_RANGE);
        for (ulong count = 0; count < 30; count++)
        {
            mas.MasSet(count);
            Assert.Equal(0, mas.MasStoreGfp(XaMkValue(count), Gfp.GFP_KERNEL));
        }

        mas.MasSet(0);
        var entry = mas.MasWalk();
        mas.MasSet(0);
        mas.MasPrev(0);
        Assert.Equal(MapleStatus.ma_underflow, mas.Status);
        Assert.Equal(entry, mas.MasFind(ulong.MaxValue));

        entry = mas.MasNext(ulong.MaxValue);
        var index = mas.Index;
        mas.MasPrev(index);
        Assert.Equal(MapleStatus.ma_underflow, mas.Status);
        Assert.Equal(entry, mas.MasNext(ulong.MaxValue));

        mas.MasPrev(0);
        mas.MasNext(index - 1);
        Assert.Equal(MapleStatus.ma_overflow, mas.Status);
        Assert.Equal(entry, mas.MasNext(ulong.MaxValue));
    }

    [Fact]
    public void NextPrevTest()
    {
        var mt = Tree(MapleFlags.MT_FLAGS_ALLOC_RANGE);
        const ulong nrEntries = 200;
        for (ulong i = 0; i <= nrEntries; i++)
        {
            mt.MtreeStoreRange(i * 10, (i * 10) + 5, XaMkValue(i), Gfp.GFP_KERNEL);
        }

        var mas = new MaState<ulong>(mt);
        var count = 0;
        while (mas.MasFind(1000) != 0 || mas.Last < 1000)
        {
            if (mas.Last >= 1000)
            {
                break;
            }

            count++;
        }

        Assert.True(count >= 100);

        // 680-685 value, 686-689 NULL, 690-695 value.
        mas.MasSet(686);
        Assert.Equal(0UL, mas.MasWalk());
        AssertState(mas, XaMkValue(69), mas.MasNext(1000), 690, 695, MapleStatus.ma_active);
        AssertState(mas, XaMkValue(68), mas.MasPrev(0), 680, 685, MapleStatus.ma_active);
        AssertState(mas, XaMkValue(69), mas.MasNext(1000), 690, 695, MapleStatus.ma_active);
        AssertState(mas, XaMkValue(70), mas.MasNext(1000), 700, 705, MapleStatus.ma_active);

        // Across node boundaries.
        mas.MasSet(70);
        AssertState(mas, XaMkValue(7), mas.MasWalk(), 70, 75, MapleStatus.ma_active);
        AssertState(mas, XaMkValue(8), mas.MasNext(1000), 80, 85, MapleStatus.ma_active);
        AssertState(mas, XaMkValue(7), mas.MasPrev(70), 70, 75, MapleStatus.ma_active);

        // Across two levels.
        mas.MasReset();
        mas.MasSet(707);
        Assert.Equal(0UL, mas.MasWalk());
        AssertState(mas, XaMkValue(71), mas.MasNext(1000), 710, 715, MapleStatus.ma_active);
        AssertState(mas, XaMkValue(72), mas.MasNext(1000), 720, 725, MapleStatus.ma_active);
        AssertState(mas, XaMkValue(71), mas.MasPrev(0), 710, 715, MapleStatus.ma_active);

        // Running off the end and back on.
        mas.MasSet(nrEntries * 10);
        AssertState(mas, XaMkValue(nrEntries), mas.MasWalk(), nrEntries * 10, (nrEntries * 10) + 5, MapleStatus.ma_active);
        AssertState(mas, 0, mas.MasNext(ulong.MaxValue), 0x7d6, ulong.MaxValue, MapleStatus.ma_overflow);
        AssertState(mas, XaMkValue(nrEntries), mas.MasPrev(0), nrEntries * 10, (nrEntries * 10) + 5, MapleStatus.ma_active);

        // Running off the start and back on.
        mas.MasReset();
        mas.MasSet(10);
        AssertState(mas, XaMkValue(1), mas.MasWalk(), 10, 15, MapleStatus.ma_active);
        AssertState(mas, XaMkValue(0), mas.MasPrev(0), 0, 5, MapleStatus.ma_active);
        AssertState(mas, 0, mas.MasPrev(0), 0, 5, MapleStatus.ma_underflow);

        mas.Index = 0;
        mas.Last = 5;
        mas.MasStore(0);
        mas.MasReset();
        mas.MasSet(10);
        mas.MasWalk();
        AssertState(mas, 0, mas.MasPrev(0), 0, 9, MapleStatus.ma_underflow);
        mt.MtreeDestroy();

        mt.MtInitFlags(0);
        mt.MtreeStoreRange(0, 0, XaMkValue(0), Gfp.GFP_KERNEL);
        mt.MtreeStoreRange(5, 5, XaMkValue(5), Gfp.GFP_KERNEL);
        mas.MasSet(5);
        Assert.Equal(0UL, mas.MasPrev(4));
    }

    [Fact]
    public void CheckFind()
    {
        var mt = Tree();
        ulong val = 0;
        Assert.Equal(0, mt.MtreeInsert(val, XaMkValue(val), Gfp.GFP_KERNEL));
        val++;
        const ulong top = 4398046511104UL;
        for (var i = 0; i <= 20; i++)
        {
            Assert.Equal(0, mt.MtreeInsert(val, val != 64 ? XaMkValue(val) : XA_ZERO_ENTRY, Gfp.GFP_KERNEL));
            val <<= 2;
        }

        // mas_find() returns XA_ZERO_ENTRY raw.
        val = 0;
        var mas = new MaState<ulong>(mt);
        ulong entry;
        while ((entry = mas.MasFind(268435456)) != 0)
        {
            Assert.Equal(val != 64 ? XaMkValue(val) : XA_ZERO_ENTRY, entry);
            val <<= 2;
            if (val == 0)
            {
                val = 1;
            }
        }

        // mas_for_each with mas_pause() between steps.
        val = 0;
        mas.MasSet(0);
        while ((entry = mas.MasFind(ulong.MaxValue)) != 0)
        {
            Assert.Equal(val != 64 ? XaMkValue(val) : XA_ZERO_ENTRY, entry);
            val <<= 2;
            if (val == 0)
            {
                val = 1;
            }

            mas.MasPause();
        }

        Assert.Equal(top, val);

        // mt_for_each skips the zero entry.
        val = 0;
        foreach (var (_, _, e) in mt.Range(0, 300))
        {
            Assert.Equal(XaMkValue(val), e);
            val <<= 2;
            if (val == 64)
            {
                val <<= 2;
            }

            if (val == 0)
            {
                val = 1;
            }
        }

        Assert.Equal(1024UL, val);

        // With ULONG_MAX stored: the iteration ends there without wrapping.
        Assert.Equal(0, mt.MtreeInsert(ulong.MaxValue, XaMkValue(long.MaxValue), Gfp.GFP_KERNEL));
        var n = 0;
        foreach (var (first, _, e) in mt.Range())
        {
            n++;
            if (first == ulong.MaxValue)
            {
                Assert.Equal(XaMkValue(long.MaxValue), e);
            }
        }

        Assert.Equal(22, n);
        Assert.Equal(XaMkValue(long.MaxValue), mt.MtreeErase(ulong.MaxValue));
        Assert.Equal(0UL, mt.MtreeLoad(ulong.MaxValue));

        ulong index = 17;
        Assert.Equal(XaMkValue(256), mt.MtFind(ref index, 512));
        Assert.Equal(257UL, index);
        index = 17;
        Assert.Equal(0UL, mt.MtFind(ref index, 20));

        // Find the last value: prev from ULONG_MAX equals prev after erasing the end entry.
        Assert.Equal(0, mt.MtreeInsert(ulong.MaxValue, XaMkValue(long.MaxValue), Gfp.GFP_KERNEL));
        mas.MasReset();
        mas.Index = ulong.MaxValue;
        mas.MasFind(ulong.MaxValue);
        var expected = mas.MasPrev(0);
        var eIndex = mas.Index;
        var eLast = mas.Last;
        mas.MasReset();
        mas.Index = ulong.MaxValue;
        mas.Last = ulong.MaxValue;
        mas.MasErase();
        mas.MasReset();
        var entry2 = mas.MasPrev(0);
        Assert.Equal(expected, entry2);
        Assert.Equal(eIndex, mas.Index);
        Assert.Equal(eLast, mas.Last);

        mas.Status = MapleStatus.ma_none;
        mas.Index = ulong.MaxValue;
        mas.Last = ulong.MaxValue;
        Assert.Equal(expected, mas.MasPrev(0));
        mas.MasSet(0);
        Assert.Equal(0UL, mas.MasPrev(0));
        MapleTestUtil.AssertValid(mt);
    }

    [Fact]
    public void CheckFind2AndRevFind()
    {
        var mt = Tree();
        var mas = new MaState<ulong>(mt);
        Assert.Equal(0UL, mas.MasFind(ulong.MaxValue));
        for (ulong i = 0; i < 256; i++)
        {
            mt.MtreeInsert(i, XaMkValue(i), Gfp.GFP_KERNEL);
            ulong j = 0;
            mas.MasSet(0);
            while (mas.MasFind(ulong.MaxValue) is var e && e != 0)
            {
                Assert.Equal(XaMkValue(j), e);
                j++;
            }

            Assert.Equal(i + 1, j);
        }

        for (ulong i = 0; i < 256; i++)
        {
            Assert.Equal(XaMkValue(i), mt.MtreeErase(i));
            Assert.Equal(0UL, mt.MtreeLoad(i));
            var j = i + 1;
            foreach (var (_, _, e) in mt.Range())
            {
                Assert.Equal(XaMkValue(j), e);
                j++;
            }

            Assert.Equal(256UL, j);
        }

        mt.MtreeDestroy();
        for (ulong i = 0; i <= 200; i++)
        {
            mt.MtreeStoreRange(i * 10, (i * 10) + 5, XaMkValue(i), Gfp.GFP_KERNEL);
        }

        mas.MasSet(1000);
        Assert.Equal(XaMkValue(100), mas.MasFindRev(1000));
        Assert.Equal(0UL, mas.MasFindRev(1000));
        mas.MasSet(999);
        Assert.Equal(0UL, mas.MasFindRev(997));
        mas.MasSet(1000);
        Assert.Equal(XaMkValue(100), mas.MasFindRev(900));
        Assert.Equal(XaMkValue(99), mas.MasFindRev(900));
        mas.MasSet(20);
        Assert.Equal(XaMkValue(2), mas.MasFindRev(0));
        Assert.Equal(XaMkValue(1), mas.MasFindRev(0));
        Assert.Equal(XaMkValue(0), mas.MasFindRev(0));
        Assert.Equal(0UL, mas.MasFindRev(0));
    }

    [Fact]
    public void CheckNextAndPrevEntry()
    {
        var mt = Tree();
        for (ulong i = 0; i <= 30; i++)
        {
            mt.MtreeInsert(i, XaMkValue(i), Gfp.GFP_KERNEL);
        }

        var mas = new MaState<ulong>(mt, 0, 0);
        Assert.Equal(XaMkValue(0), mas.MasWalk());
        for (ulong i = 1; i <= 31; i++)
        {
            Assert.Equal(i > 30 ? 0 : XaMkValue(i), mas.MasNext(30));
        }

        mas = new MaState<ulong>(mt, 16, 16);
        Assert.Equal(XaMkValue(16), mas.MasFind(ulong.MaxValue));
        Assert.Equal(XaMkValue(15), mas.MasPrev(0));

        // Limits on prev.
        var mt2 = Tree(MapleFlags.MT_FLAGS_ALLOC_RANGE);
        var m2 = new MaState<ulong>(mt2);
        for (ulong i = 0; i <= 16; i++)
        {
            m2.MasSetRange(i * 10, (i * 10) + 5);
            Assert.Equal(0, m2.MasStoreGfp(XaMkValue(i), Gfp.GFP_KERNEL));
        }

        m2.MasSet(20);
        Assert.Equal(XaMkValue(2), m2.MasWalk());
        Assert.Equal(0UL, m2.MasPrev(19));
        m2.MasSet(80);
        Assert.Equal(XaMkValue(8), m2.MasWalk());
        Assert.Equal(0UL, m2.MasPrev(76));

        // mt_next / mt_prev.
        Assert.Equal(XaMkValue(3), mt2.MtNext(20, ulong.MaxValue));
        Assert.Equal(0UL, mt2.MtNext(20, 25));
        Assert.Equal(XaMkValue(1), mt2.MtPrev(20, 0));
        Assert.Equal(0UL, mt2.MtPrev(20, 16));
        Assert.Equal(XaMkValue(1), mt2.MtPrev(20, 15));
    }

    [Fact]
    public void CheckIteration()
    {
        var mt = Tree(MapleFlags.MT_FLAGS_ALLOC_RANGE);
        for (ulong i = 0; i <= 125; i++)
        {
            mt.MtreeStoreRange(i * 10, (i * 10) + 9, XaMkValue(i), Gfp.GFP_KERNEL);
        }

        var mas = new MaState<ulong>(mt);
        ulong n = 0;
        ulong val;
        while ((val = mas.MasFind(925)) != 0)
        {
            Assert.Equal(n * 10, mas.Index);
            Assert.Equal((n * 10) + 9, mas.Last);

            // Overwrite the end of entry 92.
            if (n == 92)
            {
                mas.Index = 925;
                mas.Last = 929;
                mas.MasStore(val);
            }

            n++;
        }

        // mas_find() gets the next value.
        Assert.Equal(XaMkValue(n), mas.MasFind(ulong.MaxValue));

        mas.MasSet(0);
        n = 0;
        while ((val = mas.MasFind(785)) != 0)
        {
            Assert.Equal(n * 10, mas.Index);
            Assert.Equal((n * 10) + 9, mas.Last);

            // Overwrite the start of entry 78.
            if (n == 78)
            {
                mas.Index = 780;
                mas.Last = 785;
                mas.MasStore(val);
            }
            else
            {
                n++;
            }
        }

        Assert.Equal(XaMkValue(n), mas.MasFind(ulong.MaxValue));

        mas.MasSet(0);
        n = 0;
        while ((val = mas.MasFind(765)) != 0)
        {
            Assert.Equal(n * 10, mas.Index);
            Assert.Equal((n * 10) + 9, mas.Last);

            // Overwrite the end of entry 76 and advance to the end.
            if (n == 76)
            {
                mas.Index = 760;
                mas.Last = 765;
                mas.MasStore(val);
            }

            n++;
        }

        // The next find returns the part after 765: 766-769.
        Assert.Equal(XaMkValue(76), mas.MasFind(ulong.MaxValue));
        mas.MasDestroy();
        MapleTestUtil.AssertValid(mt);
    }

    [Fact]
    public void CheckMasStoreGfpCopy()
    {
        var mt = Tree(MapleFlags.MT_FLAGS_ALLOC_RANGE);
        for (ulong i = 0; i <= 135; i++)
        {
            mt.MtreeStoreRange(i * 10, (i * 10) + 5, XaMkValue(i), Gfp.GFP_KERNEL);
        }

        var newmt = Tree(MapleFlags.MT_FLAGS_ALLOC_RANGE);
        var newmas = new MaState<ulong>(newmt);
        var mas = new MaState<ulong>(mt);
        ulong val;
        while ((val = mas.MasFind(ulong.MaxValue)) != 0)
        {
            newmas.Index = mas.Index;
            newmas.Last = mas.Last;
            Assert.Equal(0, newmas.MasStoreGfp(val, Gfp.GFP_KERNEL));
        }

        MapleTestUtil.AssertValid(newmt);
        Assert.Equal(mt.MtDumpRanges(), newmt.MtDumpRanges());
    }

    [Fact]
    public void CheckGapCombining()
    {
        // check_gap_combining() on 64-bit: the searches for the holes left by erases.
        ulong[] seq100 = [74, 75, 76, 50, 100, 2, 44, 45, 46, 43, 20, 50, 3, 80, 81, 82, 76, 2, 79, 85, 4];
        var mt = Tree(MapleFlags.MT_FLAGS_ALLOC_RANGE);
        for (ulong i = 0; i <= 100; i++)
        {
            mt.MtreeInsert(i, XaMkValue(i), Gfp.GFP_KERNEL);
        }

        var index = seq100[0];
        mt.MtreeErase(seq100[2]);
        Assert.Equal(0UL, mt.MtreeLoad(seq100[2]));
        mt.MtreeErase(seq100[1]);
        Assert.Equal(0UL, mt.MtreeLoad(seq100[1]));

        var mas = new MaState<ulong>(mt, index, index);
        Assert.Equal(XaMkValue(index), mas.MasFind(ulong.MaxValue));
        mas.MasNext(ulong.MaxValue);
        Assert.Equal(XaMkValue(index + 4), mas.MasNext(ulong.MaxValue));

        // A gap of 2 at index + 1 between seq100[3] and seq100[4].
        mas.MasReset();
        Assert.Equal(0, mas.MasEmptyAreaRev(seq100[3], seq100[4], seq100[5]));
        Assert.Equal(index + 1, mas.Index);

        mt.MtreeErase(seq100[6]);
        Assert.Equal(0UL, mt.MtreeLoad(seq100[6]));
        mt.MtreeErase(seq100[7]);
        Assert.Equal(0UL, mt.MtreeLoad(seq100[7]));
        mt.MtreeErase(seq100[8]);
        index = seq100[9];
        mas.Index = index;
        mas.Last = index;
        mas.MasReset();
        Assert.Equal(XaMkValue(index), mas.MasFind(ulong.MaxValue));
        Assert.Equal(XaMkValue(index + 4), mas.MasNext(ulong.MaxValue));

        // A gap of 3 at seq100[6]: search 20 - 50 for size 3.
        mas.MasReset();
        Assert.Equal(0, mas.MasEmptyAreaRev(seq100[10], seq100[11], seq100[12]));
        Assert.Equal(seq100[6], mas.Index);

        mt.MtreeStore(seq100[13], 0, Gfp.GFP_KERNEL);
        Assert.Equal(0UL, mt.MtreeLoad(seq100[13]));
        Assert.Equal(XaMkValue(seq100[14]), mt.MtreeLoad(seq100[14]));
        mt.MtreeStore(seq100[14], 0, Gfp.GFP_KERNEL);
        Assert.Equal(0UL, mt.MtreeLoad(seq100[13]));
        Assert.Equal(0UL, mt.MtreeLoad(seq100[14]));
        mas.MasReset();
        Assert.Equal(0, mas.MasEmptyAreaRev(seq100[16], seq100[15], seq100[17]));
        Assert.Equal(seq100[13], mas.Index);
        MapleTestUtil.AssertValid(mt);

        mt.MtreeStoreRange(seq100[18], seq100[14], 0, Gfp.GFP_KERNEL);
        mt.MtreeErase(seq100[15]);
        mas.MasReset();
        Assert.Equal(0, mas.MasEmptyAreaRev(seq100[16], seq100[19], seq100[20]));
        Assert.Equal(seq100[18], mas.Index);
        MapleTestUtil.AssertValid(mt);
        mt.MtreeDestroy();

        // seq2000: multi-level tree gaps.
        ulong[] seq2000 = [1152, 1151, 1100, 1200, 2];
        for (ulong i = 0; i <= 2000; i++)
        {
            mt.MtreeInsert(i, XaMkValue(i), Gfp.GFP_KERNEL);
        }

        mt.MtreeErase(seq2000[0]);
        mt.MtreeErase(seq2000[1]);
        mas.MasReset();
        Assert.Equal(0, mas.MasEmptyAreaRev(seq2000[2], seq2000[3], seq2000[4]));
        Assert.Equal(seq2000[1], mas.Index);
        MapleTestUtil.AssertValid(mt);
        mt.MtreeDestroy();

        // seq400: rebalancing over two levels.
        ulong[] seq400 = [286, 318, 256, 260, 266, 270, 275, 280, 290, 398, 286, 310];
        for (ulong i = 0; i <= 400; i++)
        {
            mt.MtreeInsert(i, XaMkValue(i), Gfp.GFP_KERNEL);
        }

        mt.MtreeStoreRange(seq400[0], seq400[1], 0, Gfp.GFP_KERNEL);
        MapleTestUtil.AssertValid(mt);
        mt.MtreeDestroy();

        for (ulong i = 0; i <= 400; i++)
        {
            mt.MtreeInsert(i, XaMkValue(i), Gfp.GFP_KERNEL);
        }

        foreach (var k in (int[])[2, 3, 4, 5, 0, 6, 7, 8])
        {
            mt.MtreeStoreRange(seq400[k], seq400[9], XaMkValue(seq400[k]), Gfp.GFP_KERNEL);
        }

        mt.MtreeStoreRange(seq400[10], seq400[11], XaMkValue(seq400[10]), Gfp.GFP_KERNEL);
        MapleTestUtil.AssertValid(mt);
        Assert.Equal(XaMkValue(seq400[10]), mt.MtreeLoad(300));
        Assert.Equal(XaMkValue(seq400[8]), mt.MtreeLoad(311));
    }

    [Fact]
    public void RangeEnumeratorSurvivesWrites()
    {
        var mt = Tree(MapleFlags.MT_FLAGS_ALLOC_RANGE);
        for (ulong i = 0; i < 300; i++)
        {
            mt.MtreeStoreRange(i * 10, (i * 10) + 4, XaMkValue(i), Gfp.GFP_KERNEL);
        }

        // Erase every other range while iterating, as mt_for_each allows under the lock.
        var seen = new List<ulong>();
        foreach (var (first, _, e) in mt.Range(0, 2995))
        {
            seen.Add(first);
            if (XaToValue(e) % 2 == 0)
            {
                mt.MtreeErase(first + 10);
            }
        }

        Assert.Equal(150, seen.Count);
        Assert.True(seen.Zip(seen.Skip(1)).All(p => p.First < p.Second));
        MapleTestUtil.AssertValid(mt);
        Assert.Equal(150L, mt.Count);
    }
}
