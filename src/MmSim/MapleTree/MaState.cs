using MmSim.Kernel;

namespace MmSim.MapleTree;

/// <summary>
/// struct ma_state: the advanced API's cursor (MA_STATE(mas, mt, index, last)). It holds a range
/// [<see cref="Index"/>, <see cref="Last"/>], a <see cref="Status"/>, the leaf it points into, and the nodes a
/// write has preallocated. Its walks follow lib/maple_tree.c (mas_walk, mas_find, mas_find_rev, mas_next,
/// mas_prev) including the ma_root / ma_none / ma_overflow / ma_underflow transitions that
/// <c>check_state_handling</c> asserts. If the tree is written through another path while the state points into
/// it, the state re-walks from its saved index, as the kernel does when it meets a dead node.
/// </summary>
public sealed class MaState<T>
{
    private readonly MapleTree<T> _tree;
    private readonly MapleAllocState _alloc = new();
    private int _node = MapleTree<T>.NoNode;
    private ulong _min;
    private ulong _max = ulong.MaxValue;
    private int _end;
    private long _gen;
    private bool _prealloc;

    /// <summary>MA_STATE(mas, mt, first, end).</summary>
    public MaState(MapleTree<T> tree, ulong index = 0, ulong last = 0)
    {
        _tree = tree;
        Index = index;
        Last = last;
        Status = MapleStatus.ma_start;
    }

    public MapleTree<T> Tree => _tree;

    /// <summary>mas->index.</summary>
    public ulong Index { get; set; }

    /// <summary>mas->last.</summary>
    public ulong Last { get; set; }

    /// <summary>mas->status.</summary>
    public MapleStatus Status { get; set; }

    /// <summary>mas->offset: the slot in the current leaf.</summary>
    public int Offset { get; set; }

    /// <summary>The error of an ma_error state (negative errno), as xa_err(mas->node).</summary>
    public int Error { get; private set; }

    /// <summary>mas->node: the address of the leaf the state points into, or 0.</summary>
    public ulong Node => Status == MapleStatus.ma_active && _node != MapleTree<T>.NoNode ? _tree.ObjOf(_node) : 0;

    /// <summary>mas_allocated(): nodes this state holds for a write.</summary>
    public int Allocated => _alloc.Count;

    /// <summary>The store type the last write planned (mas->store_type).</summary>
    public MapleStoreType StoreType { get; private set; }

    /// <summary>mas_is_err().</summary>
    public bool IsErr => Status == MapleStatus.ma_error;

    /// <summary>mas_is_active().</summary>
    public bool IsActive => Status == MapleStatus.ma_active;

    /// <summary>mas_set(): point at one index and start over.</summary>
    public void MasSet(ulong index) => MasSetRange(index, index);

    /// <summary>mas_set_range(): point at [index, last] and start over.</summary>
    public void MasSetRange(ulong index, ulong last)
    {
        Index = index;
        Last = last;
        MasReset();
    }

    /// <summary>mas_reset(): start over at the current range.</summary>
    public void MasReset()
    {
        Status = MapleStatus.ma_start;
        _node = MapleTree<T>.NoNode;
    }

    /// <summary>mas_pause(): make the state restartable after the lock is dropped.</summary>
    public void MasPause()
    {
        Status = MapleStatus.ma_pause;
        _node = MapleTree<T>.NoNode;
    }

    private void SetErr(int err)
    {
        Error = err;
        Status = MapleStatus.ma_error;
        _node = MapleTree<T>.NoNode;
    }

    // ---- walking ---------------------------------------------------------------------------------------------

    /// <summary>mas_start(): enter the tree. Returns the root entry for index 0 of a root-pointer tree.</summary>
    private T MasStart()
    {
        if (Status != MapleStatus.ma_start)
        {
            return default!;
        }

        _min = 0;
        _max = ulong.MaxValue;
        _gen = _tree.Generation;
        if (_tree.RootNode != MapleTree<T>.NoNode)
        {
            Status = MapleStatus.ma_active;
            _node = _tree.RootNode;
            Offset = 0;
            return default!;
        }

        _node = MapleTree<T>.NoNode;
        Offset = MapleNodeLayout.MAPLE_NODE_SLOTS;
        if (!_tree.IsRootPointer)
        {
            Status = MapleStatus.ma_none;
            return default!;
        }

        Status = MapleStatus.ma_root;
        return Index > 0 ? default! : _tree.RootPtr;
    }

