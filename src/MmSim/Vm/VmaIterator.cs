using MmSim.Kernel;
using MmSim.MapleTree;

namespace MmSim.Vm;

/// <summary>
/// The VMA tree of one mm (mm->mm_mt, a <see cref="MapleTree{T}"/> with MM_MT_FLAGS) and the kernel's accessors to
/// it (mm/vma.h, include/linux/mm.h): vma_iter_prealloc/store/clear_gfp, vma_find, vma_next, vma_prev, vma_lookup,
/// find_vma, find_vma_prev, find_vma_intersection, vma_iter_area_lowest/highest. Every VMA-tree access of the
/// process layer goes through this file. VMAs are stored as [vm_start, vm_end - 1], as in the kernel; nodes come from
/// the <c>maple_node</c> slab cache, so failslab reaches them and a failed preallocation is -ENOMEM before anything
/// changed.
/// </summary>
public sealed class VmaIterator
{
    private readonly MapleTree<VmArea?> _mt;

    // The state of the operation in progress (vmi->mas of most callers) and the one __mmap_region() keeps its
    // preallocation for the new VMA in while ->mmap runs.
    private readonly MaState<VmArea?> _mas;
    private readonly MaState<VmArea?> _newVma;

    internal VmaIterator(IMapleNodeAllocator allocator, KernelReports reports)
    {
        _mt = new MapleTree<VmArea?>(MapleFlags.MM_MT_FLAGS, allocator, null, reports);
        _mas = new MaState<VmArea?>(_mt);
        _newVma = new MaState<VmArea?>(_mt);
    }

    /// <summary>The maple tree itself (for validation and views).</summary>
    public MapleTree<VmArea?> Tree => _mt;

    /// <summary>Number of stored ranges (map_count when the tree is consistent).</summary>
    public int Count => (int)_mt.Count;

    /// <summary>The stored ranges in ascending order: (first, last, vma); for validation and views.</summary>
    public IEnumerable<(ulong First, ulong Last, VmArea Vma)> Ranges()
    {
        foreach (var r in _mt.MtDumpRanges())
        {
            yield return (r.First, r.Last, r.Entry!);
        }
    }

    /// <summary>for_each_vma(): every VMA in ascending address order (a snapshot, safe against changes).</summary>
    public VmArea[] Snapshot()
    {
        var a = new VmArea[Count];
        var i = 0;
        foreach (var r in _mt.Range())
        {
            a[i++] = r.Entry!;
        }

        return i == a.Length ? a : a[..i];
    }

    /// <summary>
    /// The VMAs <see cref="Snapshot"/> would give, in the same order, without the copy (the invariants' quick
    /// paths). Loop with <c>while (w.MoveNext())</c>, then read <see cref="BoundedVmaWalk.Overflowed"/>: true when
    /// the tree holds more ranges than <see cref="Count"/> says (a corrupted count, where Snapshot would throw).
    /// </summary>
    internal BoundedVmaWalk WalkBounded() => new(_mt.Range().GetEnumerator(), Count);

    /// <summary>vma_lookup(mm, addr): the VMA containing addr, or null.</summary>
    public VmArea? VmaLookup(ulong addr) => _mt.MtreeLoad(addr);

    /// <summary>find_vma(mm, addr): the first VMA with vm_end &gt; addr, or null.</summary>
    public VmArea? FindVma(ulong addr) => _mt.MtFind(ref addr, ulong.MaxValue);

    /// <summary>find_vma_prev(mm, addr, &amp;prev): find_vma(addr), and the VMA before that position.</summary>
    public VmArea? FindVmaPrev(ulong addr, out VmArea? prev)
    {
        var vma = FindVma(addr);
        prev = _mt.MtPrev(vma?.VmStart ?? addr, 0);
        return vma;
    }

    /// <summary>find_vma_intersection(mm, start, end) / vma_find(vmi, end) from start: the first VMA overlapping [start, end).</summary>
    public VmArea? FindVmaIntersection(ulong start, ulong end) => end <= start ? null : _mt.MtFind(ref start, end - 1);

    /// <summary>vma_next() from a VMA: the VMA that follows it, or null.</summary>
    public VmArea? VmaNext(VmArea vma) => _mt.MtNext(vma.VmStart, ulong.MaxValue);

    /// <summary>vma_prev() from a VMA: the VMA that precedes it, or null.</summary>
    public VmArea? VmaPrev(VmArea vma) => _mt.MtPrev(vma.VmStart, 0);

    /// <summary>vma_prev() of a position: the VMA before the range (VMA or gap) containing <paramref name="addr"/>.</summary>
    public VmArea? VmaPrevAddr(ulong addr) => _mt.MtPrev(addr, 0);

    /// <summary>The first VMA starting at or after <paramref name="addr"/> (vma_next() of a gap at addr).</summary>
    public VmArea? VmaNextAddr(ulong addr)
    {
        var v = FindVma(addr);
        return v is not null && v.VmStart < addr ? _mt.MtNext(addr, ulong.MaxValue) : v;
    }

