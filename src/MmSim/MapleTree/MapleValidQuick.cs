namespace MmSim.MapleTree;

/// <summary>Called by <see cref="MapleTree{T}.MtValid{TV}"/> for every non-NULL range, in index order.</summary>
internal interface IMapleRangeVisitor<in T>
{
    /// <summary>False stops the walk, and MtValid returns false.</summary>
    bool Visit(ulong first, ulong last, T entry);
}

/// <summary>The quick path of mt_validate() for the invariant checks.</summary>
public sealed partial class MapleTree<T>
{
    // The node addresses of the last MtValid walk, reused (the duplicate test sorts them).
    private ulong[] _validObjs = new ulong[8];
    private int _validObjCount;
    private int _validNodes;
    private long _validNonNull;
    private bool _validPrevNull;
    private bool _validHavePrev;

    /// <summary>
    /// True exactly when <see cref="MtValidate"/> would report nothing, without messages or allocation (the same
    /// walk and conditions; keep both in step). While walking, hands every non-NULL range to
    /// <paramref name="visitor"/> in index order, so that a caller checking the entries walks the tree once.
    /// </summary>
    internal bool MtValid<TV>(ref TV visitor)
        where TV : struct, IMapleRangeVisitor<T>
    {
        if (_root == NoNode)
        {
            if (_height != 0 || _count != (_rootIsPtr ? 1 : 0) || NodeCount != 0)
            {
                return false;
            }

            if (!_rootIsPtr)
            {
                return true;
            }

            return !IsNull(_rootPtr) && !IsInternalEntry(_rootPtr) && visitor.Visit(0, 0, _rootPtr);
        }

        if (_rootIsPtr || _height < 1 || _height > MapleNodeLayout.MAPLE_HEIGHT_MAX || ParentOf(_root) != NoNode)
        {
            return false;
        }

        _validObjCount = 0;
        _validNodes = 0;
        _validNonNull = 0;
        _validPrevNull = false;
        _validHavePrev = false;
        if (!ValidNode(_root, 0, ulong.MaxValue, 0, NoNode, 0, out _, ref visitor) ||
            _validNodes != NodeCount || _validNonNull != _count)
        {
            return false;
        }

        // mt_validate's "node address missing or shared": no zero (checked per node) and no duplicate.
        var objs = _validObjs.AsSpan(0, _validObjCount);
        objs.Sort();
        for (var i = 1; i < objs.Length; i++)
        {
            if (objs[i] == objs[i - 1])
            {
                return false;
            }
        }

        return true;
    }

    // ValidateNode without messages; gap is the subtree's largest NULL run.
    private bool ValidNode<TV>(int h, ulong min, ulong max, int depth, int parent, int pslot, out ulong gap,
        ref TV visitor)
        where TV : struct, IMapleRangeVisitor<T>
    {
        gap = 0;
        _validNodes++;
        var count = NodeCountOf(h);
        var obj = ObjOf(h);
        if (count == 0 || obj == 0 || ParentOf(h) != parent || (parent != NoNode && PSlotOf(h) != pslot) ||
            NodeMin(h) != min)
        {
            return false;
        }

        if (_validObjCount == _validObjs.Length)
        {
            Array.Resize(ref _validObjs, _validObjs.Length * 2);
        }

        _validObjs[_validObjCount++] = obj;
        var isLeaf = IsLeaf(h);
        if (count > (isLeaf ? LeafCap : InnerCap) ||
            (h != _root && max != ulong.MaxValue && count < (isLeaf ? LeafMinCount : InnerMinCount)) ||
            isLeaf != (depth == _height - 1))
        {
            return false;
        }

        var prev = min;
        for (var i = 0; i < count; i++)
        {
            var piv = isLeaf ? Lf(h).Piv[i] : In(h).Piv[i];
            if (piv < prev || (i > 0 && prev == 0) || piv > max)
            {
                return false;
            }

            prev = piv + 1;
        }

        if (prev - 1 != max)
        {
            return false;
        }

        if (isLeaf)
        {
            return ValidLeaf(h, min, max, out gap, ref visitor);
        }

        var cmin = min;
        for (var i = 0; i < count; i++)
        {
            var child = In(h).Child[i];
            var cmax = In(h).Piv[i];
            if (!ValidNode(child, cmin, cmax, depth + 1, h, i, out var g, ref visitor) ||
                (IsAllocTree && In(h).Gap[i] != g))
            {
                return false;
            }

            gap = Math.Max(gap, g);
            cmin = cmax + 1;
        }

        if (IsAllocTree)
        {
            ref var n = ref In(h);
            for (var i = count; i < MapleNodeLayout.MAPLE_RANGE64_SLOTS; i++)
            {
                if (n.Gap[i] != 0)
                {
                    return false;
                }
            }

            if (n.MetaGap >= count || n.Gap[n.MetaGap] != gap)
            {
                return false;
            }
        }

        return true;
    }

    private bool ValidLeaf<TV>(int h, ulong min, ulong max, out ulong gap, ref TV visitor)
        where TV : struct, IMapleRangeVisitor<T>
    {
        ref var l = ref Lf(h);
        gap = 0;
        var smin = min;
        for (var i = 0; i < l.Count; i++)
        {
            var e = l.Slot[i];
            var isNull = IsNull(e);
            if (isNull)
            {
                var g = l.Piv[i] - smin + 1;
                gap = Math.Max(gap, g == 0 ? ulong.MaxValue : g);
                if (_validHavePrev && _validPrevNull)
                {
                    return false;
                }
            }
            else
            {
                _validNonNull++;
                if (!visitor.Visit(smin, l.Piv[i], e))
                {
                    return false;
                }
            }

            _validPrevNull = isNull;
            _validHavePrev = true;
            smin = l.Piv[i] + 1;
        }

        return !(IsNull(l.Slot[l.Count - 1]) && max != ulong.MaxValue) && !(IsAllocTree && l.MaxGap != gap);
    }
}