    /// <summary>mas_state_walk(): mas_start() then mtree_range_walk().</summary>
    private T StateWalk()
    {
        if (Status == MapleStatus.ma_active && (_gen != _tree.Generation || _node == MapleTree<T>.NoNode))
        {
            Status = MapleStatus.ma_start;
        }

        var entry = MasStart();
        if (Status is MapleStatus.ma_none or MapleStatus.ma_root)
        {
            return entry;
        }

        return RangeWalk();
    }

    /// <summary>mtree_range_walk(): descend to the leaf slot holding Index; Index/Last become the slot's range.</summary>
    private T RangeWalk()
    {
        var t = _tree;
        int h;
        if (_node != MapleTree<T>.NoNode && MapleTree<T>.IsLeaf(_node) && Index >= _min && Index <= _max)
        {
            h = _node;
        }
        else
        {
            h = t.RootNode;
            _min = 0;
            _max = ulong.MaxValue;
            while (h >= 0)
            {
                ref var n = ref t.In(h);
                var i = 0;
                while (n.Piv[i] < Index)
                {
                    i++;
                }

                h = n.Child[i];
            }
        }

        ref var l = ref t.Lf(h);
        var j = 0;
        while (l.Piv[j] < Index)
        {
            j++;
        }

        _node = h;
        _min = l.Min;
        _max = l.Piv[l.Count - 1];
        _end = l.Count - 1;
        Offset = j;
        Index = j == 0 ? l.Min : l.Piv[j - 1] + 1;
        Last = l.Piv[j];
        return l.Slot[j];
    }

    /// <summary>mas_rewalk(): re-enter the tree at <paramref name="index"/> (after the tree changed under us).</summary>
    private void Rewalk(ulong index)
    {
        Index = Last = index;
        Status = MapleStatus.ma_start;
        _node = MapleTree<T>.NoNode;
        StateWalk();
    }

    private bool Stale => _gen != _tree.Generation;

    /// <summary>mas_walk(): the entry at Index; Index/Last become the range it covers (the NULL range if empty).</summary>
    public T MasWalk()
    {
        if (Status != MapleStatus.ma_active && Status != MapleStatus.ma_start)
        {
            Status = MapleStatus.ma_start;
        }

        var entry = StateWalk();
        if (Status == MapleStatus.ma_none)
        {
            Index = 0;
            Last = ulong.MaxValue;
        }
        else if (Status == MapleStatus.ma_root)
        {
            if (Index == 0)
            {
                Last = 0;
                return entry;
            }

            Index = 1;
            Last = ulong.MaxValue;
            Status = MapleStatus.ma_none;
            return default!;
        }

        return entry;
    }

    /// <summary>mas_may_activate(): resume from overflow/underflow if the state still points into the tree.</summary>
    private void MayActivate()
    {
        if (_node == MapleTree<T>.NoNode || Stale)
        {
            Status = MapleStatus.ma_start;
        }
        else if (Index > _max || Index < _min)
        {
            Status = MapleStatus.ma_start;
        }
        else
        {
            Status = MapleStatus.ma_active;
        }
    }

    /// <summary>mas_next_node(): move to the next leaf; false (status ma_overflow) past <paramref name="max"/> or the end.</summary>
    private bool NextNode(ulong max)
    {
        var t = _tree;
        if (_max >= max)
        {
            Status = MapleStatus.ma_overflow;
            return false;
        }

        var next = t.NextLeaf(_node);
        if (next == MapleTree<T>.NoNode)
        {
            Status = MapleStatus.ma_overflow;
            return false;
        }

        ref var l = ref t.Lf(next);
        _node = next;
        _min = l.Min;
        _max = l.Piv[l.Count - 1];
        _end = l.Count - 1;
        return true;
    }

