using System.Runtime.CompilerServices;
using MmSim.Kernel;

namespace MmSim.MapleTree;

/// <summary>
/// The write path: mas_wr_store_type() decides the store type and so the worst-case node count
/// (mas_prealloc_calc()); after the nodes are allocated the store runs and cannot fail.
///
/// Every store rewrites the leaf range it touches. The new contents of that range (left remainder, the new entry,
/// right remainder) are packed into one to three leaves; going up, each level's affected children are replaced by
/// the new nodes below them, packing into one to three nodes per level (the kernel's "three new nodes per level
/// plus a new root" bound); at the lowest common ancestor the new nodes replace the old span, splitting upward if
/// the node overflows. Nodes that end up below minimum occupancy are then merged with, or rebalanced against, a
/// sibling, bottom-up; a root with one child collapses. Gaps are recomputed for every internal node touched.
/// </summary>
public sealed partial class MapleTree<T>
{
    private readonly int[] _pathL = new int[MapleNodeLayout.MAPLE_HEIGHT_MAX + 1];
    private readonly int[] _offL = new int[MapleNodeLayout.MAPLE_HEIGHT_MAX + 1];
    private readonly int[] _pathR = new int[MapleNodeLayout.MAPLE_HEIGHT_MAX + 1];
    private readonly int[] _offR = new int[MapleNodeLayout.MAPLE_HEIGHT_MAX + 1];
    private readonly ulong[] _ePiv = new ulong[3 * MapleNodeLayout.MAPLE_RANGE64_SLOTS];
    private readonly T[] _eSlot = new T[3 * MapleNodeLayout.MAPLE_RANGE64_SLOTS];
    private readonly int[] _items = new int[3 * MapleNodeLayout.MAPLE_RANGE64_SLOTS];
    private readonly ulong[] _itemGap = new ulong[3 * MapleNodeLayout.MAPLE_RANGE64_SLOTS];

    // Each gathered child travels with its range (min, max) so writing the new parent reads no child.
    private readonly ulong[] _itemMin = new ulong[3 * MapleNodeLayout.MAPLE_RANGE64_SLOTS];
    private readonly ulong[] _itemMax = new ulong[3 * MapleNodeLayout.MAPLE_RANGE64_SLOTS];

    /// <summary>Nodes whose contents changed in this write: their largest gap must reach their parent.</summary>
    private readonly List<int> _dirty = [];
    private readonly List<int>[] _byDepth = new List<int>[MapleNodeLayout.MAPLE_HEIGHT_MAX + 2];
    private readonly List<int> _cand = [];
    private readonly List<(int Depth, int Node)> _gapWork = [];
    private int _eCount;
    private ulong _eMin;
    private WritePlan _wp;
    private long _walkGen = -1;
    private ulong _gapTouch;
    private ulong _walkIndex;

    /// <summary>The outcome of mas_wr_preallocate(): the store type, its node request, and where it writes.</summary>
    private struct WritePlan
    {
        public MapleStoreType Type;
        public int Request;
        public ulong OrigIndex;
        public ulong OrigLast;

        /// <summary>The write range after NULL expansion (mas->index, mas->last).</summary>
        public ulong Index;
        public ulong Last;
        public T Entry;
        public bool EntryIsNull;
        public int Leaf;
        public int Offset;
        public int OffsetEnd;
        public int End;
        public ulong RMin;
        public ulong EndPiv;

        /// <summary>Slots in the leaf after a single-leaf store (mas_wr_new_end() + 1).</summary>
        public int NewCount;

        /// <summary>mas_insert(): every index of [OrigIndex, OrigLast] is NULL.</summary>
        public bool InsertOk;
    }

    internal MapleStoreType PlannedStoreType => _wp.Type;

    internal int PlannedRequest => _wp.Request;

    internal ulong PlannedIndex => _wp.Index;

    internal ulong PlannedLast => _wp.Last;

    /// <summary>
    /// The normal-API write loop: mas_wr_preallocate() with GFP_NOWAIT, mas_nomem() with the caller's gfp, then
    /// the store (mas_store_gfp(), or mas_insert() for <paramref name="insert"/>), then mas_destroy().
    /// </summary>
    internal int Write(MapleAllocState a, ulong index, ulong last, T entry, Gfp gfp, bool insert)
    {
        while (true)
        {
            if (insert && _rootIsPtr && index == 0)
            {
                // mas_insert(): mas_start() returns the root entry for index 0.
                MasDestroy(a);
                return Err(Errno.EEXIST);
            }

            Plan(index, last, entry);
            a.Request = _wp.Request;
            if (a.Count < a.Request && !MasAllocNodes(a, a.Request, PreallocGfp))
            {
                if (MasNomem(a, gfp))
                {
                    continue;
                }

                MasDestroy(a);
                return Err(Errno.ENOMEM);
            }

            if (insert && (_wp.Type == MapleStoreType.wr_spanning_store || !_wp.InsertOk))
            {
                MasDestroy(a);
                return Err(Errno.EEXIST);
            }

            Execute(a);
            MasDestroy(a);
            return 0;
        }
    }

