using MmSim.Kernel;

namespace MmSim.MapleTree;

/// <summary>
/// Gap search and range allocation: mas_empty_area(), mas_empty_area_rev(), mtree_alloc_range(),
/// mtree_alloc_rrange(), mtree_alloc_cyclic(). The search descends only into children whose tracked largest gap
/// (maple_arange_64 gaps) can hold the request, so it costs O(height × fan-out), not O(ranges).
/// </summary>
public sealed partial class MapleTree<T>
{
    /// <summary>Where a successful search ended: the window and the leaf slot holding it.</summary>
    internal struct AreaResult
    {
        public ulong Index;
        public ulong Last;

        /// <summary>The leaf whose NULL slot holds the window, or NoNode for an empty / root-pointer tree.</summary>
        public int Leaf;
        public int Slot;
    }

    /// <summary>
    /// mas_empty_area() (<paramref name="rev"/> false) and mas_empty_area_rev(): find a free window of
    /// <paramref name="size"/> indices inside [min, max] (both inclusive), lowest or highest.
    /// </summary>
    /// <returns>0; -EINVAL for min &gt; max, size 0, or a window smaller than size; -EBUSY if nothing fits.</returns>
    internal int EmptyArea(ulong min, ulong max, ulong size, bool rev, out AreaResult res)
    {
        res = default;
        res.Leaf = NoNode;
        if (min > max)
        {
            return Err(Errno.EINVAL);
        }

        if (size == 0 || max - min < size - 1)
        {
            return Err(Errno.EINVAL);
        }

        if (_root == NoNode)
        {
            // mas_sparse_area(): an empty tree fits anywhere; a root pointer occupies index 0.
            if (_rootIsPtr && min == 0)
            {
                min++;
                if (min > max || max - min + 1 < size)
                {
                    return Err(Errno.EBUSY);
                }
            }

            if (!rev)
            {
                res.Index = min;
                res.Last = min + size - 1;
            }
            else
            {
                res.Last = max;
                res.Index = max - size + 1;
            }

            return 0;
        }

        if (!IsAllocTree && _height > 1)
        {
            // maple_range_64 nodes track no gaps: mas_awalk()/mas_rev_awalk() never descend and report -EBUSY.
            return Err(Errno.EBUSY);
        }

        var found = rev ? SearchRev(_root, 0, min, max, size, 0, ref res) : SearchFwd(_root, 0, min, max, size, 0, ref res);
        if (!found)
        {
            return Err(Errno.EBUSY);
        }

        // The search went down the same path WalkPath() takes to res.Index (each level's child holds the
        // window), and recorded it: the insert that follows need not walk again.
        _walkGen = _gen;
        _walkIndex = res.Index;
        return 0;
    }

    private bool SearchFwd(int h, ulong nodeMin, ulong min, ulong max, ulong size, int level, ref AreaResult res)
    {
        var sizeM1 = size - 1;
        _pathL[level] = h;
        if (IsLeaf(h))
        {
            ref var l = ref Lf(h);
            var smin = nodeMin;
            for (var j = 0; j < l.Count; j++)
            {
                var smax = l.Piv[j];
                if (smax >= min)
                {
                    if (smin > max)
                    {
                        return false;
                    }

                    if (IsNull(l.Slot[j]))
                    {
                        var a = smin > min ? smin : min;
                        var b = smax < max ? smax : max;
                        if (b - a >= sizeM1)
                        {
                            res.Index = a;
                            res.Last = a + sizeM1;
                            res.Leaf = h;
                            res.Slot = j;
                            return true;
                        }
                    }
                }

                smin = smax + 1;
            }

            return false;
        }

        var cmin = nodeMin;
        var alloc = IsAllocTree;

        // The search allocates nothing, so the node cannot move while it is referenced.
        ref var n = ref In(h);
        var count = n.Count;
        for (var i = 0; i < count; i++)
        {
            var cmax = n.Piv[i];
            if (cmax >= min)
            {
                if (cmin > max)
                {
                    return false;
                }

                var a = cmin > min ? cmin : min;
                var b = cmax < max ? cmax : max;
                if ((!alloc || n.Gap[i] >= size) && b - a >= sizeM1)
                {
                    _offL[level] = i;
                    if (SearchFwd(n.Child[i], cmin, min, max, size, level + 1, ref res))
                    {
                        return true;
                    }
                }
            }

            cmin = cmax + 1;
        }

        return false;
    }

    private bool SearchRev(int h, ulong nodeMin, ulong min, ulong max, ulong size, int level, ref AreaResult res)
    {
        var sizeM1 = size - 1;
        _pathL[level] = h;
        if (IsLeaf(h))
        {
            ref var l = ref Lf(h);
            for (var j = l.Count - 1; j >= 0; j--)
            {
                var smin = j == 0 ? nodeMin : l.Piv[j - 1] + 1;
                var smax = l.Piv[j];
                if (smin > max)
                {
                    continue;
                }

                if (smax < min)
                {
                    return false;
                }

                if (IsNull(l.Slot[j]))
                {
                    var a = smin > min ? smin : min;
                    var b = smax < max ? smax : max;
                    if (b - a >= sizeM1)
                    {
                        res.Last = b;
                        res.Index = b - sizeM1;
                        res.Leaf = h;
                        res.Slot = j;
                        return true;
                    }
                }
            }

            return false;
        }

        var alloc = IsAllocTree;
        ref var n = ref In(h);
        var count = n.Count;
        for (var i = count - 1; i >= 0; i--)
        {
            var cmin = i == 0 ? nodeMin : n.Piv[i - 1] + 1;
            var cmax = n.Piv[i];
            if (cmin > max)
            {
                continue;
            }

            if (cmax < min)
            {
                return false;
            }

            var a = cmin > min ? cmin : min;
            var b = cmax < max ? cmax : max;
            if ((!alloc || n.Gap[i] >= size) && b - a >= sizeM1)
            {
                _offL[level] = i;
                if (SearchRev(n.Child[i], cmin, min, max, size, level + 1, ref res))
                {
                    return true;
                }
            }
        }

        return false;
    }