    /// <summary>mas_prev_node(): move to the previous leaf; false (status ma_underflow) below <paramref name="min"/>.</summary>
    private bool PrevNode(ulong min)
    {
        var t = _tree;
        if (_min == 0 || _min - 1 < min)
        {
            Status = MapleStatus.ma_underflow;
            return false;
        }

        var prev = t.PrevLeaf(_node);
        if (prev == MapleTree<T>.NoNode)
        {
            Status = MapleStatus.ma_underflow;
            return false;
        }

        ref var l = ref t.Lf(prev);
        _node = prev;
        _min = l.Min;
        _max = l.Piv[l.Count - 1];
        _end = l.Count - 1;
        Offset = _end;
        return true;
    }

    private ulong SlotMax(int j) => _tree.Lf(_node).Piv[j];

    private ulong SafeMin(int j) => j == 0 ? _min : _tree.Lf(_node).Piv[j - 1] + 1;

    /// <summary>mas_next_slot(): the entry in the next slot (skipping NULLs unless <paramref name="empty"/>).</summary>
    private T NextSlot(ulong max, bool empty)
    {
        if (Stale)
        {
            Rewalk(Last);
        }

        if (_max >= max)
        {
            var pivot = Offset < _end ? SlotMax(Offset) : _max;
            if (pivot >= max)
            {
                Status = MapleStatus.ma_overflow;
                return default!;
            }
        }

        var advanced = false;
        if (Offset < _end)
        {
            Index = SlotMax(Offset) + 1;
            advanced = true;
        }

        while (true)
        {
            if (advanced)
            {
                Offset++;
                Last = Offset < _end ? SlotMax(Offset) : _max;
            }
            else
            {
                if (Last >= max)
                {
                    Status = MapleStatus.ma_overflow;
                    return default!;
                }

                if (!NextNode(max))
                {
                    return default!;
                }

                Offset = 0;
                Index = _min;
                Last = SlotMax(0);
            }

            var entry = _tree.Lf(_node).Slot[Offset];
            if (!MapleTree<T>.IsNull(entry))
            {
                return entry;
            }

            if (empty)
            {
                return entry;
            }

            if (Last >= max)
            {
                Status = MapleStatus.ma_overflow;
                return default!;
            }

            Index = Last + 1;
            advanced = Offset < _end;
        }
    }

    /// <summary>mas_prev_slot(): the entry in the previous slot (skipping NULLs unless <paramref name="empty"/>).</summary>
    private T PrevSlot(ulong min, bool empty)
    {
        if (Stale)
        {
            Rewalk(Index);
        }

        if (_min <= min)
        {
            var pivot = SafeMin(Offset);
            if (pivot <= min)
            {
                Status = MapleStatus.ma_underflow;
                return default!;
            }
        }

        while (true)
        {
            if (Offset > 0)
            {
                Offset--;
                Last = Index - 1;
                Index = SafeMin(Offset);
            }
            else
            {
                if (Index <= min)
                {
                    Status = MapleStatus.ma_underflow;
                    return default!;
                }

                if (!PrevNode(min))
                {
                    return default!;
                }

                Last = _max;
                Index = SafeMin(Offset);
            }

            var entry = _tree.Lf(_node).Slot[Offset];
            if (!MapleTree<T>.IsNull(entry))
            {
                return entry;
            }

            if (empty)
            {
                return entry;
            }

            if (Index <= min)
            {
                Status = MapleStatus.ma_underflow;
                return default!;
            }
        }
    }

