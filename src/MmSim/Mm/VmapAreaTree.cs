using MmSim.Kernel;
using MmSim.MapleTree;

namespace MmSim.Mm;

/// <summary>
/// The seam behind which vmap areas get their addresses: the kernel's busy/lazy trees plus the free-space tree
/// (free_vmap_area_root) of mm/vmalloc.c, reduced to three operations. A range is occupied from
/// <see cref="TryAlloc"/> until <see cref="Remove"/>, whether its area is busy or waiting on the lazy list.
/// Backed by a maple tree with MT_FLAGS_ALLOC_RANGE: the lowest fit is the maple tree's gap search
/// (mas_empty_area), the containment lookup mtree_load. Its nodes are host memory (the kernel keeps vmap areas in
/// rb-trees threaded through the vmap_area objects themselves, so these nodes cost no simulated slab memory and
/// add no failslab points).
/// </summary>
internal sealed class VmapAreaTree
{
    private readonly MapleTree<VmapArea?> _mt;
    private readonly MaState<VmapArea?> _mas;

    public VmapAreaTree(IMapleNodeAllocator? allocator = null)
    {
        _mt = new MapleTree<VmapArea?>(MapleFlags.MT_FLAGS_ALLOC_RANGE, allocator);
        _mas = new MaState<VmapArea?>(_mt);
    }

    /// <summary>Occupied ranges (busy and lazy).</summary>
    public long Count => _mt.Count;

    /// <summary>Maple nodes the index holds.</summary>
    public int NodeCount => _mt.NodeCount;

    /// <summary>The occupied ranges in address order.</summary>
    public IEnumerable<VmapArea> InOrder
    {
        get
        {
            foreach (var r in _mt.Range())
            {
                yield return r.Entry!;
            }
        }
    }

    /// <summary>The occupied ranges in address order, without allocation (invariant checks).</summary>
    public MapleTree<VmapArea?>.RangeEnumerable Ranges => _mt.Range();

    /// <summary>
    /// __alloc_vmap_area(): the lowest <paramref name="align"/>-aligned start in [vstart, vend) where
    /// <paramref name="size"/> bytes are free; the range becomes <paramref name="va"/>'s. False when nothing fits.
    /// </summary>
    public bool TryAlloc(ulong size, ulong align, ulong vstart, ulong vend, VmapArea va, out ulong addr)
    {
        addr = 0;
        if (!AlignUp(vstart, align, out var lo))
        {
            return false;
        }

        while (true)
        {
            // mas_empty_area(lo, vend - 1, size): the lowest free window at or above lo.
            if (vend == 0 || lo > vend - 1 || vend - lo < size)
            {
                return false;
            }

            _mas.MasReset();
            if (_mas.MasEmptyArea(lo, vend - 1, size) != 0)
            {
                return false;
            }

            var start = _mas.Index;
            if (!AlignUp(start, align, out var aligned))
            {
                return false;
            }

            if (aligned == start)
            {
                // The lowest free window is aligned: it is the lowest aligned fit.
                var ret = _mt.MtreeInsertRange(start, start + size - 1, va, Gfp.GFP_KERNEL);
                if (ret != 0)
                {
                    throw new KernelBugException($"vmap area index: insert of [0x{start:x}, +0x{size:x}) failed with {ret}");
                }

                va.VaStart = start;
                va.VaEnd = start + size;
                addr = start;
                return true;
            }

            // No aligned fit below the next aligned address: search again from there.
            lo = aligned;
        }
    }

    /// <summary>__find_vmap_area(): the occupied range that contains <paramref name="addr"/>, or null.</summary>
    public VmapArea? Find(ulong addr) => _mt.MtreeLoad(addr);

    /// <summary>Give <paramref name="va"/>'s range back to the free space.</summary>
    public void Remove(VmapArea va)
    {
        var old = _mt.MtreeErase(va.VaStart);
        if (!ReferenceEquals(old, va))
        {
            throw new KernelBugException($"{va.Describe()} is not in the vmap area tree");
        }
    }

    /// <summary>mt_validate() of the index: its violations.</summary>
    public List<string> Validate() => _mt.MtValidate();

    /// <summary>True exactly when <see cref="Validate"/> would report nothing, without allocating (quick paths).</summary>
    internal bool Valid()
    {
        var none = default(NoVisit);
        return _mt.MtValid(ref none);
    }

    // MtValid's visitor when the entries are checked elsewhere.
    private struct NoVisit : IMapleRangeVisitor<VmapArea?>
    {
        public readonly bool Visit(ulong first, ulong last, VmapArea? entry) => true;
    }

    // ALIGN(x, a) with overflow detection.
    private static bool AlignUp(ulong x, ulong align, out ulong aligned)
    {
        aligned = (x + align - 1) & ~(align - 1);
        return aligned >= x;
    }
}