    /// <summary>mas_wr_store_type() + mas_prealloc_calc() (6.12): classify the store of [index, last].</summary>
    internal void Plan(ulong index, ulong last, T entry)
    {
        _wp = default;
        _wp.OrigIndex = index;
        _wp.OrigLast = last;
        _wp.Index = index;
        _wp.Last = last;
        _wp.Entry = entry;
        var isNull = IsNull(entry);
        _wp.EntryIsNull = isNull;
        if (_root == NoNode)
        {
            _wp.Type = MapleStoreType.wr_store_root;
            _wp.Request = index != 0 || last != 0 || IsInternalEntry(entry) ? 1 : 0;
            _wp.InsertOk = !(_rootIsPtr && index == 0);
            return;
        }

        var h = _height;
        var leaf = WalkPathCached(index, out var s);
        ref var l = ref Lf(leaf);
        var end = l.Count - 1;
        var leafMax = l.Piv[end];
        var content = l.Slot[s];
        var rmin = s == 0 ? l.Min : l.Piv[s - 1] + 1;
        var rmax = l.Piv[s];
        _wp.Leaf = leaf;
        _wp.Offset = s;
        _wp.End = end;
        _wp.InsertOk = IsNull(content) && last <= rmax;

        // mas_is_span_wr(): the write leaves this leaf, or a NULL would end a leaf that is not the last.
        if (last > leafMax || (isNull && last == leafMax && last != ulong.MaxValue))
        {
            _wp.Type = MapleStoreType.wr_spanning_store;
            _wp.Request = (h * 3) + 1;
            return;
        }

        // mas_wr_end_piv()
        var offEnd = s;
        while (offEnd < end && last > l.Piv[offEnd])
        {
            offEnd++;
        }

        var endPiv = l.Piv[offEnd];
        var off = s;
        if (isNull)
        {
            // mas_wr_extend_null()
            if (IsNull(l.Slot[offEnd]))
            {
                last = endPiv;
            }
            else if (last == endPiv && end != offEnd && IsNull(l.Slot[offEnd + 1]))
            {
                offEnd++;
                last = l.Piv[offEnd];
                endPiv = last;
            }

            if (IsNull(content))
            {
                index = rmin;
            }
            else if (index == rmin && off > 0 && IsNull(l.Slot[off - 1]))
            {
                off--;
                rmin = index = off == 0 ? l.Min : l.Piv[off - 1] + 1;
                rmax = l.Piv[off];
            }
        }

        _wp.Index = index;
        _wp.Last = last;
        _wp.Offset = off;
        _wp.OffsetEnd = offEnd;
        _wp.RMin = rmin;
        _wp.EndPiv = endPiv;
        var rcu = InRcu;
        if (rmin == index && rmax == last)
        {
            _wp.Type = MapleStoreType.wr_exact_fit;
            return;
        }

        if (index == 0 && last == ulong.MaxValue)
        {
            _wp.Type = MapleStoreType.wr_new_root;
            _wp.Request = 1;
            return;
        }

        // mas_wr_new_end()
        var newEnd = end + 2 - (offEnd - off) - (rmin == index ? 1 : 0) - (endPiv == last ? 1 : 0);
        _wp.NewCount = newEnd + 1;
        if (newEnd < MapleNodeLayout.MinSlotsRange64)
        {
            if (h > 1)
            {
                _wp.Type = MapleStoreType.wr_rebalance;
                _wp.Request = (h * 2) - 1;
            }
            else
            {
                _wp.Type = MapleStoreType.wr_node_store;
                _wp.Request = rcu ? 1 : 0;
            }
        }
        else if (newEnd >= LeafCap)
        {
            _wp.Type = MapleStoreType.wr_split_store;
            _wp.Request = (h * 2) + 1;
        }
        else if (!rcu && off == end)
        {
            _wp.Type = MapleStoreType.wr_append;
        }
        else if (newEnd == end && (!rcu || offEnd - off == 1))
        {
            _wp.Type = MapleStoreType.wr_slot_store;
        }
        else
        {
            _wp.Type = MapleStoreType.wr_node_store;
            _wp.Request = rcu ? 1 : 0;
        }
    }

    /// <summary>mas_wr_store_entry(): carry out the planned store with the nodes in <paramref name="a"/>.</summary>
    internal void Execute(MapleAllocState a)
    {
        _cur = a;
        try
        {
            switch (_wp.Type)
            {
                case MapleStoreType.wr_store_root:
                    StoreRoot();
                    break;
                case MapleStoreType.wr_new_root:
                    NewRoot(_wp.Entry);
                    break;
                case MapleStoreType.wr_exact_fit:
                    ExactFit();
                    break;
                case MapleStoreType.wr_spanning_store:
                    SpanningStore();
                    break;
                default:
                    LeafStore();
                    break;
            }

            _gen++;
        }
        finally
        {
            _cur = null;
        }
    }

    /// <summary>
    /// WalkPath() into the left path, skipped when the last walk was for the same index and nothing was written
    /// since (mtree_erase() looks the range up, then stores NULL over it; a write retried after mas_nomem()).
    /// </summary>
    private int WalkPathCached(ulong index, out int slot)
    {
        if (_walkGen == _gen && _walkIndex == index && _root != NoNode)
        {
            var leaf = _pathL[_height - 1];
            ref var l = ref Lf(leaf);
            var j = NodeScan.FirstAtLeast(ref l.Piv, index);

            slot = j;
            return leaf;
        }

        var h = WalkPath(index, _pathL, _offL, out slot);
        _walkGen = _gen;
        _walkIndex = index;
        return h;
    }

    /// <summary>Walk from the root to the leaf covering <paramref name="index"/>, recording the path.</summary>
    private int WalkPath(ulong index, int[] path, int[] offs, out int slot)
    {
        var h = _root;
        var level = 0;
        var alloc = IsAllocTree;
        ulong touch = 0;
        while (h >= 0)
        {
            ref var n = ref In(h);

            // The child array is a separate cache line (or two) from the pivots, and the child to follow is only
            // known after the pivot compare: touching both ends of the array first lets its miss overlap with the
            // pivots' instead of following it, halving the serial misses per level.
            touch += LineTouch.Children(ref n);
            var i = NodeScan.FirstAtLeast(ref n.Piv, index);

            path[level] = h;
            offs[level] = i;
            level++;
            h = n.Child[i];
            if (alloc)
            {
                // The gap slot the write will update lives on another cache line, and so do the node's count,
                // meta gap and parent link (the tail of the struct) that mas_update_gap() reads on the way back
                // up; loading both now lets those misses overlap with the descent instead of stalling the gap
                // update level by level afterwards.
                touch += n.Gap[i] + n.MetaGap;
            }
        }

        path[level] = h;
        ref var l = ref Lf(h);

        // The leaf's count (the store type needs it) is on the struct's last cache line, and the slot the walk
        // lands on is in the slot array (two or three lines): issue those loads before the pivot scan so the
        // misses overlap.
        touch += l.Count + LineTouch.Slots(ref l);
        _gapTouch = touch;
        var j = NodeScan.FirstAtLeast(ref l.Piv, index);

        slot = j;
        return h;
    }

