namespace MmSim.MapleTree;

/// <summary>
/// The common spanning store (an erase of a leaf's last range): its two leaves are siblings and their contents,
/// packed by <see cref="PackLeaves"/>'s two-leaf split, leave both sufficient. Then the general
/// <see cref="ReplaceLeaves"/> reuses both leaves (no node taken from the preallocation, none freed) and rewrites
/// the parent with the same children in the same slots, so all that changes is the two leaves, the parent's pivot
/// between them and, in allocation trees, the parent's two gap slots, its meta gap and the climb above. This path
/// writes just that; the result is identical, field for field.
/// </summary>
public sealed partial class MapleTree<T>
{
    /// <summary>The most entries <see cref="PackLeaves"/> packs into two leaves.</summary>
    private const int TwoLeafMax = (2 * LeafCap) - 2;

    /// <summary>Test-only: send every spanning store through the general <see cref="ReplaceLeaves"/>.</summary>
    internal bool SpanSiblingsFastPathDisabled { get; set; }

    /// <summary>Test-only: spanning stores this path carried out.</summary>
    internal long SpanSiblingsFastPathCount { get; private set; }

    /// <summary>mab_no_null_split() of E into two leaves: the entries the left leaf gets.</summary>
    private int TwoLeafSplit(int n) => NoNullSplit((n + 1) / 2, n);

    /// <summary>
    /// mas_spanning_rebalance() over two sibling leaves that stay sufficient: the outcome of
    /// <c>ReplaceLeaves(same: false)</c> without gathering and rewriting the parent. False (nothing written) for
    /// every other case.
    /// </summary>
    private bool TrySpanSiblings()
    {
        var h = _height;
        var n = _eCount;
        if (SpanSiblingsFastPathDisabled || h < 2 || n <= LeafCap || n > TwoLeafMax)
        {
            return false;
        }

        var p = _pathL[h - 2];
        var oa = _offL[h - 2];
        if (_pathR[h - 2] != p || _offR[h - 2] != oa + 1)
        {
            return false;
        }

        // FixCandidates() would rebalance a deficient leaf or parent, CollapseRoot() a one-child root.
        ref var pn = ref In(p);
        var split = TwoLeafSplit(n);
        if (split < LeafMinCount || n - split < LeafMinCount || In(_root).Count == 1 ||
            (p != _root && pn.Count < InnerMinCount))
        {
            return false;
        }

        var leafL = _pathL[h - 1];
        var leafR = _pathR[h - 1];
        WriteLeaf(leafL, _eMin, 0, split);
        WriteLeaf(leafR, _ePiv[split - 1] + 1, split, n);

        // E ends at the right leaf's old maximum, so the parent's pivot for it stays.
        pn.Piv[oa] = _ePiv[split - 1];
        if (IsAllocTree)
        {
            // FinishGaps(): the leaves' largest gaps into the parent, ma_max_gap(), then mas_update_gap() above.
            _dirty.Clear();
            pn.Gap[oa] = Lf(leafL).MaxGap;
            pn.Gap[oa + 1] = Lf(leafR).MaxGap;
            SetMetaGap(ref pn);
            UpdateGapUp(p);
        }

        SpanSiblingsFastPathCount++;
        return true;
    }
}
