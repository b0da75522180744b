using System.Runtime.CompilerServices;
using MmSim.Kernel;

namespace MmSim.MapleTree;

/// <summary>
/// The maple tree (lib/maple_tree.c): a B-tree of ranges over the index space [0, ULONG_MAX]. Every index maps to
/// an entry; <c>default(T)</c> is NULL. Leaves hold up to 16 ranges (maple_leaf_64); internal nodes are
/// maple_arange_64 (10 children, per-child largest-gap tracking) in trees created with
/// <see cref="MapleFlags.MT_FLAGS_ALLOC_RANGE"/>, maple_range_64 (16 children) otherwise. All leaves sit at the
/// same depth. A lone entry at index 0 lives in the root pointer without a node. NULL ranges are always
/// coalesced; equal adjacent non-NULL entries are not merged.
///
/// Writes preallocate the worst-case number of nodes for their store type before changing anything, so a write
/// that cannot get its nodes returns -ENOMEM and leaves the tree exactly as it was. Reads allocate nothing.
/// Not thread-safe: callers serialize, as the kernel's tree lock does.
/// </summary>
public sealed partial class MapleTree<T>
{
    private readonly IMapleNodeAllocator _allocator;
    private readonly IMapleEntryPolicy<T>? _policy;
    private readonly KernelReports? _reports;
    private readonly MapleAllocState _opAlloc = new();
    private uint _flags;
    private int _root = NoNode;
    private bool _rootIsPtr;
    private T _rootPtr = default!;
    private int _height;
    private long _count;
    private long _gen;

    /// <summary>Sink for the cache-line touches of <see cref="SeekLeaf"/>, so the JIT keeps the loads.</summary>
    private ulong _readTouch;

    /// <summary>mt_init_flags(): an empty tree with the given <c>ma_flags</c>.</summary>
    /// <param name="flags">MT_FLAGS_* (see <see cref="MapleFlags"/>); the height bits are ignored.</param>
    /// <param name="allocator">Where nodes come from; a <see cref="HeapMapleNodeAllocator"/> by default.</param>
    /// <param name="policy">How entries encode the XArray classes; null treats every entry as a plain pointer.</param>
    /// <param name="reports">Where WARN_ON_ONCE goes; null drops warnings.</param>
    public MapleTree(uint flags = 0, IMapleNodeAllocator? allocator = null, IMapleEntryPolicy<T>? policy = null,
        KernelReports? reports = null)
    {
        _flags = flags & ~MapleFlags.MT_FLAGS_HEIGHT_MASK;
        _allocator = allocator ?? new HeapMapleNodeAllocator();
        _policy = policy;
        _reports = reports;
    }

    /// <summary>The node allocator.</summary>
    public IMapleNodeAllocator Allocator => _allocator;

    /// <summary>ma_flags, with the height in bits 2..6 as the kernel keeps it.</summary>
    public uint Flags => _flags | ((uint)_height << MapleFlags.MT_FLAGS_HEIGHT_OFFSET);

    /// <summary>mt_is_alloc(): the tree tracks gaps (MT_FLAGS_ALLOC_RANGE).</summary>
    public bool IsAllocTree => (_flags & MapleFlags.MT_FLAGS_ALLOC_RANGE) != 0;

    /// <summary>mt_in_rcu().</summary>
    public bool InRcu => (_flags & MapleFlags.MT_FLAGS_USE_RCU) != 0;

    /// <summary>mt_height(): 0 for an empty or root-pointer tree, 1 for a single leaf, ...</summary>
    public int Height => _height;

    /// <summary>Stored (non-NULL) ranges, the root pointer included.</summary>
    public long Count => _count;

    /// <summary>Nodes the tree holds (leaves and internal nodes).</summary>
    public int NodeCount => _leafLive + _innerLive;

    /// <summary>Leaves the tree holds.</summary>
    public int LeafCount => _leafLive;

    /// <summary>mtree_empty(): no entry at all.</summary>
    public bool MtreeEmpty => _root == NoNode && !_rootIsPtr;

    /// <summary>True when the only entry lives in the root pointer (index 0, no node).</summary>
    public bool IsRootPointer => _rootIsPtr;

    /// <summary>Bumped by every write; lets iterators and maple states notice that nodes moved.</summary>
    internal long Generation => _gen;

    internal int RootNode => _root;

    internal T RootPtr => _rootPtr;

    internal IMapleEntryPolicy<T>? Policy => _policy;

