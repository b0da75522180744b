using MmSim.Kernel;
using MmSim.MapleTree;
using MmSim.Model;
using Xunit;

namespace MmSim.Tests.MapleTree;

/// <summary>Deep trees (height 3 and more) under wide spanning stores, checked against the model.</summary>
public class MapleStressTests
{
    [Theory]
    [InlineData(21UL, true)]
    [InlineData(22UL, false)]
    public void DeepTreeSpanningStoresMatchModel(ulong seed, bool alloc)
    {
        var r = new SimRandom(seed);
        var heap = new HeapMapleNodeAllocator();
        var tree = new MapleTree<ulong>(alloc ? MapleFlags.MT_FLAGS_ALLOC_RANGE : 0, heap);
        var model = IntervalMapModel.Empty<ulong>(alloc);
        var maxHeight = 0;
        for (var i = 0; i < 6000; i++)
        {
            var a = r.NextBelow(1_000_000);
            var b = a + r.NextBelow(8);
            var e = r.NextBelow(1 << 20) + 1;
            var got = tree.MtreeInsertRange(a, b, e, Gfp.GFP_KERNEL);
            (var want, model) = model.Insert(a, b, e);
            Assert.Equal(want, got);
            maxHeight = Math.Max(maxHeight, tree.Height);
        }

        MapleTestUtil.AssertValid(tree, "after fill");
        Assert.Null(MapleTestUtil.Diff(tree, model));
        Assert.True(maxHeight >= 3, $"height {maxHeight}");

        for (var i = 0; i < 400; i++)
        {
            var a = r.NextBelow(1_000_000);
            var len = r.Percent(20) ? r.NextBelow(200_000) : r.NextBelow(3000);
            var b = a + len;
            var e = r.Percent(50) ? 0 : r.NextBelow(1000) + 1;
            string what;
            if (r.Percent(70))
            {
                what = $"store {a:x} {b:x} {e}";
                Assert.Equal(0, tree.MtreeStoreRange(a, b, e, Gfp.GFP_KERNEL));
                (_, model) = model.Store(a, b, e);
            }
            else
            {
                var idx = model.Count > 0 ? model.Ranges[(int)r.NextBelow((ulong)model.Count)].Last : a;
                what = $"erase {idx:x}";
                var old = tree.MtreeErase(idx);
                (var want, model) = model.Erase(idx);
                Assert.Equal(want, old);
            }

            MapleTestUtil.AssertValid(tree, what);
            Assert.True(MapleTestUtil.Diff(tree, model) is null, what);
            Assert.Equal(tree.NodeCount, heap.Live);
        }

        // Empty it with one NULL store over everything; the tree has no nodes left.
        Assert.Equal(0, tree.MtreeStoreRange(0, ulong.MaxValue, 0, Gfp.GFP_KERNEL));
        Assert.True(tree.MtreeEmpty);
        Assert.Equal(0, heap.Live);
    }

    [Fact]
    public void EraseEverythingOneByOneShrinksToEmpty()
    {
        var heap = new HeapMapleNodeAllocator();
        var tree = new MapleTree<ulong>(MapleFlags.MT_FLAGS_ALLOC_RANGE, heap);
        for (ulong i = 0; i < 5000; i++)
        {
            Assert.Equal(0, tree.MtreeInsertRange(i * 10, (i * 10) + 4, i + 1, Gfp.GFP_KERNEL));
        }

        Assert.True(tree.Height >= 4);
        var r = new SimRandom(5);
        var order = Enumerable.Range(0, 5000).OrderBy(_ => r.NextUInt64()).ToList();
        var n = 0;
        foreach (var i in order)
        {
            Assert.Equal((ulong)i + 1, tree.MtreeErase((ulong)i * 10));
            if (++n % 250 == 0)
            {
                MapleTestUtil.AssertValid(tree, $"after {n} erases");
                Assert.Equal(5000 - n, tree.Count);
            }
        }

        Assert.True(tree.MtreeEmpty);
        Assert.Equal(0, tree.Height);
        Assert.Equal(0, heap.Live);
    }
}