    private bool NextSetup(ulong max, out T entry)
    {
        entry = default!;
        var wasNone = Status == MapleStatus.ma_none;
        if (Last >= max)
        {
            Status = MapleStatus.ma_overflow;
            return true;
        }

        switch (Status)
        {
            case MapleStatus.ma_active:
                if (Stale)
                {
                    Rewalk(Last);
                }

                return false;
            case MapleStatus.ma_none:
            case MapleStatus.ma_pause:
            case MapleStatus.ma_start:
                Status = MapleStatus.ma_start;
                MasWalk();
                break;
            case MapleStatus.ma_overflow:
                MayActivate();
                if (Status == MapleStatus.ma_start)
                {
                    Rewalk(Last);
                }

                break;
            case MapleStatus.ma_underflow:
                MayActivate();
                entry = MasWalk();
                if (!MapleTree<T>.IsNull(entry))
                {
                    return true;
                }

                break;
            case MapleStatus.ma_root:
                break;
            case MapleStatus.ma_error:
                return true;
        }

        if (Status == MapleStatus.ma_active)
        {
            return false;
        }

        if (Status == MapleStatus.ma_root)
        {
            entry = default!;
            if (wasNone && Index == 0)
            {
                Index = Last = 0;
                return true;
            }

            Index = 1;
            Last = ulong.MaxValue;
            Status = MapleStatus.ma_none;
            return true;
        }

        return Status == MapleStatus.ma_none;
    }

    /// <summary>mas_next(): the next entry after the current range, up to <paramref name="max"/> (may be XA_ZERO_ENTRY).</summary>
    public T MasNext(ulong max)
    {
        if (NextSetup(max, out var entry))
        {
            return entry;
        }

        return NextSlot(max, empty: false);
    }

    /// <summary>mas_next_range(): advance to the next range, NULL ranges included.</summary>
    public T MasNextRange(ulong max)
    {
        if (NextSetup(max, out var entry))
        {
            return entry;
        }

        return NextSlot(max, empty: true);
    }

    private bool PrevSetup(ulong min, out T entry)
    {
        entry = default!;
        if (Index <= min)
        {
            Status = MapleStatus.ma_underflow;
            return true;
        }

        switch (Status)
        {
            case MapleStatus.ma_active:
                if (Stale)
                {
                    Rewalk(Index);
                }

                return false;
            case MapleStatus.ma_start:
                break;
            case MapleStatus.ma_none:
            case MapleStatus.ma_pause:
                Status = MapleStatus.ma_start;
                break;
            case MapleStatus.ma_underflow:
                MayActivate();
                if (Status == MapleStatus.ma_start)
                {
                    Rewalk(Index);
                }

                break;
            case MapleStatus.ma_overflow:
                MayActivate();
                entry = MasWalk();
                if (!MapleTree<T>.IsNull(entry))
                {
                    return true;
                }

                break;
            case MapleStatus.ma_root:
                break;
            case MapleStatus.ma_error:
                return true;
        }

        if (Status == MapleStatus.ma_start)
        {
            MasWalk();
        }

        if (Status == MapleStatus.ma_root)
        {
            if (Index == 0)
            {
                Status = MapleStatus.ma_none;
                return true;
            }

            Index = Last = 0;
            entry = _tree.RootPtr;
            return true;
        }

        if (Status == MapleStatus.ma_none)
        {
            if (Index != 0)
            {
                Index = Last = 0;
                Status = MapleStatus.ma_root;
                entry = _tree.RootPtr;
                return true;
            }

            return true;
        }

        return false;
    }

    /// <summary>mas_prev(): the previous entry before the current range, down to <paramref name="min"/>.</summary>
    public T MasPrev(ulong min)
    {
        if (PrevSetup(min, out var entry))
        {
            return entry;
        }

        return PrevSlot(min, empty: false);
    }

    /// <summary>mas_prev_range(): step back to the previous range, NULL ranges included.</summary>
    public T MasPrevRange(ulong min)
    {
        if (PrevSetup(min, out var entry))
        {
            return entry;
        }

        return PrevSlot(min, empty: true);
    }

