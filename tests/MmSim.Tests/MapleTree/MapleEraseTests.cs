using MmSim.Kernel;
using MmSim.MapleTree;
using MmSim.Model;
using Xunit;

namespace MmSim.Tests.MapleTree;

/// <summary>
/// mtree_erase() at the boundaries the write path special-cases: the first and last range of a leaf (the last one
/// is a spanning store, whose right side is found from the left path), the only range, index 0, ULONG_MAX, and
/// gap updates in allocation trees. Every erase is checked against the model and by mt_validate.
/// </summary>
public class MapleEraseTests
{
    private static (MapleTree<ulong> Tree, HeapMapleNodeAllocator Heap, IntervalMapModel<ulong> Model) Build(
        bool alloc, int n, ulong stride, ulong len)
    {
        var heap = new HeapMapleNodeAllocator();
        var tree = new MapleTree<ulong>(alloc ? MapleFlags.MT_FLAGS_ALLOC_RANGE : 0, heap);
        var model = IntervalMapModel.Empty<ulong>(alloc);
        for (var i = 0; i < n; i++)
        {
            var first = (ulong)i * stride;
            var last = first + len - 1;
            Assert.Equal(0, tree.MtreeInsertRange(first, last, (ulong)i + 1, Gfp.GFP_KERNEL));
            (_, model) = model.Insert(first, last, (ulong)i + 1);
        }

        return (tree, heap, model);
    }

    private static IntervalMapModel<ulong> EraseAndCheck(MapleTree<ulong> tree, HeapMapleNodeAllocator heap,
        IntervalMapModel<ulong> model, ulong index, string context)
    {
        var got = tree.MtreeErase(index);
        (var want, model) = model.Erase(index);
        Assert.True(got == want, $"{context}: erase {index:x} returned {got}, model {want}");
        MapleTestUtil.AssertValid(tree, $"{context}: after erase {index:x}");
        var diff = MapleTestUtil.Diff(tree, model);
        Assert.True(diff is null, $"{context}: erase {index:x}: {diff}");
        Assert.Equal(tree.NodeCount, heap.Live);
        return model;
    }

    /// <summary>
    /// Erase every range that ends its leaf (a spanning store), putting it back after each, in trees of height 1
    /// to 4, packed (the next leaf starts with an entry) and with holes (it starts with NULL, which the erase
    /// absorbs). The right side of the store is taken from the left path; the leaves that end a parent's last
    /// child exercise the climb to a cousin.
    /// </summary>
    [Theory]
    [InlineData(false, 10UL, 10UL)]
    [InlineData(false, 10UL, 4UL)]
    [InlineData(true, 10UL, 10UL)]
    [InlineData(true, 10UL, 4UL)]
    [InlineData(true, 3UL, 1UL)]
    public void EraseOfEachLeafLastRange(bool alloc, ulong stride, ulong len)
    {
        foreach (var n in new[] { 1, 12, 100, 1500, 5000 })
        {
            var (tree, heap, model) = Build(alloc, n, stride, len);
            var spans = 0;
            var maxHeight = 0;
            for (var i = 0; i < n; i++)
            {
                var first = (ulong)i * stride;
                tree.Plan(first, first + len - 1, 0);
                if (tree.PlannedStoreType != MapleStoreType.wr_spanning_store)
                {
                    continue;
                }

                spans++;
                var height = tree.Height;
                maxHeight = Math.Max(maxHeight, height);
                var before = heap.TotalAllocated;
                if (n < 1500 || spans % 8 == 0)
                {
                    model = EraseAndCheck(tree, heap, model, first, $"n={n} h={height} leaf-last {first:x}");
                }
                else
                {
                    Assert.Equal((ulong)i + 1, tree.MtreeErase(first));
                    (_, model) = model.Erase(first);
                }

                // mas_prealloc_calc(): a spanning store preallocates 3 * height + 1 nodes.
                Assert.Equal((3 * height) + 1, heap.TotalAllocated - before);
                Assert.Equal(0, tree.MtreeInsertRange(first, first + len - 1, (ulong)i + 1, Gfp.GFP_KERNEL));
                (_, model) = model.Insert(first, first + len - 1, (ulong)i + 1);
            }

            Assert.True(n < 100 || spans >= n / 20, $"n={n}: only {spans} leaf-last erases");
            Assert.True(n < 5000 || maxHeight >= 4, $"n={n}: height {maxHeight}");
            MapleTestUtil.AssertValid(tree, $"n={n}: after all");
            Assert.Null(MapleTestUtil.Diff(tree, model));
            tree.MtreeDestroy();
            Assert.Equal(0, heap.Live);
        }
    }