    /// <summary>vma_iter_config() + vma_iter_prealloc(vmi, entry): reserve the nodes a store over [start, end) needs. 0 or -ENOMEM.</summary>
    internal int Prealloc(ulong start, ulong end, VmArea? entry)
    {
        _mas.MasSetRange(start, end - 1);
        return _mas.MasPreallocate(entry, Gfp.GFP_KERNEL);
    }

    /// <summary>vma_iter_store() after <see cref="Prealloc"/>: store vma over [vm_start, vm_end - 1]; cannot fail.</summary>
    internal void StorePrealloc(VmArea vma)
    {
        _mas.MasSetRange(vma.VmStart, vma.VmEnd - 1);
        _mas.MasStorePrealloc(vma);
    }

    /// <summary>vma_iter_free(): give back an unused preallocation.</summary>
    internal void PreallocFree() => _mas.MasDestroy();

    /// <summary>__mmap_region()'s vma_iter_prealloc() for the new VMA, kept while ->mmap runs. 0 or -ENOMEM.</summary>
    internal int PreallocNewVma(VmArea vma)
    {
        _newVma.MasSetRange(vma.VmStart, vma.VmEnd - 1);
        return _newVma.MasPreallocate(vma, Gfp.GFP_KERNEL);
    }

    /// <summary>__mmap_region()'s vma_iter_store() of the new VMA.</summary>
    internal void StoreNewVma(VmArea vma)
    {
        _newVma.MasSetRange(vma.VmStart, vma.VmEnd - 1);
        _newVma.MasStorePrealloc(vma);
    }

    /// <summary>__mmap_region()'s vma_iter_free() on its error paths (and after a late merge).</summary>
    internal void FreeNewVma() => _newVma.MasDestroy();

    /// <summary>mas_store_gfp() of vma over [vm_start, vm_end - 1]. 0 or -ENOMEM (the tree unchanged).</summary>
    internal int StoreGfp(VmArea vma, Gfp gfp = Gfp.GFP_KERNEL)
    {
        _mas.MasSetRange(vma.VmStart, vma.VmEnd - 1);
        return _mas.MasStoreGfp(vma, gfp);
    }

    /// <summary>vma_iter_clear_gfp(vmi, start, end, gfp): erase [start, end - 1]. 0 or -ENOMEM.</summary>
    internal int ClearGfp(ulong start, ulong end, Gfp gfp = Gfp.GFP_KERNEL)
    {
        _mas.MasSetRange(start, end - 1);
        return _mas.MasStoreGfp(null, gfp);
    }

    /// <summary>
    /// vma_iter_area_lowest(vmi, min, max, size): mas_empty_area(min, max - 1, size). On success (0) the lowest fitting
    /// window starts at <paramref name="index"/>; -EINVAL for a bad window, -EBUSY when nothing fits.
    /// </summary>
    public int AreaLowest(ulong min, ulong max, ulong size, out ulong index)
    {
        index = 0;
        if (max == 0)
        {
            return -(int)Errno.EINVAL;
        }

        _mas.MasSet(0);
        var r = _mas.MasEmptyArea(min, max - 1, size);
        if (r == 0)
        {
            index = _mas.Index;
        }

        return r;
    }

    /// <summary>
    /// vma_iter_area_highest(vmi, min, max, size): mas_empty_area_rev(min, max - 1, size). On success (0) the highest
    /// fitting window ends at <paramref name="last"/> (inclusive); vma_iter_end() is last + 1.
    /// </summary>
    public int AreaHighest(ulong min, ulong max, ulong size, out ulong last)
    {
        last = 0;
        if (max == 0)
        {
            return -(int)Errno.EINVAL;
        }

        _mas.MasSet(0);
        var r = _mas.MasEmptyAreaRev(min, max - 1, size);
        if (r == 0)
        {
            last = _mas.Last;
        }

        return r;
    }

    /// <summary>mt_clear_in_rcu() / mt_set_in_rcu().</summary>
    internal void SetInRcu(bool on)
    {
        if (on)
        {
            _mt.MtSetInRcu();
        }
        else
        {
            _mt.MtClearInRcu();
        }
    }

    /// <summary>__mt_destroy(): free every node (the VMAs are the caller's business).</summary>
    internal void Destroy()
    {
        _mt.MtClearInRcu();
        _mt.MtreeDestroy();
    }

    /// <summary>mt_validate().</summary>
    public List<string> Validate() => _mt.MtValidate();
}

/// <summary>The cursor of <see cref="VmaIterator.WalkBounded"/>.</summary>
internal struct BoundedVmaWalk(MapleTree<VmArea?>.Enumerator ranges, long count)
{
    private MapleTree<VmArea?>.Enumerator _ranges = ranges;
    private long _left = count;

    /// <summary>The tree held more ranges than its count (or the count was negative); the walk stopped there.</summary>
    public bool Overflowed { get; private set; } = count < 0;

    public VmArea Current { get; private set; } = null!;

    public bool MoveNext()
    {
        if (Overflowed || !_ranges.MoveNext())
        {
            return false;
        }

        if (--_left < 0)
        {
            Overflowed = true;
            return false;
        }

        Current = _ranges.Current.Entry!;
        return true;
    }
}
