using MmSim.Kernel;
using MmSim.MapleTree;
using Xunit;

namespace MmSim.Tests.MapleTree;

/// <summary>mt_validate() reports corruption with the node's location, and a sound tree validates repeatedly.</summary>
public class MapleValidateTests
{
    private static MapleTree<ulong> Build(int ranges)
    {
        var tree = new MapleTree<ulong>(MapleFlags.MT_FLAGS_ALLOC_RANGE, new HeapMapleNodeAllocator());
        for (var i = 0; i < ranges; i++)
        {
            Assert.Equal(0, tree.MtreeInsertRange((ulong)i * 4, (ulong)i * 4 + 1, (ulong)i + 1, Gfp.GFP_KERNEL));
        }

        return tree;
    }

    [Fact]
    public void SoundTreeValidatesTwice()
    {
        var tree = Build(200);
        Assert.Empty(tree.MtValidate());
        Assert.Empty(tree.MtValidate()); // the reused validation state starts clean
    }

    [Fact]
    public void WrongLeafGapIsReportedWithItsLocation()
    {
        var tree = Build(200);
        var leaf = tree.RootNode;
        while (leaf >= 0)
        {
            leaf = tree.In(leaf).Child[0]; // leftmost path: leaves have negative handles
        }

        tree.Lf(leaf).MaxGap += 5;

        var v = tree.MtValidate();
        var line = Assert.Single(v, l => l.Contains("cached largest gap", StringComparison.Ordinal));
        Assert.StartsWith($"leaf {~leaf} [0, ", line, StringComparison.Ordinal);
        Assert.Contains("] depth ", line, StringComparison.Ordinal);

        tree.Lf(leaf).MaxGap -= 5;
        Assert.Empty(tree.MtValidate());
    }

    [Fact]
    public void WrongInternalGapIsReportedWithItsLocation()
    {
        var tree = Build(200);
        var root = tree.RootNode;
        tree.In(root).Gap[1] += 7;

        var v = tree.MtValidate();
        Assert.Contains(v, l => l.StartsWith($"node {root} [0, ffffffffffffffff] depth 0: gap[1]", StringComparison.Ordinal));
    }
}