    private bool FindSetup(ulong max, out T entry)
    {
        entry = default!;
        switch (Status)
        {
            case MapleStatus.ma_active:
                if (Stale)
                {
                    Rewalk(Last);
                }

                return Last >= max;
            case MapleStatus.ma_start:
                break;
            case MapleStatus.ma_pause:
                if (Last >= max)
                {
                    return true;
                }

                Index = ++Last;
                Status = MapleStatus.ma_start;
                break;
            case MapleStatus.ma_none:
                if (Last >= max)
                {
                    return true;
                }

                Index = Last;
                Status = MapleStatus.ma_start;
                break;
            case MapleStatus.ma_underflow:
                if (Index >= max)
                {
                    Status = MapleStatus.ma_overflow;
                    return true;
                }

                MayActivate();
                entry = MasWalk();
                if (!MapleTree<T>.IsNull(entry))
                {
                    return true;
                }

                break;
            case MapleStatus.ma_overflow:
                if (Last >= max)
                {
                    return true;
                }

                MayActivate();
                entry = MasWalk();
                if (!MapleTree<T>.IsNull(entry))
                {
                    return true;
                }

                break;
            case MapleStatus.ma_root:
                break;
            case MapleStatus.ma_error:
                return true;
        }

        if (Status == MapleStatus.ma_start)
        {
            if (Index > max)
            {
                return true;
            }

            entry = MasWalk();
            if (!MapleTree<T>.IsNull(entry))
            {
                return true;
            }
        }

        if (Status == MapleStatus.ma_root)
        {
            Status = MapleStatus.ma_none;
            Index = 1;
            Last = ulong.MaxValue;
            return true;
        }

        if (Status == MapleStatus.ma_none)
        {
            return true;
        }

        return Index == max;
    }

    /// <summary>mas_find(): first call, the entry at or after Index up to max; later calls, the next entry.</summary>
    public T MasFind(ulong max)
    {
        if (FindSetup(max, out var entry))
        {
            return entry;
        }

        entry = NextSlot(max, empty: false);

        // mas_find() ignores overflow.
        Status = MapleStatus.ma_active;
        return entry;
    }

    /// <summary>mas_find_range(): as mas_find() but stops at NULL ranges too.</summary>
    public T MasFindRange(ulong max)
    {
        if (FindSetup(max, out var entry))
        {
            return entry;
        }

        return NextSlot(max, empty: true);
    }

    private bool FindRevSetup(ulong min, out T entry)
    {
        entry = default!;
        switch (Status)
        {
            case MapleStatus.ma_active:
                if (Stale)
                {
                    Rewalk(Index);
                }

                return Index < min;
            case MapleStatus.ma_start:
                break;
            case MapleStatus.ma_pause:
                if (Index <= min)
                {
                    Status = MapleStatus.ma_underflow;
                    return true;
                }

                Last = --Index;
                Status = MapleStatus.ma_start;
                break;
            case MapleStatus.ma_none:
                if (Index <= min)
                {
                    Status = MapleStatus.ma_none;
                    return true;
                }

                Last = Index;
                Status = MapleStatus.ma_start;
                break;
            case MapleStatus.ma_overflow:
                if (Index <= min)
                {
                    Status = MapleStatus.ma_underflow;
                    return true;
                }

                MayActivate();
                if (Status == MapleStatus.ma_start)
                {
                    Rewalk(Index);
                }

                if (Status == MapleStatus.ma_active)
                {
                    return Index < min;
                }

                break;
            case MapleStatus.ma_underflow:
                if (Index <= min)
                {
                    return true;
                }

                MayActivate();
                if (Status == MapleStatus.ma_start)
                {
                    Rewalk(Index);
                }

                if (Status == MapleStatus.ma_active)
                {
                    return Index < min;
                }

                break;
            case MapleStatus.ma_root:
                break;
            case MapleStatus.ma_error:
                return true;
        }

        if (Status == MapleStatus.ma_start)
        {
            if (Index < min)
            {
                return true;
            }

            entry = MasWalk();
            if (!MapleTree<T>.IsNull(entry))
            {
                return true;
            }
        }

        if (Status == MapleStatus.ma_root)
        {
            Status = MapleStatus.ma_none;
            return true;
        }

        if (Status == MapleStatus.ma_none)
        {
            // Walked to the location and found nothing, so the previous location is 0.
            Last = Index = 0;
            Status = MapleStatus.ma_root;
            entry = _tree.RootPtr;
            return true;
        }

        return Index < min;
    }