    private int InnerCap => IsAllocTree ? MapleNodeLayout.MAPLE_ARANGE64_SLOTS : MapleNodeLayout.MAPLE_RANGE64_SLOTS;

    private int InnerMinCount => (IsAllocTree ? MapleNodeLayout.MinSlotsArange64 : MapleNodeLayout.MinSlotsRange64) + 1;

    private const int LeafCap = MapleNodeLayout.MAPLE_RANGE64_SLOTS;

    private const int LeafMinCount = MapleNodeLayout.MinSlotsRange64 + 1;

    /// <summary>mt_set_in_rcu().</summary>
    public void MtSetInRcu() => _flags |= MapleFlags.MT_FLAGS_USE_RCU;

    /// <summary>mt_clear_in_rcu().</summary>
    public void MtClearInRcu() => _flags &= ~MapleFlags.MT_FLAGS_USE_RCU;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static bool IsNull(T entry) =>
        typeof(T).IsValueType ? EqualityComparer<T>.Default.Equals(entry, default!) : entry is null;

    internal bool IsZero(T entry) => _policy is not null && !IsNull(entry) && _policy.IsZero(entry);

    private bool IsInternalEntry(T entry) => _policy is not null && !IsNull(entry) && _policy.IsInternal(entry);

    private static int Err(Errno e) => -(int)e;

    /// <summary>mtree_load(): the entry at <paramref name="index"/>, or NULL (XA_ZERO_ENTRY reads as NULL).</summary>
    public T MtreeLoad(ulong index)
    {
        T entry;
        if (_root == NoNode)
        {
            if (!_rootIsPtr || index != 0)
            {
                return default!;
            }

            entry = _rootPtr;
        }
        else
        {
            var h = SeekLeaf(index, out var j);
            entry = Lf(h).Slot[j];
        }

        return _policy is not null && IsZero(entry) ? default! : entry;
    }

    /// <summary>mtree_store_range(): store <paramref name="entry"/> over [first, last]; NULL erases that sub-range.</summary>
    /// <returns>0; -EINVAL for first &gt; last or an advanced entry (with a WARN); -ENOMEM.</returns>
    public int MtreeStoreRange(ulong first, ulong last, T entry, Gfp gfp)
    {
        if (IsAdvanced(entry, "mtree_store_range"))
        {
            return Err(Errno.EINVAL);
        }

        if (first > last)
        {
            return Err(Errno.EINVAL);
        }

        return Write(_opAlloc, first, last, entry, gfp, insert: false);
    }

    /// <summary>mtree_store(): mtree_store_range(index, index).</summary>
    public int MtreeStore(ulong index, T entry, Gfp gfp) => MtreeStoreRange(index, index, entry, gfp);

    /// <summary>mtree_insert_range(): store only if every index of [first, last] is NULL.</summary>
    /// <returns>0; -EEXIST if any index is occupied; -EINVAL (first &gt; last, advanced entry); -ENOMEM.</returns>
    public int MtreeInsertRange(ulong first, ulong last, T entry, Gfp gfp)
    {
        if (IsAdvanced(entry, "mtree_insert_range"))
        {
            return Err(Errno.EINVAL);
        }

        if (first > last)
        {
            return Err(Errno.EINVAL);
        }

        return Write(_opAlloc, first, last, entry, gfp, insert: true);
    }

    /// <summary>mtree_insert(): mtree_insert_range(index, index).</summary>
    public int MtreeInsert(ulong index, T entry, Gfp gfp) => MtreeInsertRange(index, index, entry, gfp);

    /// <summary>
    /// mtree_erase(): remove the whole range containing <paramref name="index"/>; returns the raw old entry. As in
    /// the kernel, if the nodes the erase needs cannot be allocated the entry is returned but stays in the tree.
    /// </summary>
    public T MtreeErase(ulong index)
    {
        if (_root == NoNode)
        {
            if (!_rootIsPtr || index != 0)
            {
                return default!;
            }
        }

        var entry = LookupRange(index, out var first, out var last);
        if (IsNull(entry))
        {
            return entry;
        }

        Write(_opAlloc, first, last, default!, Gfp.GFP_KERNEL, insert: false);
        return entry;
    }

    /// <summary>mtree_destroy(): free every node; the tree is empty afterwards and keeps its flags.</summary>
    public void MtreeDestroy()
    {
        if (_root != NoNode)
        {
            FreeSubtreeObjs(_root);
        }

        ResetPools();
        _root = NoNode;
        _rootIsPtr = false;
        _rootPtr = default!;
        _height = 0;
        _count = 0;
        _gen++;
    }

