using MmSim.Kernel;
using MmSim.MapleTree;

namespace MmSim.Benchmarks;

/// <summary>
/// The maple benchmarks' data set: N allocations of random 1–16 pages made with mtree_alloc_range() over [0, 2³²)
/// in page units (lowest fit, so the ranges are packed from 0 up, as an allocator leaves them), in an
/// MT_FLAGS_ALLOC_RANGE tree of <c>ulong</c>; range i holds the entry i + 1.
/// </summary>
internal sealed class MapleDataSet
{
    /// <summary>The index space the ranges are allocated in: [0, 2³²).</summary>
    public const ulong Space = 1UL << 32;

    private MapleDataSet(MapleTree<ulong> tree, ulong[] first, ulong[] last)
    {
        Tree = tree;
        First = first;
        Last = last;
    }

    public MapleTree<ulong> Tree { get; }

    /// <summary>Range i's first index.</summary>
    public ulong[] First { get; }

    /// <summary>Range i's last index (inclusive).</summary>
    public ulong[] Last { get; }

    /// <summary>Build the N ranges with sizes drawn from <paramref name="r"/>, which the caller may keep drawing from.</summary>
    public static MapleDataSet Build(int n, SimRandom r)
    {
        var tree = new MapleTree<ulong>(MapleFlags.MT_FLAGS_ALLOC_RANGE);
        var first = new ulong[n];
        var last = new ulong[n];
        for (var i = 0; i < n; i++)
        {
            var size = r.NextBelow(16) + 1;
            if (tree.MtreeAllocRange(out var s, (ulong)i + 1, size, 0, Space - 1, Gfp.GFP_KERNEL) != 0)
            {
                throw new InvalidOperationException("setup allocation failed");
            }

            first[i] = s;
            last[i] = s + size - 1;
        }

        return new MapleDataSet(tree, first, last);
    }

    /// <summary>The seed every maple benchmark builds its data set from.</summary>
    public static SimRandom NewRandom() => new(0x6d61706c65UL);
}