    /// <summary>mas_store_root(): the tree is empty or holds only the root pointer.</summary>
    private void StoreRoot()
    {
        var entry = _wp.Entry;
        var index = _wp.Index;
        var last = _wp.Last;
        if (_wp.EntryIsNull)
        {
            if (index == 0 && _rootIsPtr)
            {
                _rootIsPtr = false;
                _rootPtr = default!;
                _count--;
            }

            return;
        }

        if (index != 0 || last != 0 || IsInternalEntry(entry))
        {
            RootExpand(entry, index, last);
            return;
        }

        if (!_rootIsPtr)
        {
            _count++;
        }

        _rootIsPtr = true;
        _rootPtr = entry;
    }

    /// <summary>mas_root_expand(): the first node, holding the old root pointer (if kept) and the new range.</summary>
    private void RootExpand(T entry, ulong index, ulong last)
    {
        var contents = _rootIsPtr ? _rootPtr : default!;
        var hadPtr = _rootIsPtr;
        var leaf = NewLeafHandle(PopNode());
        _eCount = 0;
        _eMin = 0;
        var kept = 0;
        if (index != 0)
        {
            if (hadPtr)
            {
                AddE(0, contents);
                kept = 1;
                if (index > 1)
                {
                    AddE(index - 1, default!);
                }
            }
            else
            {
                AddE(index - 1, default!);
            }
        }

        AddE(last, entry);
        if (last != ulong.MaxValue)
        {
            AddE(ulong.MaxValue, default!);
        }

        WriteLeaf(leaf, 0, 0, _eCount);
        _rootIsPtr = false;
        _rootPtr = default!;
        _root = leaf;
        _height = 1;
        _count = kept + 1;
    }

    /// <summary>mas_new_root(): the write covers [0, ULONG_MAX]; the old tree goes.</summary>
    private void NewRoot(T entry)
    {
        if (_root != NoNode)
        {
            DestroySubtree(_root);
        }

        if (_rootIsPtr)
        {
            _count--;
        }

        _root = NoNode;
        _rootIsPtr = false;
        _rootPtr = default!;
        _height = 0;
        if (IsNull(entry))
        {
            return;
        }

        var leaf = NewLeafHandle(PopNode());
        _eCount = 0;
        _eMin = 0;
        AddE(ulong.MaxValue, entry);
        WriteLeaf(leaf, 0, 0, 1);
        _root = leaf;
        _height = 1;
        _count++;
    }

    /// <summary>wr_exact_fit: the write replaces exactly one slot.</summary>
    private void ExactFit()
    {
        ref var l = ref Lf(_wp.Leaf);
        var old = l.Slot[_wp.Offset];
        l.Slot[_wp.Offset] = _wp.Entry;
        var wasNull = IsNull(old);
        if (wasNull != _wp.EntryIsNull)
        {
            _count += wasNull ? 1 : -1;
            if (IsAllocTree)
            {
                l.MaxGap = LeafMaxGapAfterStore(_wp.Leaf, wasNull);
                UpdateGapUp(_wp.Leaf);
            }
        }
    }

    /// <summary>
    /// mas_leaf_max_gap() after a store of <c>_wp.Entry</c> over [<c>_wp.Index</c>, <c>_wp.Last</c>] in one leaf,
    /// from the leaf's cached largest gap where the store decides it: a NULL store leaves every other NULL range
    /// intact or inside the new one (mas_wr_extend_null() widened the write over its NULL neighbours), so the
    /// largest gap is the larger of the two; a store over one NULL slot that was not the largest gap changes
    /// nothing. Otherwise the leaf is scanned.
    /// </summary>
    private ulong LeafMaxGapAfterStore(int leaf, bool overwroteOneNull)
    {
        var old = Lf(leaf).MaxGap;
        var gap = _wp.Last - _wp.Index + 1;
        if (gap == 0)
        {
            gap = ulong.MaxValue;
        }

        if (_wp.EntryIsNull)
        {
            return Math.Max(old, gap);
        }

        return overwroteOneNull && gap < old ? old : LeafMaxGap(leaf);
    }

    /// <summary>A store inside one leaf: append, slot store, node store, split or rebalance.</summary>
    private void LeafStore()
    {
        var leaf = _wp.Leaf;
        if (_wp.NewCount <= LeafCap && (_wp.NewCount >= LeafMinCount || _height == 1))
        {
            NodeStoreInPlace(leaf);
            return;
        }

        ref var l = ref Lf(leaf);
        _eCount = 0;
        _eMin = l.Min;
        for (var j = 0; j < _wp.Offset; j++)
        {
            AddE(l.Piv[j], l.Slot[j]);
        }

        if (_wp.RMin < _wp.Index)
        {
            AddE(_wp.Index - 1, l.Slot[_wp.Offset]);
        }

        AddE(_wp.Last, _wp.Entry);
        if (_wp.EndPiv > _wp.Last)
        {
            AddE(_wp.EndPiv, l.Slot[_wp.OffsetEnd]);
        }

        for (var j = _wp.OffsetEnd + 1; j < l.Count; j++)
        {
            AddE(l.Piv[j], l.Slot[j]);
        }

        _count += NonNullE() - LeafNonNull(leaf);
        for (var i = 0; i < _height; i++)
        {
            _pathR[i] = _pathL[i];
            _offR[i] = _offL[i];
        }

        ReplaceLeaves(same: true);
    }