    /// <summary>mt_init_flags() on a tree in use: destroy it, then take the new flags.</summary>
    public void MtInitFlags(uint flags)
    {
        MtreeDestroy();
        _flags = flags & ~MapleFlags.MT_FLAGS_HEIGHT_MASK;
    }

    private void FreeSubtreeObjs(int h)
    {
        if (!IsLeaf(h))
        {
            ref var n = ref In(h);
            for (var i = 0; i < n.Count; i++)
            {
                FreeSubtreeObjs(n.Child[i]);
            }
        }

        var obj = ObjOf(h);
        if (InRcu)
        {
            _allocator.FreeRcu(obj);
        }
        else
        {
            _allocator.Free(obj);
        }
    }

    private bool IsAdvanced(T entry, string function)
    {
        if (_policy is null || IsNull(entry) || !_policy.IsAdvanced(entry))
        {
            return false;
        }

        _reports?.WarnOnOnce(true, function, "WARN_ON_ONCE(xa_is_advanced(entry))");
        return true;
    }

    private bool IsReservedForAlloc(T entry, string function)
    {
        if (_policy is null || IsNull(entry) || !_policy.IsReserved(entry))
        {
            return false;
        }

        _reports?.WarnOnOnce(true, function, "WARN_ON_ONCE(mt_is_reserved(entry))");
        return true;
    }

    /// <summary>The raw entry at <paramref name="index"/> and the range it covers (mas_walk without a state).</summary>
    internal T LookupRange(ulong index, out ulong first, out ulong last)
    {
        if (_root == NoNode)
        {
            if (_rootIsPtr)
            {
                if (index == 0)
                {
                    first = last = 0;
                    return _rootPtr;
                }

                first = 1;
                last = ulong.MaxValue;
                return default!;
            }

            first = 0;
            last = ulong.MaxValue;
            return default!;
        }

        var leaf = WalkPathCached(index, out var j);
        ref var l = ref Lf(leaf);
        first = j == 0 ? l.Min : l.Piv[j - 1] + 1;
        last = l.Piv[j];
        return l.Slot[j];
    }

    /// <summary>Walk from the root to the leaf covering <paramref name="index"/>; <paramref name="slot"/> is its slot.</summary>
    /// <remarks>
    /// mas_walk()'s descent. The child to follow is only known after the pivot compare, and the child array is on
    /// another cache line than the pivots: touching both ends of it first lets its miss overlap the pivots' instead
    /// of following it, and likewise the leaf's slot array, so a cold level costs one serial miss instead of two.
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal int SeekLeaf(ulong index, out int slot)
    {
        var h = _root;
        ulong touch = 0;
        while (h >= 0)
        {
            ref var n = ref In(h);
            touch += LineTouch.Children(ref n);
            var i = NodeScan.FirstAtLeast(ref n.Piv, index);

            h = n.Child[i];
        }

        ref var l = ref Lf(h);
        _readTouch = touch + LineTouch.Slots(ref l);
        slot = NodeScan.FirstAtLeast(ref l.Piv, index);
        return h;
    }

    /// <summary>mas_safe_min() for a leaf slot.</summary>
    internal ulong SlotMin(int leaf, int j)
    {
        ref var l = ref Lf(leaf);
        return j == 0 ? l.Min : l.Piv[j - 1] + 1;
    }

    /// <summary>The leaf after <paramref name="leaf"/> in index order, or NoNode.</summary>
    internal int NextLeaf(int leaf)
    {
        var h = leaf;
        while (true)
        {
            var p = ParentOf(h);
            if (p == NoNode)
            {
                return NoNode;
            }

            var s = PSlotOf(h);
            ref var pn = ref In(p);
            if (s + 1 < pn.Count)
            {
                h = pn.Child[s + 1];
                while (!IsLeaf(h))
                {
                    h = In(h).Child[0];
                }

                return h;
            }

            h = p;
        }
    }

    /// <summary>The leaf before <paramref name="leaf"/> in index order, or NoNode.</summary>
    internal int PrevLeaf(int leaf)
    {
        var h = leaf;
        while (true)
        {
            var p = ParentOf(h);
            if (p == NoNode)
            {
                return NoNode;
            }

            var s = PSlotOf(h);
            if (s > 0)
            {
                h = In(p).Child[s - 1];
                while (!IsLeaf(h))
                {
                    ref var n = ref In(h);
                    h = n.Child[n.Count - 1];
                }

                return h;
            }

            h = p;
        }
    }
}