    /// <summary>Erase ranges one after another until the tree is empty, in several orders.</summary>
    [Theory]
    [InlineData(false, 0)]
    [InlineData(false, 1)]
    [InlineData(false, 2)]
    [InlineData(true, 0)]
    [InlineData(true, 1)]
    [InlineData(true, 2)]
    public void EraseEverything(bool alloc, int order)
    {
        const int n = 2000;
        var (tree, heap, model) = Build(alloc, n, 16, 16);
        var idx = Enumerable.Range(0, n).ToList();
        if (order == 1)
        {
            idx.Reverse();
        }
        else if (order == 2)
        {
            var r = new SimRandom(5);
            for (var i = idx.Count - 1; i > 0; i--)
            {
                var j = (int)r.NextBelow((ulong)i + 1);
                (idx[i], idx[j]) = (idx[j], idx[i]);
            }
        }

        foreach (var i in idx)
        {
            model = EraseAndCheck(tree, heap, model, ((ulong)i * 16) + 5, $"order {order}");
        }

        Assert.True(tree.MtreeEmpty);
        Assert.Equal(0, heap.Live);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void EraseAtTheEdgesOfTheIndexSpace(bool alloc)
    {
        var heap = new HeapMapleNodeAllocator();
        var tree = new MapleTree<ulong>(alloc ? MapleFlags.MT_FLAGS_ALLOC_RANGE : 0, heap);
        var model = IntervalMapModel.Empty<ulong>(alloc);

        // The only range, at index 0, in the root pointer.
        Assert.Equal(0, tree.MtreeStore(0, 7, Gfp.GFP_KERNEL));
        (_, model) = model.Store(0, 0, 7);
        Assert.True(tree.IsRootPointer);
        model = EraseAndCheck(tree, heap, model, 0, "root pointer");
        Assert.True(tree.MtreeEmpty);

        // The only range, in a leaf.
        Assert.Equal(0, tree.MtreeStoreRange(100, 200, 8, Gfp.GFP_KERNEL));
        (_, model) = model.Store(100, 200, 8);
        model = EraseAndCheck(tree, heap, model, 150, "only range");
        Assert.True(tree.MtreeEmpty);

        // [0, x] and [y, ULONG_MAX] around many ranges: erase both ends, then everything.
        for (ulong i = 1; i < 400; i++)
        {
            Assert.Equal(0, tree.MtreeStoreRange(i * 100, (i * 100) + 49, i, Gfp.GFP_KERNEL));
            (_, model) = model.Store(i * 100, (i * 100) + 49, i);
        }

        Assert.Equal(0, tree.MtreeStoreRange(0, 10, 1000, Gfp.GFP_KERNEL));
        (_, model) = model.Store(0, 10, 1000);
        Assert.Equal(0, tree.MtreeStoreRange(ulong.MaxValue - 10, ulong.MaxValue, 1001, Gfp.GFP_KERNEL));
        (_, model) = model.Store(ulong.MaxValue - 10, ulong.MaxValue, 1001);
        MapleTestUtil.AssertValid(tree, "built");
        model = EraseAndCheck(tree, heap, model, ulong.MaxValue, "ULONG_MAX");
        model = EraseAndCheck(tree, heap, model, 0, "index 0");
        Assert.Equal(default, tree.MtreeErase(ulong.MaxValue));
        Assert.Equal(default, tree.MtreeErase(0));

        // A range ending at ULONG_MAX right after an entry: the NULL may end the last leaf.
        Assert.Equal(0, tree.MtreeStoreRange(39_950, ulong.MaxValue, 1002, Gfp.GFP_KERNEL));
        (_, model) = model.Store(39_950, ulong.MaxValue, 1002);
        model = EraseAndCheck(tree, heap, model, ulong.MaxValue - 1, "tail to ULONG_MAX");
        for (ulong i = 1; i < 400; i++)
        {
            model = EraseAndCheck(tree, heap, model, (i * 100) + 49, "drain");
        }

        Assert.True(tree.MtreeEmpty);
        Assert.Equal(0, heap.Live);
    }

    /// <summary>
    /// In an allocation tree the erased range becomes the lowest hole: the gaps up the path must say so, whether
    /// the erase was an exact fit (first range of a leaf, or inside it) or a spanning store (last of a leaf).
    /// </summary>
    [Fact]
    public void ErasedRangeIsTheLowestHoleForAlloc()
    {
        const int n = 3000;
        var r = new SimRandom(11);
        var (tree, heap, model) = Build(alloc: true, n, 8, 8);
        for (var step = 0; step < 300; step++)
        {
            var v = (ulong)r.NextBelow(n);
            var first = v * 8;
            tree.Plan(first, first + 7, 0);
            var type = tree.PlannedStoreType;
            model = EraseAndCheck(tree, heap, model, first, $"step {step} ({type})");
            Assert.Equal(0, tree.MtreeAllocRange(out var got, 5000 + (ulong)step, 8, 0, ulong.MaxValue, Gfp.GFP_KERNEL));
            Assert.Equal(first, got);
            (_, model) = model.Insert(first, first + 7, 5000 + (ulong)step);
            MapleTestUtil.AssertValid(tree, $"step {step} realloc");
        }

        Assert.Null(MapleTestUtil.Diff(tree, model));
    }
}