    /// <summary>
    /// mas_wr_slot_store() / mas_wr_append() / mas_wr_node_store(): the result fits the leaf and keeps it
    /// sufficient, so the slots are shifted in place and only the gaps on the path to the root are updated.
    /// </summary>
    private void NodeStoreInPlace(int leaf)
    {
        ref var l = ref Lf(leaf);
        var off = _wp.Offset;
        var offEnd = _wp.OffsetEnd;
        int end = l.Count - 1;
        var leftRem = _wp.RMin < _wp.Index;
        var rightRem = _wp.EndPiv > _wp.Last;
        var leftContent = l.Slot[off];
        var rightContent = l.Slot[offEnd];
        var removed = 0;
        for (var i = off; i <= offEnd; i++)
        {
            if (!IsNull(l.Slot[i]))
            {
                removed++;
            }
        }

        var head = off + (leftRem ? 1 : 0) + 1 + (rightRem ? 1 : 0);
        var tailStart = offEnd + 1;
        var tailLen = end - offEnd;
        var shift = head - tailStart;
        if (shift > 0)
        {
            for (var i = tailLen - 1; i >= 0; i--)
            {
                l.Piv[head + i] = l.Piv[tailStart + i];
                l.Slot[head + i] = l.Slot[tailStart + i];
            }
        }
        else if (shift < 0)
        {
            for (var i = 0; i < tailLen; i++)
            {
                l.Piv[head + i] = l.Piv[tailStart + i];
                l.Slot[head + i] = l.Slot[tailStart + i];
            }
        }

        var k = off;
        var added = 0;
        if (leftRem)
        {
            l.Piv[k] = _wp.Index - 1;
            l.Slot[k] = leftContent;
            added += IsNull(leftContent) ? 0 : 1;
            k++;
        }

        l.Piv[k] = _wp.Last;
        l.Slot[k] = _wp.Entry;
        added += _wp.EntryIsNull ? 0 : 1;
        k++;
        if (rightRem)
        {
            l.Piv[k] = _wp.EndPiv;
            l.Slot[k] = rightContent;
            added += IsNull(rightContent) ? 0 : 1;
        }

        var newCount = head + tailLen;
        if (RuntimeHelpers.IsReferenceOrContainsReferences<T>())
        {
            for (var i = newCount; i < l.Count; i++)
            {
                l.Slot[i] = default!;
            }
        }

        l.Count = (byte)newCount;
        _count += added - removed;
        if (IsAllocTree)
        {
            l.MaxGap = LeafMaxGapAfterStore(leaf, overwroteOneNull: false);
            UpdateGapUp(leaf);
        }
    }

    /// <summary>mas_update_gap(): carry a changed node's largest gap up the path, stopping when nothing changes.</summary>
    private void UpdateGapUp(int child)
    {
        var g = SubtreeMaxGap(child);
        var p = ParentOf(child);
        int s = PSlotOf(child);
        while (p != NoNode)
        {
            ref var n = ref In(p);
            if (n.Gap[s] == g)
            {
                return;
            }

            // mas_parent_gap(): only a lowered largest gap needs ma_max_gap()'s scan of every slot. The meta slot
            // stays the highest slot holding the largest gap, as the scan would leave it.
            int meta = n.MetaGap;
            var oldMax = n.Gap[meta];
            n.Gap[s] = g;
            ulong max;
            if (g > oldMax)
            {
                n.MetaGap = (byte)s;
                max = g;
            }
            else if (s != meta)
            {
                if (g == oldMax && g != 0 && s > meta)
                {
                    n.MetaGap = (byte)s;
                }

                return;
            }
            else
            {
                max = SetMetaGap(ref n);
                if (max == oldMax)
                {
                    return;
                }
            }

            g = max;
            s = n.PSlot;
            p = n.Parent;
        }
    }

    /// <summary>mas_wr_spanning_store(): the write crosses leaves (or ends a leaf with NULL).</summary>
    private void SpanningStore()
    {
        var isNull = _wp.EntryIsNull;
        var leafL = _wp.Leaf;
        var s = _wp.Offset;
        var index = _wp.OrigIndex;
        var last = _wp.OrigLast;
        if (isNull)
        {
            // mas_extend_spanning_null(), left side.
            ref var l = ref Lf(leafL);
            var smin = SlotMin(leafL, s);
            if (IsNull(l.Slot[s]))
            {
                index = smin;
            }
            else if (index == smin && s > 0 && IsNull(l.Slot[s - 1]))
            {
                index = SlotMin(leafL, s - 1);
            }
        }

        // mas_wr_walk_index() of the right side: when last is in the left leaf (the usual erase of a leaf's last
        // range), the path to it is the left path, already walked.
        int leafR;
        int t;
        ref var lw = ref Lf(leafL);
        if (last <= lw.Piv[lw.Count - 1])
        {
            Array.Copy(_pathL, _pathR, _height);
            Array.Copy(_offL, _offR, _height);
            leafR = leafL;
            t = NodeScan.FirstAtLeast(ref lw.Piv, last);
        }
        else
        {
            leafR = WalkPath(last, _pathR, _offR, out t);
        }

        if (isNull)
        {
            // Right side: absorb a NULL after the write, and never leave a NULL at the end of a leaf
            // (the kernel walks the right side to last + 1 for this).
            ref var r = ref Lf(leafR);
            if (IsNull(r.Slot[t]))
            {
                last = r.Piv[t];
            }
            else if (last == r.Piv[t] && t + 1 < r.Count && IsNull(r.Slot[t + 1]))
            {
                last = r.Piv[t + 1];
            }

            if (last == r.Piv[r.Count - 1] && last != ulong.MaxValue)
            {
                leafR = NextLeafPath(_pathR, _offR);
                ref var r2 = ref Lf(leafR);
                if (IsNull(r2.Slot[0]))
                {
                    last = r2.Piv[0];
                }
            }
        }

        _wp.Index = index;
        _wp.Last = last;
        if (index == 0 && last == ulong.MaxValue)
        {
            NewRoot(_wp.Entry);
            return;
        }

        ref var ll = ref Lf(leafL);
        _eCount = 0;
        _eMin = ll.Min;
        for (var j = 0; j < ll.Count; j++)
        {
            if (ll.Piv[j] < index)
            {
                AddE(ll.Piv[j], ll.Slot[j]);
                continue;
            }

            if (SlotMin(leafL, j) < index)
            {
                AddE(index - 1, ll.Slot[j]);
            }

            break;
        }

        AddE(last, _wp.Entry);
        ref var rr = ref Lf(leafR);
        for (var j = 0; j < rr.Count; j++)
        {
            if (rr.Piv[j] > last)
            {
                AddE(rr.Piv[j], rr.Slot[j]);
            }
        }

        _count += NonNullE() - LeafNonNull(leafL) - LeafNonNull(leafR);
        if (!TrySpanSiblings())
        {
            ReplaceLeaves(same: false);
        }
    }

