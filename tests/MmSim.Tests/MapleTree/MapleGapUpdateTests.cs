using MmSim.Kernel;
using MmSim.MapleTree;
using MmSim.Model;
using Xunit;

namespace MmSim.Tests.MapleTree;

/// <summary>
/// The gap updates of in-place stores in allocation trees (mas_update_gap(): the leaf's largest gap taken from its
/// cached value where the store decides it, and mas_parent_gap()'s meta gap without a rescan unless the largest gap
/// was lowered). Holes of 1–3 indices make many equal gaps, so the meta slot's "highest slot among equals" rule,
/// a raised gap, a tie below and above the meta slot, and a lowered largest gap all occur; every step is checked
/// by mt_validate (cached leaf gaps, parent gaps and meta slots) and against the model.
/// </summary>
public class MapleGapUpdateTests
{
    [Theory]
    [InlineData(40UL)]
    [InlineData(400UL)]
    [InlineData(3000UL)]
    public void EraseAndAllocKeepEveryGapExact(ulong n)
    {
        var r = new SimRandom(0x9a9 + n);
        var heap = new HeapMapleNodeAllocator();
        var tree = new MapleTree<ulong>(MapleFlags.MT_FLAGS_ALLOC_RANGE, heap);
        var model = IntervalMapModel.Empty<ulong>(true);
        var stored = new List<(ulong First, ulong Last)>();
        ulong at = 0;
        for (ulong i = 0; i < n; i++)
        {
            var len = r.NextBelow(4) + 1;
            Assert.Equal(0, tree.MtreeInsertRange(at, at + len - 1, i + 1, Gfp.GFP_KERNEL));
            (_, model) = model.Insert(at, at + len - 1, i + 1);
            stored.Add((at, at + len - 1));
            at += len + r.NextBelow(3);
        }

        MapleTestUtil.AssertValid(tree, "built");
        for (var step = 0; step < 1500; step++)
        {
            string what;
            if (stored.Count > 0 && r.NextBelow(2) == 0)
            {
                var k = (int)r.NextBelow((ulong)stored.Count);
                var (first, _) = stored[k];
                stored[k] = stored[^1];
                stored.RemoveAt(stored.Count - 1);
                tree.Plan(first, first, 0);
                what = $"erase {first:x} ({tree.PlannedStoreType})";
                Assert.NotEqual(0UL, tree.MtreeErase(first));
                (_, model) = model.Erase(first);
            }
            else
            {
                var size = r.NextBelow(3) + 1;
                var v = 100_000 + (ulong)step;
                Assert.Equal(0, tree.MtreeAllocRange(out var got, v, size, 0, ulong.MaxValue, Gfp.GFP_KERNEL));
                what = $"alloc {size} at {got:x}";
                (_, model) = model.Insert(got, got + size - 1, v);
                stored.Add((got, got + size - 1));
            }

            MapleTestUtil.AssertValid(tree, $"n {n} step {step}: {what}");
            var diff = MapleTestUtil.Diff(tree, model);
            Assert.True(diff is null, $"n {n} step {step}: {what}: {diff}");
        }
    }
}
