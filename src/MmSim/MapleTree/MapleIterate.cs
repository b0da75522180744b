namespace MmSim.MapleTree;

/// <summary>Read-side iteration without a maple state: mt_find(), mt_find_after(), mt_next(), mt_prev(), mt_for_each.</summary>
public sealed partial class MapleTree<T>
{
    /// <summary>
    /// mt_find(): the first entry (not NULL, not XA_ZERO_ENTRY) at or after <paramref name="index"/> whose range
    /// starts at or below <paramref name="max"/>; on a hit <paramref name="index"/> becomes the index after that
    /// range (0 when the range ends at ULONG_MAX).
    /// </summary>
    public T MtFind(ref ulong index, ulong max)
    {
        if (index > max)
        {
            return default!;
        }

        if (_root == NoNode)
        {
            if (_rootIsPtr && index == 0 && !IsZero(_rootPtr))
            {
                index = 1;
                return _rootPtr;
            }

            return default!;
        }

        var leaf = SeekLeaf(index, out var j);
        while (true)
        {
            ref var l = ref Lf(leaf);
            var e = l.Slot[j];
            var smax = l.Piv[j];
            if (!IsNull(e) && !IsZero(e))
            {
                index = unchecked(smax + 1);
                return e;
            }

            if (smax >= max)
            {
                return default!;
            }

            if (++j == l.Count)
            {
                leaf = NextLeaf(leaf);
                if (leaf == NoNode)
                {
                    return default!;
                }

                j = 0;
            }
        }
    }

    /// <summary>mt_find_after(): mt_find(), but nothing when <paramref name="index"/> wrapped to 0.</summary>
    public T MtFindAfter(ref ulong index, ulong max) => index == 0 ? default! : MtFind(ref index, max);

    /// <summary>mt_next(): the entry after the range containing <paramref name="index"/>, starting at or below max.</summary>
    public T MtNext(ulong index, ulong max)
    {
        if (index >= max || _root == NoNode)
        {
            // mas_next_setup(): overflow, an empty tree, or a root pointer (nothing lies after index 0).
            return default!;
        }

        var leaf = SeekLeaf(index, out var j);
        while (true)
        {
            ref var l = ref Lf(leaf);
            if (l.Piv[j] >= max)
            {
                return default!;
            }

            if (++j == l.Count)
            {
                leaf = NextLeaf(leaf);
                if (leaf == NoNode)
                {
                    return default!;
                }

                j = 0;
            }

            var e = Lf(leaf).Slot[j];
            if (!IsNull(e))
            {
                return e;
            }
        }
    }

    /// <summary>mt_prev(): the entry before the range containing <paramref name="index"/>, ending at or above min.</summary>
    public T MtPrev(ulong index, ulong min)
    {
        if (index <= min)
        {
            return default!;
        }

        if (_root == NoNode)
        {
            // mas_prev_setup(): a root pointer is "the previous entry" of any index above 0 (min is not consulted).
            return _rootIsPtr ? _rootPtr : default!;
        }

        var leaf = SeekLeaf(index, out var j);
        while (true)
        {
            if (SlotMin(leaf, j) <= min)
            {
                return default!;
            }

            if (j == 0)
            {
                leaf = PrevLeaf(leaf);
                if (leaf == NoNode)
                {
                    return default!;
                }

                j = Lf(leaf).Count - 1;
            }
            else
            {
                j--;
            }

            var e = Lf(leaf).Slot[j];
            if (!IsNull(e))
            {
                return e;
            }
        }
    }

    /// <summary>
    /// mt_for_each(mt, entry, index, max) from <paramref name="min"/>: every entry (not NULL, not XA_ZERO_ENTRY)
    /// whose range meets [min, max], with the range. Allocates nothing:
    /// <c>foreach (var (first, last, entry) in tree.Range(0, ulong.MaxValue))</c>.
    /// </summary>
    public RangeEnumerable Range(ulong min = 0, ulong max = ulong.MaxValue) => new(this, min, max);

