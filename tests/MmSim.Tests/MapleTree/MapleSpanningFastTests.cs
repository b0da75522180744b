using System.Text;
using MmSim.Kernel;
using MmSim.MapleTree;
using Xunit;

namespace MmSim.Tests.MapleTree;

/// <summary>
/// The sibling spanning store's direct path (<c>TrySpanSiblings</c>) against the general <c>ReplaceLeaves</c>: two
/// trees run the same random operations, one with the direct path disabled, and must be identical after every
/// step: every node's handle, allocator address, parent link, slot in the parent, Min, Count, all sixteen
/// pivots, slots and gaps, the meta gap and the leaf's largest gap, plus height, count and the node allocator's
/// counters. Leaf-last erases (the spanning stores the path serves) are a large share of the operations.
/// </summary>
public class MapleSpanningFastTests
{
    [Theory]
    [InlineData(true, 5, 1, 1UL)]
    [InlineData(true, 40, 2, 2UL)]
    [InlineData(true, 400, 3, 3UL)]
    [InlineData(true, 3000, 4, 4UL)]
    [InlineData(false, 5, 1, 5UL)]
    [InlineData(false, 40, 2, 6UL)]
    [InlineData(false, 400, 3, 7UL)]
    [InlineData(false, 6000, 4, 8UL)]
    [InlineData(true, 400, 3, 9UL)]
    [InlineData(true, 3000, 4, 10UL)]
    [InlineData(false, 400, 3, 11UL)]
    [InlineData(false, 6000, 4, 12UL)]
    public void DirectPathMatchesGeneralPath(bool alloc, int n, int height, ulong seed)
    {
        var (fast, fastHeap) = New(alloc);
        var (slow, slowHeap) = New(alloc);
        slow.SpanSiblingsFastPathDisabled = true;
        var r = new SimRandom(seed);
        var space = alloc ? (ulong)n * 12 : (ulong)n * 16;
        for (var i = 0; i < n; i++)
        {
            var size = r.NextBelow(16) + 1;
            if (alloc)
            {
                var e1 = fast.MtreeAllocRange(out var s1, (ulong)i + 1, size, 0, ulong.MaxValue, Gfp.GFP_KERNEL);
                var e2 = slow.MtreeAllocRange(out var s2, (ulong)i + 1, size, 0, ulong.MaxValue, Gfp.GFP_KERNEL);
                Assert.Equal((e1, s1), (e2, s2));
            }
            else
            {
                var first = (ulong)i * 16;
                fast.MtreeInsertRange(first, first + size - 1, (ulong)i + 1, Gfp.GFP_KERNEL);
                slow.MtreeInsertRange(first, first + size - 1, (ulong)i + 1, Gfp.GFP_KERNEL);
            }
        }

        AssertSame(fast, fastHeap, slow, slowHeap, "setup");
        var heights = new HashSet<int>();
        for (var step = 0; step < 1500; step++)
        {
            var op = Step(fast, slow, r, space, alloc, step);
            AssertSame(fast, fastHeap, slow, slowHeap, $"step {step} ({op})");
            MapleTestUtil.AssertValid(fast, $"step {step} ({op})");
            heights.Add(fast.Height);
        }

        Assert.Contains(height, heights);
        Assert.Equal(0, slow.SpanSiblingsFastPathCount);
        Assert.True(fast.SpanSiblingsFastPathCount >= (n >= 400 ? 100 : n >= 40 ? 10 : 0),
            $"direct path taken {fast.SpanSiblingsFastPathCount} times; heights {string.Join(",", heights)}");
    }

    private static (MapleTree<ulong> Tree, HeapMapleNodeAllocator Heap) New(bool alloc)
    {
        var heap = new HeapMapleNodeAllocator();
        return (new MapleTree<ulong>(alloc ? MapleFlags.MT_FLAGS_ALLOC_RANGE : 0, heap), heap);
    }