    /// <summary>mas_find_rev(): first call, the entry at or before Index down to min; later calls, the previous one.</summary>
    public T MasFindRev(ulong min)
    {
        if (FindRevSetup(min, out var entry))
        {
            return entry;
        }

        return PrevSlot(min, empty: false);
    }

    /// <summary>mas_find_range_rev(): as mas_find_rev() but stops at NULL ranges too.</summary>
    public T MasFindRangeRev(ulong min)
    {
        if (FindRevSetup(min, out var entry))
        {
            return entry;
        }

        return PrevSlot(min, empty: true);
    }

    // ---- writing ---------------------------------------------------------------------------------------------

    /// <summary>Point the state at the range a store just wrote (the kernel leaves mas there, active).</summary>
    private void AfterStore()
    {
        var index = _tree.PlannedIndex;
        var last = _tree.PlannedLast;
        Index = index;
        Last = last;
        _node = MapleTree<T>.NoNode;
        if (_tree.RootNode == MapleTree<T>.NoNode)
        {
            Status = MapleStatus.ma_start;
            return;
        }

        Status = MapleStatus.ma_start;
        StateWalk();
        Index = index;
        Last = last;
    }

    /// <summary>
    /// mas_store(): write <paramref name="entry"/> over [Index, Last] with what is preallocated plus a GFP_NOWAIT
    /// allocation; on failure the state is ma_error (-ENOMEM) and nothing changed. Returns the entry that was at
    /// Index.
    /// </summary>
    public T MasStore(T entry)
    {
        if (Index > Last)
        {
            SetErr(-(int)Errno.EINVAL);
            return default!;
        }

        var content = _tree.LookupRange(Index, out _, out _);
        _tree.Plan(Index, Last, entry);
        StoreType = _tree.PlannedStoreType;
        if (_prealloc)
        {
            // MA_STATE_PREALLOC: use the preallocated nodes and keep the rest for the caller's mas_destroy().
            _tree.Execute(_alloc);
            AfterStore();
            return content;
        }

        var request = _tree.PlannedRequest;
        _alloc.Request = request;
        if (request > _alloc.Count && !_tree.MasAllocNodes(_alloc, request, MapleTree<T>.PreallocGfp))
        {
            SetErr(-(int)Errno.ENOMEM);
            return default!;
        }

        _tree.Execute(_alloc);
        MasDestroy();
        AfterStore();
        return content;
    }

    /// <summary>mas_nomem(): after an -ENOMEM store, allocate what it asked for with <paramref name="gfp"/>.</summary>
    public bool MasNomem(Gfp gfp)
    {
        if (Status != MapleStatus.ma_error || Error != -(int)Errno.ENOMEM)
        {
            return false;
        }

        if (!_tree.MasNomem(_alloc, gfp))
        {
            return false;
        }

        Status = MapleStatus.ma_start;
        _node = MapleTree<T>.NoNode;
        return true;
    }

    /// <summary>mas_store_gfp(): store over [Index, Last], allocating with <paramref name="gfp"/> as needed.</summary>
    /// <returns>0 or -ENOMEM (the tree unchanged).</returns>
    public int MasStoreGfp(T entry, Gfp gfp)
    {
        var index = Index;
        var last = Last;
        while (true)
        {
            _tree.Plan(index, last, entry);
            StoreType = _tree.PlannedStoreType;
            var request = _tree.PlannedRequest;
            _alloc.Request = request;
            if (_alloc.Count < request && !_tree.MasAllocNodes(_alloc, request, MapleTree<T>.PreallocGfp))
            {
                if (_tree.MasNomem(_alloc, gfp))
                {
                    continue;
                }

                MasDestroy();
                Index = index;
                Last = last;
                SetErr(-(int)Errno.ENOMEM);
                return -(int)Errno.ENOMEM;
            }

            _tree.Execute(_alloc);
            MasDestroy();
            AfterStore();
            return 0;
        }
    }

