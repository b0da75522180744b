using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace MmSim.MapleTree;

/// <summary>Sixteen pivots (or gaps) inline.</summary>
[InlineArray(MapleNodeLayout.MAPLE_RANGE64_SLOTS)]
internal struct Pivots16
{
    private ulong _element0;
}

/// <summary>Whole-node scans: the pivot search of a descent and the largest gap of an arange_64 node.</summary>
internal static class NodeScan
{
    /// <summary>
    /// The first slot whose pivot is at least <paramref name="index"/>. The node's last used pivot is its maximum,
    /// which the caller knows is at least <paramref name="index"/>, so the answer lies below the node's count and
    /// the pivots past it (stale or zero) cannot matter. Compares all sixteen at once: no loop and no
    /// mispredicted exit branch per level.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static int FirstAtLeast(ref Pivots16 piv, ulong index)
    {
        if (Vector256.IsHardwareAccelerated)
        {
            ref var p = ref Unsafe.As<Pivots16, ulong>(ref piv);
            var x = Vector256.Create(index);
            var m = Vector256.GreaterThanOrEqual(Vector256.LoadUnsafe(ref p), x).ExtractMostSignificantBits()
                | (Vector256.GreaterThanOrEqual(Vector256.LoadUnsafe(ref p, 4), x).ExtractMostSignificantBits() << 4)
                | (Vector256.GreaterThanOrEqual(Vector256.LoadUnsafe(ref p, 8), x).ExtractMostSignificantBits() << 8)
                | (Vector256.GreaterThanOrEqual(Vector256.LoadUnsafe(ref p, 12), x).ExtractMostSignificantBits() << 12);
            return BitOperations.TrailingZeroCount(m);
        }

        var i = 0;
        while (piv[i] < index)
        {
            i++;
        }

        return i;
    }

    /// <summary>
    /// ma_max_gap(): the largest of the first <paramref name="count"/> gaps and its slot, the highest slot among
    /// equals (slot 0 when every gap is 0).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static (ulong Max, int Slot) MaxGap(ref Pivots16 gaps, int count)
    {
        ulong best = 0;
        var slot = 0;
        for (var i = count - 1; i >= 0; i--)
        {
            if (gaps[i] > best)
            {
                best = gaps[i];
                slot = i;
            }
        }

        return (best, slot);
    }
}

/// <summary>
/// Cache-line touches for a descent: the child to follow (or the slot to read) is known only after the pivot
/// compare, and its array lies on other cache lines than the pivots; reading both ends (and the middle) of the
/// array first lets those misses overlap the pivots' instead of following them. The values are meaningless; the
/// caller keeps their sum in a field so the JIT keeps the loads.
/// </summary>
internal static class LineTouch
{
    /// <summary>Every cache line of an internal node's child array.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong Children(ref MapleInner n) =>
        (ulong)(n.Child[0] ^ n.Child[MapleNodeLayout.MAPLE_RANGE64_SLOTS - 1]);

    /// <summary>Every cache line of a leaf's slot array (two or three lines).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static ulong Slots<T>(ref MapleLeaf<T> l)
    {
        ref var slots = ref Unsafe.As<Slots16<T>, byte>(ref l.Slot);
        var size = Unsafe.SizeOf<Slots16<T>>();
        return (ulong)(slots ^ Unsafe.Add(ref slots, size / 2) ^ Unsafe.Add(ref slots, size - 1));
    }
}

/// <summary>Sixteen child handles inline.</summary>
[InlineArray(MapleNodeLayout.MAPLE_RANGE64_SLOTS)]
internal struct Children16
{
    private int _element0;
}

/// <summary>Sixteen entries inline.</summary>
[InlineArray(MapleNodeLayout.MAPLE_RANGE64_SLOTS)]
internal struct Slots16<T>
{
    private T _element0;
}

/// <summary>
/// A maple_leaf_64 node: 16 slots of entries, each ending at its pivot (inclusive). Unlike the kernel, which keeps
/// 15 pivots and implies the last from the parent, the pivot of the last used slot is stored too and always
/// equals the node's maximum, so a lookup is one loop without a special case.
/// </summary>
internal struct MapleLeaf<T>
{
    public Pivots16 Piv;
    public Slots16<T> Slot;