    /// <summary>All stored ranges, XA_ZERO_ENTRY included, in index order (for tests and dumps).</summary>
    public List<MapleRange<T>> MtDumpRanges()
    {
        var list = new List<MapleRange<T>>();
        if (_root == NoNode)
        {
            if (_rootIsPtr)
            {
                list.Add(new MapleRange<T>(0, 0, _rootPtr));
            }

            return list;
        }

        var leaf = _root;
        while (!IsLeaf(leaf))
        {
            leaf = In(leaf).Child[0];
        }

        while (leaf != NoNode)
        {
            ref var l = ref Lf(leaf);
            var min = l.Min;
            for (var j = 0; j < l.Count; j++)
            {
                if (!IsNull(l.Slot[j]))
                {
                    list.Add(new MapleRange<T>(min, l.Piv[j], l.Slot[j]));
                }

                min = l.Piv[j] + 1;
            }

            leaf = NextLeaf(leaf);
        }

        return list;
    }

    /// <summary>The <c>mt_for_each</c> range of a tree, enumerable without allocation.</summary>
    public readonly struct RangeEnumerable
    {
        private readonly MapleTree<T> _tree;
        private readonly ulong _min;
        private readonly ulong _max;

        internal RangeEnumerable(MapleTree<T> tree, ulong min, ulong max)
        {
            _tree = tree;
            _min = min;
            _max = max;
        }

        public Enumerator GetEnumerator() => new(_tree, _min, _max);
    }

    /// <summary>
    /// The mt_for_each cursor. It keeps its leaf position between steps and re-walks from the next index if the
    /// tree was written in between (as mt_find() would, taking the RCU read lock afresh each time).
    /// </summary>
    public struct Enumerator
    {
        private readonly MapleTree<T> _tree;
        private readonly ulong _max;
        private ulong _next;
        private bool _done;
        private int _leaf;
        private int _slot;
        private long _gen;
        private MapleRange<T> _current;

        internal Enumerator(MapleTree<T> tree, ulong min, ulong max)
        {
            _tree = tree;
            _max = max;
            _next = min;
            _done = min > max;
            _leaf = NoNode;
            _slot = 0;
            _gen = -1;
            _current = default;
        }

        public readonly MapleRange<T> Current => _current;

        public bool MoveNext()
        {
            if (_done)
            {
                return false;
            }

            var t = _tree;
            if (t._root == NoNode)
            {
                _done = true;
                if (t._rootIsPtr && _next == 0 && !t.IsZero(t._rootPtr))
                {
                    _current = new MapleRange<T>(0, 0, t._rootPtr);
                    return true;
                }

                return false;
            }

            int leaf;
            int j;
            if (_gen == t._gen && _leaf != NoNode)
            {
                leaf = _leaf;
                j = _slot + 1;
                if (j == t.Lf(leaf).Count)
                {
                    leaf = t.NextLeaf(leaf);
                    if (leaf == NoNode)
                    {
                        _done = true;
                        return false;
                    }

                    j = 0;
                }
            }
            else
            {
                leaf = t.SeekLeaf(_next, out j);
                _gen = t._gen;
            }

            while (true)
            {
                ref var l = ref t.Lf(leaf);
                var smin = j == 0 ? l.Min : l.Piv[j - 1] + 1;
                if (smin > _max)
                {
                    _done = true;
                    return false;
                }

                var e = l.Slot[j];
                if (!IsNull(e) && !t.IsZero(e))
                {
                    var last = l.Piv[j];
                    _current = new MapleRange<T>(smin, last, e);
                    _leaf = leaf;
                    _slot = j;
                    _next = unchecked(last + 1);
                    if (last >= _max)
                    {
                        _done = true;
                    }

                    return true;
                }

                if (++j == l.Count)
                {
                    leaf = t.NextLeaf(leaf);
                    if (leaf == NoNode)
                    {
                        _done = true;
                        return false;
                    }

                    j = 0;
                }
            }
        }
    }
}
