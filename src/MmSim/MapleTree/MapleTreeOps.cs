using MmSim.Kernel;

namespace MmSim.MapleTree;

/// <summary>
/// The maple tree in kernel return-value terms, for callers that compare numbers (the scenario runner, the
/// checker): a tree of <c>ulong</c> entries (0 is NULL); results are <c>long</c>, a negative errno on failure, and
/// 0 for a NULL entry. An index at or above 2⁶⁴ − 4095 reads as an errno here; use the <c>out</c> overloads of
/// <see cref="MapleTree{T}"/> (or <see cref="TryAllocRange"/>) where such indices matter.
/// </summary>
public static class MapleTreeOps
{
    /// <summary>mtree_insert_range(): 0, -EEXIST, -EINVAL, -ENOMEM.</summary>
    public static long Insert(this MapleTree<ulong> tree, ulong first, ulong last, ulong entry, Gfp gfp = Gfp.GFP_KERNEL) =>
        tree.MtreeInsertRange(first, last, entry, gfp);

    /// <summary>mtree_store_range(): 0, -EINVAL, -ENOMEM.</summary>
    public static long Store(this MapleTree<ulong> tree, ulong first, ulong last, ulong entry, Gfp gfp = Gfp.GFP_KERNEL) =>
        tree.MtreeStoreRange(first, last, entry, gfp);

    /// <summary>mtree_erase(): the old entry, 0 if there was none.</summary>
    public static long Erase(this MapleTree<ulong> tree, ulong index) => unchecked((long)tree.MtreeErase(index));

    /// <summary>mtree_load(): the entry, 0 if there is none.</summary>
    public static long Load(this MapleTree<ulong> tree, ulong index) => unchecked((long)tree.MtreeLoad(index));

    /// <summary>mtree_alloc_range(): the first index allocated, or -EINVAL / -EBUSY / -ENOMEM.</summary>
    public static long AllocRange(this MapleTree<ulong> tree, ulong size, ulong min, ulong max, ulong entry, Gfp gfp = Gfp.GFP_KERNEL) =>
        TryAllocRange(tree, size, min, max, entry, rev: false, out var start, gfp) is var r && r == 0 ? unchecked((long)start) : r;

    /// <summary>mtree_alloc_rrange(): the first index allocated (highest fit), or a negative errno.</summary>
    public static long AllocRrange(this MapleTree<ulong> tree, ulong size, ulong min, ulong max, ulong entry, Gfp gfp = Gfp.GFP_KERNEL) =>
        TryAllocRange(tree, size, min, max, entry, rev: true, out var start, gfp) is var r && r == 0 ? unchecked((long)start) : r;

    /// <summary>mtree_alloc_range() / mtree_alloc_rrange() with the index kept apart from the errno.</summary>
    public static int TryAllocRange(MapleTree<ulong> tree, ulong size, ulong min, ulong max, ulong entry, bool rev,
        out ulong start, Gfp gfp = Gfp.GFP_KERNEL) =>
        rev ? tree.MtreeAllocRrange(out start, entry, size, min, max, gfp) : tree.MtreeAllocRange(out start, entry, size, min, max, gfp);

    /// <summary>mas_empty_area(): the lowest index of a free window, or -EINVAL / -EBUSY.</summary>
    public static long EmptyArea(this MapleTree<ulong> tree, ulong min, ulong max, ulong size) =>
        TryEmptyArea(tree, min, max, size, rev: false, out var index) is var r && r == 0 ? unchecked((long)index) : r;

    /// <summary>mas_empty_area_rev(): the lowest index of the highest free window, or a negative errno.</summary>
    public static long EmptyAreaRev(this MapleTree<ulong> tree, ulong min, ulong max, ulong size) =>
        TryEmptyArea(tree, min, max, size, rev: true, out var index) is var r && r == 0 ? unchecked((long)index) : r;

    /// <summary>mas_empty_area() / mas_empty_area_rev() with the index kept apart from the errno.</summary>
    public static int TryEmptyArea(MapleTree<ulong> tree, ulong min, ulong max, ulong size, bool rev, out ulong index)
    {
        var mas = new MaState<ulong>(tree);
        var r = rev ? mas.MasEmptyAreaRev(min, max, size) : mas.MasEmptyArea(min, max, size);
        index = r == 0 ? mas.Index : 0;
        return r;
    }
}