    /// <summary>The lowest index the node covers (the kernel derives it from the parent while walking).</summary>
    public ulong Min;

    /// <summary>The largest NULL run in the node (kept for MT_FLAGS_ALLOC_RANGE trees only).</summary>
    public ulong MaxGap;

    /// <summary>The address the node allocator returned for this node.</summary>
    public ulong Obj;

    /// <summary>The parent's handle, or NoNode for the root (the kernel's node->parent).</summary>
    public int Parent;

    /// <summary>Slots in use; 0 for a free handle.</summary>
    public byte Count;

    /// <summary>This node's slot in its parent (encoded in the kernel's parent pointer).</summary>
    public byte PSlot;
}

/// <summary>
/// An internal node: maple_arange_64 (10 slots, 9 pivots, 10 gaps, metadata) in MT_FLAGS_ALLOC_RANGE trees,
/// maple_range_64 (16 slots, 15 pivots) otherwise. The last used pivot is stored and equals the node's maximum.
/// </summary>
internal struct MapleInner
{
    public Pivots16 Piv;

    /// <summary>Child handles, right after the pivots so a lookup touches adjacent cache lines.</summary>
    public Children16 Child;

    /// <summary>Per child: the largest NULL run below it (arange_64 only).</summary>
    public Pivots16 Gap;
    public ulong Min;
    public ulong Obj;
    public int Parent;
    public byte Count;
    public byte PSlot;

    /// <summary>ma_meta_gap(): the slot holding the largest gap.</summary>
    public byte MetaGap;
}

/// <summary>Node pools: leaves and internal nodes live in arrays of structs and are named by an int handle.</summary>
public sealed partial class MapleTree<T>
{
    /// <summary>No node (the kernel's NULL enode). Leaf handles are negative (~index), internal ones non-negative.</summary>
    internal const int NoNode = int.MinValue;

    // Pools are chunked: chunk 0 starts small and doubles up to ChunkSize; later chunks are full size. Handles
    // never move, growth copies at most one chunk, and a large tree wastes at most one partly used chunk.
    private const int ChunkShift = 10;
    private const int ChunkSize = 1 << ChunkShift;
    private const int ChunkMask = ChunkSize - 1;

    private MapleLeaf<T>[][] _leafChunks = [new MapleLeaf<T>[4]];
    private int _leafTop;
    private int[] _leafFree = new int[4];
    private int _leafFreeCount;
    private int _leafLive;