    /// <summary>
    /// mtree_alloc_range(): store <paramref name="entry"/> at the lowest free window of <paramref name="size"/>
    /// indices inside [min, max] and return its first index in <paramref name="start"/>.
    /// </summary>
    /// <returns>0; -EINVAL (no MT_FLAGS_ALLOC_RANGE, reserved entry, bad window); -EBUSY (no fit); -ENOMEM.</returns>
    public int MtreeAllocRange(out ulong start, T entry, ulong size, ulong min, ulong max, Gfp gfp) =>
        AllocRange(out start, entry, size, min, max, gfp, rev: false, "mtree_alloc_range");

    /// <summary>mtree_alloc_rrange(): as <see cref="MtreeAllocRange"/>, but the highest free window.</summary>
    public int MtreeAllocRrange(out ulong start, T entry, ulong size, ulong min, ulong max, Gfp gfp) =>
        AllocRange(out start, entry, size, min, max, gfp, rev: true, "mtree_alloc_rrange");

    private int AllocRange(out ulong start, T entry, ulong size, ulong min, ulong max, Gfp gfp, bool rev, string fn)
    {
        start = 0;
        if (!IsAllocTree)
        {
            return Err(Errno.EINVAL);
        }

        if (IsReservedForAlloc(entry, fn))
        {
            return Err(Errno.EINVAL);
        }

        var a = _opAlloc;
        while (true)
        {
            var ret = EmptyArea(min, max, size, rev, out var res);
            if (ret != 0)
            {
                MasDestroy(a);
                return ret;
            }

            // mas_insert() of the window; mas_nomem() may drop the lock, so search again after it.
            var insert = InsertAfterSearch(a, res.Index, res.Last, entry, gfp, out var retry);
            if (retry)
            {
                continue;
            }

            if (insert == 0)
            {
                start = res.Index;
            }

            return insert;
        }
    }

    /// <summary>One round of mas_insert() + mas_nomem() for a window the search found.</summary>
    private int InsertAfterSearch(MapleAllocState a, ulong index, ulong last, T entry, Gfp gfp, out bool retry)
    {
        retry = false;
        if (_rootIsPtr && index == 0)
        {
            MasDestroy(a);
            return Err(Errno.EEXIST);
        }

        Plan(index, last, entry);
        a.Request = _wp.Request;
        if (a.Count < a.Request && !MasAllocNodes(a, a.Request, PreallocGfp))
        {
            if (MasNomem(a, gfp))
            {
                retry = true;
                return 0;
            }

            MasDestroy(a);
            return Err(Errno.ENOMEM);
        }

        if (_wp.Type == MapleStoreType.wr_spanning_store || !_wp.InsertOk)
        {
            MasDestroy(a);
            return Err(Errno.EEXIST);
        }

        Execute(a);
        MasDestroy(a);
        return 0;
    }

    /// <summary>
    /// mtree_alloc_cyclic(): allocate one index in [lo, hi] at or after <paramref name="next"/>, wrapping to
    /// <paramref name="lo"/>; <paramref name="next"/> becomes the index after the one allocated.
    /// </summary>
    /// <returns>0; 1 if the allocation wrapped; -EBUSY; -EINVAL; -ENOMEM.</returns>
    public int MtreeAllocCyclic(out ulong start, T entry, ulong lo, ulong hi, ref ulong next, Gfp gfp)
    {
        start = 0;
        if (!IsAllocTree)
        {
            return Err(Errno.EINVAL);
        }

        if (IsReservedForAlloc(entry, "mtree_alloc_cyclic"))
        {
            return Err(Errno.EINVAL);
        }

        // mas_alloc_cyclic()
        var min = lo;
        var from = Math.Max(lo, next);
        var ret = EmptyArea(from, hi, 1, rev: false, out var res);
        if ((_flags & MapleFlags.MT_FLAGS_ALLOC_WRAPPED) != 0 && ret == 0)
        {
            _flags &= ~MapleFlags.MT_FLAGS_ALLOC_WRAPPED;
            ret = 1;
        }

        if (ret < 0 && from > min)
        {
            ret = EmptyArea(min, hi, 1, rev: false, out res);
            if (ret == 0)
            {
                ret = 1;
            }
        }

        if (ret < 0)
        {
            return ret;
        }

        var a = _opAlloc;
        int ins;
        bool retry;
        do
        {
            ins = InsertAfterSearch(a, res.Index, res.Last, entry, gfp, out retry);
        }
        while (retry);

        if (ins < 0)
        {
            return ins;
        }

        start = res.Index;
        next = start + 1;
        if (next == 0)
        {
            _flags |= MapleFlags.MT_FLAGS_ALLOC_WRAPPED;
        }

        return ret;
    }
}