    /// <summary>
    /// The walk to <c>max + 1</c> from a path whose leaf ends at <c>max</c> (not ULONG_MAX): the same as
    /// WalkPath(max + 1) without the descent from the root. Above the deepest level whose slot is not its node's
    /// last, the slot holding max + 1 is the slot holding max; at that level it is the next slot; below, the
    /// subtree starts at max + 1, so every level takes slot 0.
    /// </summary>
    private int NextLeafPath(int[] path, int[] offs)
    {
        var level = _height - 2;
        while (offs[level] == In(path[level]).Count - 1)
        {
            level--;
        }

        offs[level]++;
        var h = In(path[level]).Child[offs[level]];
        for (level++; level < _height - 1; level++)
        {
            path[level] = h;
            offs[level] = 0;
            h = In(h).Child[0];
        }

        path[level] = h;
        return h;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void AddE(ulong piv, T slot)
    {
        _ePiv[_eCount] = piv;
        _eSlot[_eCount] = slot;
        _eCount++;
    }

    private int NonNullE()
    {
        var c = 0;
        for (var i = 0; i < _eCount; i++)
        {
            if (!IsNull(_eSlot[i]))
            {
                c++;
            }
        }

        return c;
    }

    private int LeafNonNull(int leaf)
    {
        ref var l = ref Lf(leaf);
        var c = 0;
        for (var i = 0; i < l.Count; i++)
        {
            if (!IsNull(l.Slot[i]))
            {
                c++;
            }
        }

        return c;
    }

    /// <summary>
    /// Replace the leaves from the left path's leaf to the right path's leaf (one leaf when
    /// <paramref name="same"/>) by the contents in E, rebuilding each level up to where the structure stops
    /// changing (the kernel's mas_spanning_rebalance()/mas_split()/mas_wr_node_store() collapsed into one).
    /// </summary>
    private void ReplaceLeaves(bool same)
    {
        var h = _height;
        var leafL = _pathL[h - 1];
        var leafR = same ? NoNode : _pathR[h - 1];
        if (same && _eCount > LeafCap && h > 1 && TryPushLeaf(leafL))
        {
            // mas_push_data(): a sibling took the overflow; only the parent's pivot moved.
            FinishGaps();
            return;
        }

        Span<int> n = stackalloc int[3];
        var nn = PackLeaves(leafL, leafR, n);
        _cand.Clear();
        for (var k = 0; k < nn; k++)
        {
            _cand.Add(n[k]);
        }

        var placed = false;
        for (var level = h - 2; level >= 0; level--)
        {
            var a = _pathL[level];
            var b = same ? a : _pathR[level];
            var oa = _offL[level];
            var ob = same ? oa : _offR[level];
            if (a == b)
            {
                ref var an = ref In(a);
                if (nn == 1 && oa == ob && an.Child[oa] == n[0])
                {
                    // Nothing moved at this level: the node keeps its range, so nothing above changes.
                    placed = true;
                    break;
                }

                for (var c = oa + 1; c < ob; c++)
                {
                    DestroySubtree(an.Child[c]);
                }

                var cnt = 0;
                for (var c = 0; c < oa; c++)
                {
                    AddChildOf(ref cnt, ref an, c);
                }

                for (var k = 0; k < nn; k++)
                {
                    AddNewNode(ref cnt, n[k]);
                }

                for (var c = ob + 1; c < an.Count; c++)
                {
                    AddChildOf(ref cnt, ref an, c);
                }

                if (cnt > InnerCap && level > 0 && TryPushInner(a, cnt))
                {
                    placed = true;
                    break;
                }

                nn = PackInner(cnt, a, NoNode, n);
                for (var k = 0; k < nn; k++)
                {
                    _cand.Add(n[k]);
                }

                if (nn == 1)
                {
                    placed = true;
                    break;
                }
            }
            else
            {
                ref var an = ref In(a);
                for (var c = oa + 1; c < an.Count; c++)
                {
                    DestroySubtree(an.Child[c]);
                }

                ref var bn = ref In(b);
                for (var c = 0; c < ob; c++)
                {
                    DestroySubtree(bn.Child[c]);
                }

                var cnt = 0;
                for (var c = 0; c < oa; c++)
                {
                    AddChildOf(ref cnt, ref an, c);
                }

                for (var k = 0; k < nn; k++)
                {
                    AddNewNode(ref cnt, n[k]);
                }

                for (var c = ob + 1; c < bn.Count; c++)
                {
                    AddChildOf(ref cnt, ref bn, c);
                }

                nn = PackInner(cnt, a, b, n);
                for (var k = 0; k < nn; k++)
                {
                    _cand.Add(n[k]);
                }
            }
        }

        if (!placed)
        {
            // The top level produced the new root level.
            if (nn == 1)
            {
                _root = n[0];
                SetParent(n[0], NoNode, 0);
            }
            else
            {
                var r = NewInnerHandle(PopNode());
                var cnt = 0;
                for (var k = 0; k < nn; k++)
                {
                    AddNewNode(ref cnt, n[k]);
                }

                WriteInner(r, 0, nn);
                _root = r;
                SetParent(r, NoNode, 0);
                _height++;
            }
        }

        FixCandidates();
        CollapseRoot();
        FinishGaps();
    }

    /// <summary>Gather child <paramref name="slot"/> of <paramref name="node"/> with its range and gap.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void AddChildOf(ref int cnt, ref MapleInner node, int slot)
    {
        _items[cnt] = node.Child[slot];
        _itemGap[cnt] = node.Gap[slot];
        _itemMin[cnt] = slot == 0 ? node.Min : node.Piv[slot - 1] + 1;
        _itemMax[cnt] = node.Piv[slot];
        cnt++;
    }

    /// <summary>Gather a node this write just built (its gap is pushed up by FinishGaps()).</summary>
    private void AddNewNode(ref int cnt, int h)
    {
        _items[cnt] = h;
        _itemGap[cnt] = 0;
        _itemMin[cnt] = NodeMin(h);
        _itemMax[cnt] = NodeMax(h);
        cnt++;
    }

    private void CopyItem(int to, int from)
    {
        _items[to] = _items[from];
        _itemGap[to] = _itemGap[from];
        _itemMin[to] = _itemMin[from];
        _itemMax[to] = _itemMax[from];
    }

    /// <summary>Pack E into one to three leaves, reusing <paramref name="a"/> (and <paramref name="b"/>).</summary>
    private int PackLeaves(int a, int b, Span<int> outNodes)
    {
        var n = _eCount;
        int k;
        Span<int> bound = stackalloc int[4];
        bound[0] = 0;
        if (n <= LeafCap)
        {
            k = 1;
            bound[1] = n;
        }
        else if (n <= TwoLeafMax)
        {
            k = 2;
            bound[1] = TwoLeafSplit(n);
            bound[2] = n;
        }
        else
        {
            k = 3;
            bound[1] = NoNullSplit((n + 2) / 3, n);
            bound[2] = NoNullSplit(bound[1] + ((n - bound[1] + 1) / 2), n);
            bound[3] = n;
        }

        outNodes[0] = a;
        if (k >= 2)
        {
            outNodes[1] = b != NoNode ? b : NewLeafHandle(PopNode());
        }
        else if (b != NoNode)
        {
            FreeHandle(b);
        }

        if (k == 3)
        {
            outNodes[2] = NewLeafHandle(PopNode());
        }

        for (var p = 0; p < k; p++)
        {
            var min = bound[p] == 0 ? _eMin : _ePiv[bound[p] - 1] + 1;
            WriteLeaf(outNodes[p], min, bound[p], bound[p + 1]);
        }

        return k;
    }

    /// <summary>
    /// mab_no_null_split(): a leaf other than the last may not end in NULL. <paramref name="split"/> is the
    /// number of entries the left node gets; if its last one is NULL, give it one more when the right side stays
    /// sufficient and the left still fits, else one fewer.
    /// </summary>
    private int NoNullSplit(int split, int n)
    {
        var s = split - 1;
        if (IsNull(_eSlot[s]))
        {
            if (s < LeafCap - 1 && (n - 1 - s) > MapleNodeLayout.MinSlotsRange64)
            {
                s++;
            }
            else
            {
                s--;
            }
        }

        return s + 1;
    }

    /// <summary>
    /// mas_push_data() for a leaf: instead of splitting, move entries into the left (then right) sibling when the
    /// two hold fewer than 2 × slots − 2 entries (one fewer for leaves, one fewer again for the last node). The
    /// sibling ends up with slots − 1 entries.
    /// </summary>
    private bool TryPushLeaf(int x)
    {
        var p = ParentOf(x);
        if (p == NoNode)
        {
            return false;
        }

        var px = PSlotOf(x);
        var n = _eCount;
        var space = (2 * LeafCap) - 2 - 1 - (_ePiv[n - 1] == ulong.MaxValue ? 1 : 0);
        ref var pn = ref In(p);
        if (px > 0)
        {
            var sib = pn.Child[px - 1];
            ref var s = ref Lf(sib);
            int sc = s.Count;
            if ((n - 1) + (sc - 1) < space)
            {
                for (var i = n - 1; i >= 0; i--)
                {
                    _ePiv[i + sc] = _ePiv[i];
                    _eSlot[i + sc] = _eSlot[i];
                }

                for (var i = 0; i < sc; i++)
                {
                    _ePiv[i] = s.Piv[i];
                    _eSlot[i] = s.Slot[i];
                }

                _eMin = s.Min;
                _eCount = n + sc;
                var split = NoNullSplit(LeafCap - 1, _eCount);
                WriteLeaf(sib, _eMin, 0, split);
                WriteLeaf(x, _ePiv[split - 1] + 1, split, _eCount);
                In(p).Piv[px - 1] = _ePiv[split - 1];
                MarkDirty(p);
                return true;
            }
        }

        if (px + 1 < pn.Count)
        {
            var sib = pn.Child[px + 1];
            ref var s = ref Lf(sib);
            int sc = s.Count;
            if ((n - 1) + (sc - 1) < space)
            {
                for (var i = 0; i < sc; i++)
                {
                    _ePiv[n + i] = s.Piv[i];
                    _eSlot[n + i] = s.Slot[i];
                }

                _eCount = n + sc;
                var split = NoNullSplit(_eCount - (LeafCap - 1), _eCount);
                WriteLeaf(x, _eMin, 0, split);
                WriteLeaf(sib, _ePiv[split - 1] + 1, split, _eCount);
                In(p).Piv[px] = _ePiv[split - 1];
                MarkDirty(p);
                return true;
            }
        }

        return false;
    }

    /// <summary>mas_push_data() for an internal node whose new children are _items[0, cnt).</summary>
    private bool TryPushInner(int x, int cnt)
    {
        var p = ParentOf(x);
        if (p == NoNode)
        {
            return false;
        }

        var px = PSlotOf(x);
        var cap = InnerCap;
        var space = (2 * cap) - 2 - (_itemMax[cnt - 1] == ulong.MaxValue ? 1 : 0);
        ref var pn = ref In(p);
        if (px > 0)
        {
            var sib = pn.Child[px - 1];
            int sc = In(sib).Count;
            if ((cnt - 1) + (sc - 1) < space)
            {
                for (var i = cnt - 1; i >= 0; i--)
                {
                    CopyItem(i + sc, i);
                }

                ref var s = ref In(sib);
                var k = 0;
                for (var i = 0; i < sc; i++)
                {
                    AddChildOf(ref k, ref s, i);
                }

                var total = cnt + sc;
                WriteInner(sib, 0, cap - 1);
                WriteInner(x, cap - 1, total);
                In(p).Piv[px - 1] = NodeMax(sib);
                MarkDirty(p);
                return true;
            }
        }

        if (px + 1 < pn.Count)
        {
            var sib = pn.Child[px + 1];
            ref var s = ref In(sib);
            int sc = s.Count;
            if ((cnt - 1) + (sc - 1) < space)
            {
                var k = cnt;
                for (var i = 0; i < sc; i++)
                {
                    AddChildOf(ref k, ref s, i);
                }

                var total = cnt + sc;
                var split = total - (cap - 1);
                WriteInner(x, 0, split);
                WriteInner(sib, split, total);
                In(p).Piv[px] = NodeMax(x);
                MarkDirty(p);
                return true;
            }
        }

        return false;
    }

    /// <summary>Write E[from, to) into a leaf.</summary>
    private void WriteLeaf(int leaf, ulong min, int from, int to)
    {
        ref var l = ref Lf(leaf);
        var cnt = to - from;
        for (var i = 0; i < cnt; i++)
        {
            l.Piv[i] = _ePiv[from + i];
            l.Slot[i] = _eSlot[from + i];
        }

        if (RuntimeHelpers.IsReferenceOrContainsReferences<T>())
        {
            for (var i = cnt; i < l.Count; i++)
            {
                l.Slot[i] = default!;
            }
        }

        l.Count = (byte)cnt;
        l.Min = min;
        if (IsAllocTree)
        {
            l.MaxGap = LeafMaxGap(leaf);
            _dirty.Add(leaf);
        }
    }

    /// <summary>Pack _items[0, cnt) into one to three internal nodes, reusing <paramref name="a"/> (and <paramref name="b"/>).</summary>
    private int PackInner(int cnt, int a, int b, Span<int> outNodes)
    {
        var cap = InnerCap;
        int k;
        Span<int> bound = stackalloc int[4];
        bound[0] = 0;
        if (cnt <= cap)
        {
            k = 1;
            bound[1] = cnt;
        }
        else if (cnt <= 2 * cap)
        {
            k = 2;
            bound[1] = (cnt + 1) / 2;
            bound[2] = cnt;
        }
        else
        {
            k = 3;
            bound[1] = (cnt + 2) / 3;
            bound[2] = bound[1] + ((cnt - bound[1] + 1) / 2);
            bound[3] = cnt;
        }

        outNodes[0] = a;
        if (k >= 2)
        {
            outNodes[1] = b != NoNode ? b : NewInnerHandle(PopNode());
        }
        else if (b != NoNode)
        {
            FreeHandle(b);
        }

        if (k == 3)
        {
            outNodes[2] = NewInnerHandle(PopNode());
        }

        for (var p = 0; p < k; p++)
        {
            WriteInner(outNodes[p], bound[p], bound[p + 1]);
        }

        return k;
    }

    /// <summary>Write _items[from, to) as the children of an internal node.</summary>
    private void WriteInner(int node, int from, int to)
    {
        ref var n = ref In(node);
        var cnt = to - from;
        var had = n.Count;
        for (var i = 0; i < cnt; i++)
        {
            var c = _items[from + i];

            // A child already in this slot of this node keeps its parent link: do not touch its memory.
            if (i >= had || n.Child[i] != c)
            {
                n.Child[i] = c;
                SetParent(c, node, i);
            }

            n.Piv[i] = _itemMax[from + i];
            n.Gap[i] = _itemGap[from + i];
        }

        for (var i = cnt; i < MapleNodeLayout.MAPLE_RANGE64_SLOTS; i++)
        {
            n.Gap[i] = 0;
        }

        n.Count = (byte)cnt;
        n.Min = _itemMin[from];
        MarkDirty(node);
    }

    /// <summary>Free a subtree that left the tree (mas_topiary / mte_destroy_walk()).</summary>
    private void DestroySubtree(int h)
    {
        if (IsLeaf(h))
        {
            _count -= LeafNonNull(h);
        }
        else
        {
            ref var n = ref In(h);
            for (var i = 0; i < n.Count; i++)
            {
                DestroySubtree(n.Child[i]);
            }
        }

        FreeHandle(h);
    }

    private int MinCountOf(int h) => IsLeaf(h) ? LeafMinCount : InnerMinCount;

    /// <summary>Rebalance the nodes the write left below minimum occupancy, deepest first.</summary>
    private void FixCandidates()
    {
        if (_cand.Count == 0)
        {
            return;
        }

        _gapWork.Clear();
        foreach (var c in _cand)
        {
            if (IsLive(c))
            {
                _gapWork.Add((Depth(c), c));
            }
        }

        SortDeepestFirst(_gapWork);
        foreach (var (_, c) in _gapWork)
        {
            if (IsLive(c) && c != _root && NodeCountOf(c) < MinCountOf(c))
            {
                FixDeficient(c);
            }
        }

        _gapWork.Clear();
        _cand.Clear();
    }

    /// <summary>Insertion sort by depth, deepest first (the lists hold a handful of nodes).</summary>
    private static void SortDeepestFirst(List<(int Depth, int Node)> list)
    {
        for (var i = 1; i < list.Count; i++)
        {
            var item = list[i];
            var j = i - 1;
            while (j >= 0 && list[j].Depth < item.Depth)
            {
                list[j + 1] = list[j];
                j--;
            }

            list[j + 1] = item;
        }
    }

    private int Depth(int h)
    {
        var d = 0;
        var p = ParentOf(h);
        while (p != NoNode)
        {
            d++;
            p = In(p).Parent;
        }

        return d;
    }

    /// <summary>
    /// mas_rebalance(): bring a node below minimum occupancy up by merging it with a sibling or sharing the
    /// sibling's contents; a parent left with too few children is fixed in turn.
    /// </summary>
    private void FixDeficient(int x)
    {
        while (true)
        {
            if (!IsLive(x))
            {
                return;
            }

            var p = ParentOf(x);
            if (p == NoNode)
            {
                CollapseRoot();
                return;
            }

            if (NodeCountOf(x) >= MinCountOf(x))
            {
                return;
            }

            if (In(p).Count == 1)
            {
                FixDeficient(p);
                continue;
            }

            var px = PSlotOf(x);
            var lslot = px > 0 ? px - 1 : px;
            ref var pn = ref In(p);
            var left = pn.Child[lslot];
            var right = pn.Child[lslot + 1];
            var cap = IsLeaf(x) ? LeafCap : InnerCap;
            var total = NodeCountOf(left) + NodeCountOf(right);
            MarkDirty(p);
            if (total <= cap)
            {
                Merge(left, right, p, lslot);
                if (p == _root)
                {
                    CollapseRoot();
                    return;
                }

                if (In(p).Count >= InnerMinCount)
                {
                    return;
                }

                x = p;
                continue;
            }

            Redistribute(left, right, p, lslot);
            return;
        }
    }

    /// <summary>Move all of <paramref name="right"/> into <paramref name="left"/> and drop it from the parent.</summary>
    private void Merge(int left, int right, int p, int lslot)
    {
        if (IsLeaf(left))
        {
            ref var l = ref Lf(left);
            ref var r = ref Lf(right);
            int lc = l.Count;
            for (var i = 0; i < r.Count; i++)
            {
                l.Piv[lc + i] = r.Piv[i];
                l.Slot[lc + i] = r.Slot[i];
            }

            l.Count = (byte)(lc + r.Count);
            if (IsAllocTree)
            {
                l.MaxGap = LeafMaxGap(left);
                MarkDirty(left);
            }
        }
        else
        {
            ref var l = ref In(left);
            ref var r = ref In(right);
            int lc = l.Count;
            for (var i = 0; i < r.Count; i++)
            {
                var c = r.Child[i];
                l.Child[lc + i] = c;
                l.Piv[lc + i] = r.Piv[i];
                l.Gap[lc + i] = r.Gap[i];
                SetParent(c, left, lc + i);
            }

            l.Count = (byte)(lc + r.Count);
            MarkDirty(left);
        }

        FreeHandle(right);
        ref var pn = ref In(p);
        pn.Piv[lslot] = pn.Piv[lslot + 1];
        for (var i = lslot + 1; i < pn.Count - 1; i++)
        {
            pn.Child[i] = pn.Child[i + 1];
            pn.Piv[i] = pn.Piv[i + 1];
            pn.Gap[i] = pn.Gap[i + 1];
            SetParent(pn.Child[i], p, i);
        }

        pn.Count--;
        pn.Gap[pn.Count] = 0;
    }

    /// <summary>Share the contents of two siblings evenly (mas_rebalance() when they do not fit one node).</summary>
    private void Redistribute(int left, int right, int p, int lslot)
    {
        ref var pn = ref In(p);
        if (IsLeaf(left))
        {
            ref var l = ref Lf(left);
            ref var r = ref Lf(right);
            _eCount = 0;
            _eMin = l.Min;
            for (var i = 0; i < l.Count; i++)
            {
                AddE(l.Piv[i], l.Slot[i]);
            }

            for (var i = 0; i < r.Count; i++)
            {
                AddE(r.Piv[i], r.Slot[i]);
            }

            var s = NoNullSplit(_eCount / 2, _eCount);
            WriteLeaf(left, _eMin, 0, s);
            WriteLeaf(right, _ePiv[s - 1] + 1, s, _eCount);
            pn.Piv[lslot] = _ePiv[s - 1];
            return;
        }

        ref var li = ref In(left);
        ref var ri = ref In(right);
        var cnt = 0;
        for (var i = 0; i < li.Count; i++)
        {
            AddChildOf(ref cnt, ref li, i);
        }

        for (var i = 0; i < ri.Count; i++)
        {
            AddChildOf(ref cnt, ref ri, i);
        }

        var split = cnt / 2;
        WriteInner(left, 0, split);
        WriteInner(right, split, cnt);
        pn.Piv[lslot] = NodeMax(left);
    }

    /// <summary>A root with a single child gives way to the child (the tree shrinks by a level).</summary>
    private void CollapseRoot()
    {
        while (_root != NoNode && !IsLeaf(_root) && In(_root).Count == 1)
        {
            var child = In(_root).Child[0];
            FreeHandle(_root);
            _root = child;
            SetParent(child, NoNode, 0);
            _height--;
        }
    }

    private void MarkDirty(int node)
    {
        if (IsAllocTree)
        {
            _dirty.Add(node);
        }
    }

    /// <summary>The largest NULL run of a leaf.</summary>
    private ulong LeafMaxGap(int leaf)
    {
        ref var l = ref Lf(leaf);
        ulong max = 0;
        var min = l.Min;
        for (var i = 0; i < l.Count; i++)
        {
            var piv = l.Piv[i];
            if (IsNull(l.Slot[i]))
            {
                var gap = piv - min + 1;
                if (gap == 0)
                {
                    gap = ulong.MaxValue;
                }

                if (gap > max)
                {
                    max = gap;
                }
            }

            min = piv + 1;
        }

        return max;
    }

    /// <summary>ma_max_gap(): the largest gap and its slot (the highest slot among equals).</summary>
    private static ulong SetMetaGap(ref MapleInner n)
    {
        var (max, meta) = NodeScan.MaxGap(ref n.Gap, n.Count);
        n.MetaGap = (byte)meta;
        return max;
    }

    /// <summary>
    /// mas_update_gap() for everything a write touched: every changed node, deepest first, recomputes its largest
    /// gap (a leaf from its slots, an internal node from its own gap array) and stores it in its parent's slot;
    /// a parent whose slot changed is processed in turn. Children that only moved carried their gap along, so no
    /// sibling is read.
    /// </summary>
    private void FinishGaps()
    {
        if (!IsAllocTree || _dirty.Count == 0)
        {
            _dirty.Clear();
            return;
        }

        // A write dirties O(height) nodes, so the per-depth lists stay short and a linear Contains() dedups them
        // without touching a per-node mark array (a random access into an array the size of the tree, i.e. a
        // cache miss per dirty node in a large tree).
        var maxDepth = -1;
        foreach (var h in _dirty)
        {
            if (!IsLive(h))
            {
                continue;
            }

            var d = IsLeaf(h) ? _height - 1 : Depth(h);
            var bucket = Bucket(d);
            if (bucket.Contains(h))
            {
                continue;
            }

            bucket.Add(h);
            maxDepth = Math.Max(maxDepth, d);
        }

        _dirty.Clear();
        for (var d = maxDepth; d >= 0; d--)
        {
            var list = Bucket(d);
            for (var i = 0; i < list.Count; i++)
            {
                var h = list[i];
                var g = IsLeaf(h) ? Lf(h).MaxGap : SetMetaGap(ref In(h));
                var p = ParentOf(h);
                if (p == NoNode)
                {
                    continue;
                }

                ref var pn = ref In(p);
                int s = PSlotOf(h);
                if (pn.Gap[s] != g)
                {
                    pn.Gap[s] = g;
                    var up = Bucket(d - 1);
                    if (!up.Contains(p))
                    {
                        up.Add(p);
                    }
                }
            }

            list.Clear();
        }
    }

    private List<int> Bucket(int depth) => _byDepth[depth] ??= [];
}