    /// <summary>One random operation on both trees; their results must agree.</summary>
    private static string Step(MapleTree<ulong> a, MapleTree<ulong> b, SimRandom r, ulong space, bool alloc, int step)
    {
        var kind = r.NextBelow(10);
        var entry = (ulong)step + 100_000;
        if (kind < 4)
        {
            // The last range of a random leaf: a spanning store unless the leaf is the last.
            var index = LeafLastIndex(a, r.NextBelow(space));
            Assert.Equal(a.MtreeErase(index), b.MtreeErase(index));
            return $"leaf-last erase {index:x}";
        }

        if (kind < 6)
        {
            var index = r.NextBelow(space);
            Assert.Equal(a.MtreeErase(index), b.MtreeErase(index));
            return $"erase {index:x}";
        }

        var first = r.NextBelow(space);
        var last = first + r.NextBelow(kind == 9 ? 64UL : 16UL);
        if (kind == 6)
        {
            var value = r.Percent(25) ? 0UL : entry;
            Assert.Equal(a.MtreeStoreRange(first, last, value, Gfp.GFP_KERNEL),
                b.MtreeStoreRange(first, last, value, Gfp.GFP_KERNEL));
            return $"store [{first:x}, {last:x}] = {value}";
        }

        if (kind == 7 && alloc)
        {
            var size = r.NextBelow(16) + 1;
            var e1 = a.MtreeAllocRange(out var s1, entry, size, 0, space, Gfp.GFP_KERNEL);
            var e2 = b.MtreeAllocRange(out var s2, entry, size, 0, space, Gfp.GFP_KERNEL);
            Assert.Equal((e1, s1), (e2, s2));
            return $"alloc {size}";
        }

        Assert.Equal(a.MtreeInsertRange(first, last, entry, Gfp.GFP_KERNEL),
            b.MtreeInsertRange(first, last, entry, Gfp.GFP_KERNEL));
        return $"insert [{first:x}, {last:x}]";
    }

    /// <summary>The first index of the last non-NULL range of the leaf holding <paramref name="index"/>.</summary>
    private static ulong LeafLastIndex(MapleTree<ulong> t, ulong index)
    {
        if (t.RootNode == MapleTree<ulong>.NoNode)
        {
            return index;
        }

        var leaf = t.SeekLeaf(index, out _);
        ref var l = ref t.Lf(leaf);
        for (var i = l.Count - 1; i >= 0; i--)
        {
            if (l.Slot[i] != 0)
            {
                return t.SlotMin(leaf, i);
            }
        }

        return index;
    }

    private static void AssertSame(MapleTree<ulong> a, HeapMapleNodeAllocator ha, MapleTree<ulong> b,
        HeapMapleNodeAllocator hb, string context)
    {
        var da = Dump(a, ha);
        var db = Dump(b, hb);
        if (da != db)
        {
            var la = da.Split('\n');
            var lb = db.Split('\n');
            var i = 0;
            while (i < la.Length && i < lb.Length && la[i] == lb[i])
            {
                i++;
            }

            Assert.Fail($"{context}: trees differ at line {i}:\n direct  {(i < la.Length ? la[i] : "<end>")}\n general {(i < lb.Length ? lb[i] : "<end>")}");
        }
    }

    /// <summary>Everything observable and every cached field, node by node in preorder.</summary>
    private static string Dump(MapleTree<ulong> t, HeapMapleNodeAllocator heap)
    {
        var sb = new StringBuilder();
        sb.Append($"height {t.Height} count {t.Count} nodes {t.NodeCount} leaves {t.LeafCount} root {t.RootNode} ")
            .Append($"ptr {t.IsRootPointer} live {heap.Live} calls {heap.Calls} total {heap.TotalAllocated}\n");
        if (t.RootNode != MapleTree<ulong>.NoNode)
        {
            DumpNode(t, t.RootNode, sb);
        }

        return sb.ToString();
    }

    private static void DumpNode(MapleTree<ulong> t, int h, StringBuilder sb)
    {
        if (MapleTree<ulong>.IsLeaf(h))
        {
            ref var l = ref t.Lf(h);
            sb.Append($"L{h} obj {l.Obj:x} parent {l.Parent}/{l.PSlot} min {l.Min:x} count {l.Count} gap {l.MaxGap:x} |");
            for (var i = 0; i < 16; i++)
            {
                sb.Append($" {l.Piv[i]:x}={l.Slot[i]}");
            }

            sb.Append('\n');
            return;
        }

        ref var n = ref t.In(h);
        sb.Append($"I{h} obj {n.Obj:x} parent {n.Parent}/{n.PSlot} min {n.Min:x} count {n.Count} meta {n.MetaGap} |");
        for (var i = 0; i < 16; i++)
        {
            sb.Append($" {n.Piv[i]:x}:{n.Child[i]}:{n.Gap[i]:x}");
        }

        sb.Append('\n');
        for (var i = 0; i < n.Count; i++)
        {
            DumpNode(t, n.Child[i], sb);
        }
    }
}