    /// <summary>mas_erase(): erase the whole range containing Index; returns the old entry.</summary>
    public T MasErase()
    {
        var index = Index;
        Status = MapleStatus.ma_start;
        while (true)
        {
            var entry = StateWalk();
            if (Status == MapleStatus.ma_root)
            {
                Last = Index;
            }

            if (MapleTree<T>.IsNull(entry))
            {
                return entry;
            }

            _tree.Plan(Index, Last, default!);
            StoreType = _tree.PlannedStoreType;
            var request = _tree.PlannedRequest;
            _alloc.Request = request;
            if (_alloc.Count < request && !_tree.MasAllocNodes(_alloc, request, MapleTree<T>.PreallocGfp))
            {
                if (_tree.MasNomem(_alloc, Gfp.GFP_KERNEL))
                {
                    Index = Last = index;
                    Status = MapleStatus.ma_start;
                    continue;
                }

                MasDestroy();
                SetErr(-(int)Errno.ENOMEM);
                return entry;
            }

            _tree.Execute(_alloc);
            MasDestroy();
            AfterStore();
            return entry;
        }
    }

    /// <summary>mas_preallocate(): allocate the worst case for storing <paramref name="entry"/> over [Index, Last].</summary>
    /// <returns>0 or -ENOMEM (nothing held).</returns>
    public int MasPreallocate(T entry, Gfp gfp)
    {
        _tree.Plan(Index, Last, entry);
        StoreType = _tree.PlannedStoreType;
        var request = _tree.PlannedRequest;
        _alloc.Request = request;
        if (request > 0 && _alloc.Count < request && !_tree.MasAllocNodes(_alloc, request, gfp))
        {
            MasDestroy();
            MasReset();
            return -(int)Errno.ENOMEM;
        }

        _prealloc = true;
        return 0;
    }

    /// <summary>mas_store_prealloc(): store with the nodes mas_preallocate() got; cannot fail.</summary>
    public void MasStorePrealloc(T entry)
    {
        _tree.Plan(Index, Last, entry);
        StoreType = _tree.PlannedStoreType;
        _tree.Execute(_alloc);
        MasDestroy();
        AfterStore();
    }

    /// <summary>mas_destroy(): free the nodes this state still holds.</summary>
    public void MasDestroy()
    {
        _tree.MasDestroy(_alloc);
        _prealloc = false;
    }

    // ---- gap search ------------------------------------------------------------------------------------------

    /// <summary>mas_empty_area(): the lowest window of <paramref name="size"/> free indices in [min, max].</summary>
    /// <returns>0 with Index/Last set to the window; -EINVAL; -EBUSY (status ma_error).</returns>
    public int MasEmptyArea(ulong min, ulong max, ulong size) => EmptyArea(min, max, size, rev: false);

    /// <summary>mas_empty_area_rev(): the highest window of <paramref name="size"/> free indices in [min, max].</summary>
    public int MasEmptyAreaRev(ulong min, ulong max, ulong size) => EmptyArea(min, max, size, rev: true);

    private int EmptyArea(ulong min, ulong max, ulong size, bool rev)
    {
        var ret = _tree.EmptyArea(min, max, size, rev, out var res);
        if (ret == -(int)Errno.EINVAL)
        {
            return ret;
        }

        if (ret != 0)
        {
            SetErr(ret);
            return ret;
        }

        Index = res.Index;
        Last = res.Last;
        if (res.Leaf == MapleTree<T>.NoNode)
        {
            Status = _tree.IsRootPointer ? MapleStatus.ma_root : MapleStatus.ma_none;
            _node = MapleTree<T>.NoNode;
            return 0;
        }

        ref var l = ref _tree.Lf(res.Leaf);
        _node = res.Leaf;
        _min = l.Min;
        _max = l.Piv[l.Count - 1];
        _end = l.Count - 1;
        _gen = _tree.Generation;
        Offset = res.Slot;
        Status = MapleStatus.ma_active;
        return 0;
    }

    /// <summary>mas_alloc_cyclic() is reached through <see cref="MapleTree{T}.MtreeAllocCyclic"/>.</summary>
    public override string ToString() =>
        $"ma_state [{Index:x}, {Last:x}] {Status} offset {Offset}" + (IsErr ? $" err {Error}" : string.Empty);
}