    private MapleInner[][] _innerChunks = [new MapleInner[2]];
    private int _innerTop;
    private int[] _innerFree = new int[2];
    private int _innerFreeCount;
    private int _innerLive;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static bool IsLeaf(int h) => h < 0;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal ref MapleLeaf<T> Lf(int h)
    {
        var i = ~h;
        return ref _leafChunks[i >> ChunkShift][i & ChunkMask];
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal ref MapleInner In(int h) => ref _innerChunks[h >> ChunkShift][h & ChunkMask];

    /// <summary>Handles ever handed out (the mark arrays are sized by it).</summary>
    private int LeafCapacity => _leafTop;

    private int InnerCapacity => _innerTop;

    private static void Grow<TNode>(ref TNode[][] chunks, int top)
    {
        var c = top >> ChunkShift;
        if (c == 0)
        {
            Array.Resize(ref chunks[0], Math.Min(chunks[0].Length * 2, ChunkSize));
            return;
        }

        if (c == chunks.Length)
        {
            Array.Resize(ref chunks, chunks.Length * 2);
        }

        chunks[c] ??= new TNode[ChunkSize];
    }

    internal int NodeCountOf(int h) => IsLeaf(h) ? Lf(h).Count : In(h).Count;

    internal ulong NodeMin(int h) => IsLeaf(h) ? Lf(h).Min : In(h).Min;

    internal ulong NodeMax(int h)
    {
        if (IsLeaf(h))
        {
            ref var l = ref Lf(h);
            return l.Piv[l.Count - 1];
        }

        ref var n = ref In(h);
        return n.Piv[n.Count - 1];
    }

    internal int ParentOf(int h) => IsLeaf(h) ? Lf(h).Parent : In(h).Parent;

    internal int PSlotOf(int h) => IsLeaf(h) ? Lf(h).PSlot : In(h).PSlot;

    internal ulong ObjOf(int h) => IsLeaf(h) ? Lf(h).Obj : In(h).Obj;

    internal bool IsLive(int h) => NodeCountOf(h) != 0;

    private void SetParent(int h, int parent, int slot)
    {
        if (IsLeaf(h))
        {
            ref var l = ref Lf(h);
            l.Parent = parent;
            l.PSlot = (byte)slot;
        }
        else
        {
            ref var n = ref In(h);
            n.Parent = parent;
            n.PSlot = (byte)slot;
        }
    }

    /// <summary>The largest NULL run below <paramref name="h"/> (alloc trees).</summary>
    private ulong SubtreeMaxGap(int h)
    {
        if (IsLeaf(h))
        {
            return Lf(h).MaxGap;
        }

        ref var n = ref In(h);
        return n.Gap[n.MetaGap];
    }

    private int NewLeafHandle(ulong obj)
    {
        int idx;
        if (_leafFreeCount > 0)
        {
            idx = _leafFree[--_leafFreeCount];
        }
        else
        {
            if (_leafTop >= ChunkSize ? (_leafTop & ChunkMask) == 0 : _leafTop == _leafChunks[0].Length)
            {
                Grow(ref _leafChunks, _leafTop);
            }

            idx = _leafTop++;
        }

        _leafLive++;
        ref var l = ref Lf(~idx);
        l.Obj = obj;
        l.Parent = NoNode;
        l.PSlot = 0;
        l.Count = 0;
        l.MaxGap = 0;
        l.Min = 0;
        return ~idx;
    }

    private int NewInnerHandle(ulong obj)
    {
        int idx;
        if (_innerFreeCount > 0)
        {
            idx = _innerFree[--_innerFreeCount];
        }
        else
        {
            if (_innerTop >= ChunkSize ? (_innerTop & ChunkMask) == 0 : _innerTop == _innerChunks[0].Length)
            {
                Grow(ref _innerChunks, _innerTop);
            }

            idx = _innerTop++;
        }

        _innerLive++;
        ref var n = ref In(idx);
        n = default;
        n.Obj = obj;
        n.Parent = NoNode;
        return idx;
    }

    /// <summary>Returns a handle to its pool; the node's address goes back through <see cref="ReleaseObj"/>.</summary>
    private void FreeHandle(int h)
    {
        ulong obj;
        if (IsLeaf(h))
        {
            var idx = ~h;
            ref var l = ref Lf(h);
            obj = l.Obj;
            l.Count = 0;
            l.Obj = 0;
            if (RuntimeHelpers.IsReferenceOrContainsReferences<T>())
            {
                l.Slot = default;
            }

            if (_leafFreeCount == _leafFree.Length)
            {
                Array.Resize(ref _leafFree, _leafFree.Length * 2);
            }

            _leafFree[_leafFreeCount++] = idx;
            _leafLive--;
        }
        else
        {
            ref var n = ref In(h);
            obj = n.Obj;
            n.Count = 0;
            n.Obj = 0;
            if (_innerFreeCount == _innerFree.Length)
            {
                Array.Resize(ref _innerFree, _innerFree.Length * 2);
            }

            _innerFree[_innerFreeCount++] = h;
            _innerLive--;
        }

        ReleaseObj(obj);
    }

    /// <summary>Drops every node handle (mtree_destroy after the nodes were freed).</summary>
    private void ResetPools()
    {
        _leafChunks = [new MapleLeaf<T>[4]];
        _leafTop = 0;
        _leafFreeCount = 0;
        _leafLive = 0;
        _innerChunks = [new MapleInner[2]];
        _innerTop = 0;
        _innerFreeCount = 0;
        _innerLive = 0;
    }
}
