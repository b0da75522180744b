using System.Globalization;
using System.Text;

namespace MmSim.MapleTree;

/// <summary>mt_validate() and mt_dump().</summary>
public sealed partial class MapleTree<T>
{
    /// <summary>
    /// mt_validate(): check the tree's structure. Returns one line per violation (empty when the tree is sound):
    /// pivots strictly increasing inside each node's bounds and ending at its maximum; parent links and parent
    /// slots; every leaf at the same depth; occupancy (a node other than the root or the rightmost at its level
    /// has more than mt_min_slots entries, the 6.12 rule); per-slot gaps equal to the largest NULL run below the
    /// slot and the metadata gap slot pointing at the largest (MT_FLAGS_ALLOC_RANGE trees); no two adjacent
    /// NULL ranges anywhere, and no leaf but the last ending in NULL; the stored range and node counts.
    /// </summary>
    public List<string> MtValidate()
    {
        var errors = new List<string>();
        if (_root == NoNode)
        {
            if (_height != 0)
            {
                errors.Add($"tree without nodes has height {_height}");
            }

            var expected = _rootIsPtr ? 1 : 0;
            if (_count != expected)
            {
                errors.Add($"count {_count} but the tree holds {expected} entries");
            }

            if (_rootIsPtr && IsNull(_rootPtr))
            {
                errors.Add("root pointer holds NULL");
            }

            if (_rootIsPtr && IsInternalEntry(_rootPtr))
            {
                errors.Add("an internal entry is kept in the root pointer");
            }

            if (NodeCount != 0)
            {
                errors.Add($"tree without nodes owns {NodeCount} nodes");
            }

            return errors;
        }

        if (_rootIsPtr)
        {
            errors.Add("tree has both a root node and a root pointer");
        }

        if (_height < 1 || _height > MapleNodeLayout.MAPLE_HEIGHT_MAX)
        {
            errors.Add($"height {_height} out of range");
        }

        if (ParentOf(_root) != NoNode)
        {
            errors.Add("root node has a parent");
        }

        var st = _validateState ??= new ValidateState();
        st.Reset();
        ValidateNode(_root, 0, ulong.MaxValue, 0, NoNode, 0, errors, st);
        if (st.Nodes != NodeCount)
        {
            errors.Add($"tree reaches {st.Nodes} nodes but owns {NodeCount}");
        }

        if (st.NonNull != _count)
        {
            errors.Add($"count {_count} but the leaves hold {st.NonNull} entries");
        }

        return errors;
    }

    // Reused across calls: mt_validate runs after every checked step of `mmsim check`.
    private ValidateState? _validateState;

    private sealed class ValidateState
    {
        public int Nodes;
        public long NonNull;
        public bool PrevNull;
        public bool HavePrev;
        public int LeafIndex;
        public readonly HashSet<ulong> Objs = [];

        public void Reset()
        {
            Nodes = 0;
            NonNull = 0;
            PrevNull = false;
            HavePrev = false;
            LeafIndex = 0;
            Objs.Clear();
        }
    }

    /// <summary>Where a violation is, formatted only when one is reported.</summary>
    private readonly record struct NodeWhere(int H, ulong Min, ulong Max, int Depth)
    {
        public override string ToString() =>
            string.Create(CultureInfo.InvariantCulture, $"{(H < 0 ? "leaf" : "node")} {(H < 0 ? ~H : H)} [{Min:x}, {Max:x}] depth {Depth}");
    }

    /// <summary>Validate the subtree at <paramref name="h"/>; returns its largest NULL run.</summary>
    private ulong ValidateNode(int h, ulong min, ulong max, int depth, int parent, int pslot, List<string> errors,
        ValidateState st)
    {
        st.Nodes++;
        var where = new NodeWhere(h, min, max, depth);
        var count = NodeCountOf(h);
        if (count == 0)
        {
            errors.Add($"{where}: node is free but linked");
            return 0;
        }

        if (!st.Objs.Add(ObjOf(h)) || ObjOf(h) == 0)
        {
            errors.Add($"{where}: node address 0x{ObjOf(h):x} missing or shared");
        }

        if (ParentOf(h) != parent || (parent != NoNode && PSlotOf(h) != pslot))
        {
            errors.Add($"{where}: parent link {ParentOf(h)}[{PSlotOf(h)}] expected {parent}[{pslot}]");
        }

        if (NodeMin(h) != min)
        {
            errors.Add($"{where}: stored min {NodeMin(h):x} != {min:x}");
        }

        var cap = IsLeaf(h) ? LeafCap : InnerCap;
        if (count > cap)
        {
            errors.Add($"{where}: {count} slots exceed {cap}");
            return 0;
        }

        var minCount = IsLeaf(h) ? LeafMinCount : InnerMinCount;
        if (h != _root && max != ulong.MaxValue && count < minCount)
        {
            errors.Add($"{where}: {count} slots, below the minimum {minCount} (mt_min_slots {minCount - 1})");
        }

        var isLeaf = IsLeaf(h);
        if (isLeaf != (depth == _height - 1))
        {
            errors.Add($"{where}: {(isLeaf ? "leaf" : "internal node")} at depth {depth} in a tree of height {_height}");
        }

        // Pivots: strictly increasing, within [min, max], the last one equal to max.
        var prev = min;
        for (var i = 0; i < count; i++)
        {
            var piv = isLeaf ? Lf(h).Piv[i] : In(h).Piv[i];
            if (piv < prev || (i > 0 && prev == 0))
            {
                errors.Add($"{where}: pivot[{i}] {piv:x} below the slot start {prev:x} (pivots must increase)");
            }

            if (piv > max)
            {
                errors.Add($"{where}: pivot[{i}] {piv:x} beyond max {max:x}");
            }

            prev = piv + 1;
        }

        var lastPiv = isLeaf ? Lf(h).Piv[count - 1] : In(h).Piv[count - 1];
        if (lastPiv != max)
        {
            errors.Add($"{where}: last pivot {lastPiv:x} != node max {max:x}");
        }

        if (isLeaf)
        {
            return ValidateLeaf(h, min, max, where, errors, st);
        }

        ulong maxGap = 0;
        var cmin = min;
        for (var i = 0; i < count; i++)
        {
            ref var n = ref In(h);
            var child = n.Child[i];
            var cmax = n.Piv[i];
            var g = ValidateNode(child, cmin, cmax, depth + 1, h, i, errors, st);
            n = ref In(h);
            if (IsAllocTree && n.Gap[i] != g)
            {
                errors.Add($"{where}: gap[{i}] {n.Gap[i]:x} but the largest NULL run below is {g:x}");
            }

            maxGap = Math.Max(maxGap, g);
            cmin = cmax + 1;
        }

        if (IsAllocTree)
        {
            ref var n = ref In(h);
            for (var i = count; i < MapleNodeLayout.MAPLE_RANGE64_SLOTS; i++)
            {
                if (n.Gap[i] != 0)
                {
                    errors.Add($"{where}: gap[{i}] beyond the node's end is {n.Gap[i]:x}");
                }
            }

            if (n.MetaGap >= count)
            {
                errors.Add($"{where}: metadata gap slot {n.MetaGap} beyond end {count - 1}");
            }
            else if (n.Gap[n.MetaGap] != maxGap)
            {
                errors.Add($"{where}: metadata gap slot {n.MetaGap} holds {n.Gap[n.MetaGap]:x}, not the largest {maxGap:x}");
            }
        }

        return maxGap;
    }

    private ulong ValidateLeaf(int h, ulong min, ulong max, NodeWhere where, List<string> errors, ValidateState st)
    {
        ref var l = ref Lf(h);
        ulong maxGap = 0;
        var smin = min;
        for (var i = 0; i < l.Count; i++)
        {
            var isNull = IsNull(l.Slot[i]);
            if (isNull)
            {
                var gap = l.Piv[i] - smin + 1;
                maxGap = Math.Max(maxGap, gap == 0 ? ulong.MaxValue : gap);
                if (st.HavePrev && st.PrevNull)
                {
                    errors.Add($"{where}: NULL range at slot {i} [{smin:x}, {l.Piv[i]:x}] follows another NULL range");
                }
            }
            else
            {
                st.NonNull++;
            }

            st.PrevNull = isNull;
            st.HavePrev = true;
            smin = l.Piv[i] + 1;
        }

        if (IsNull(l.Slot[l.Count - 1]) && max != ulong.MaxValue)
        {
            errors.Add($"{where}: leaf ends in a NULL range but is not the last leaf");
        }

        if (IsAllocTree && l.MaxGap != maxGap)
        {
            errors.Add($"{where}: cached largest gap {l.MaxGap:x} != {maxGap:x}");
        }

        st.LeafIndex++;
        return maxGap;
    }

    /// <summary>mt_dump(): the tree, one node or range per line, indented by depth (hex).</summary>
    public string MtDump()
    {
        var sb = new StringBuilder();
        sb.Append(CultureInfo.InvariantCulture,
            $"maple_tree flags {Flags:X}, height {_height}, {Count} ranges, {NodeCount} nodes\n");
        if (_root == NoNode)
        {
            sb.Append(_rootIsPtr ? $"0: {_rootPtr} (root pointer)\n" : "(empty)\n");
            return sb.ToString();
        }

        DumpNode(_root, 0, ulong.MaxValue, 0, sb);
        return sb.ToString();
    }

    private void DumpNode(int h, ulong min, ulong max, int depth, StringBuilder sb)
    {
        var pad = new string(' ', depth * 2);
        if (IsLeaf(h))
        {
            ref var l = ref Lf(h);
            sb.Append(CultureInfo.InvariantCulture, $"{pad}{min:x}-{max:x}: leaf 0x{l.Obj:x} ({l.Count} slots)\n");
            var smin = min;
            for (var i = 0; i < l.Count; i++)
            {
                var e = l.Slot[i];
                sb.Append(CultureInfo.InvariantCulture, $"{pad}  {smin:x}-{l.Piv[i]:x}: {(IsNull(e) ? "(null)" : e!.ToString())}\n");
                smin = l.Piv[i] + 1;
            }

            return;
        }

        ref var n = ref In(h);
        sb.Append(CultureInfo.InvariantCulture, $"{pad}{min:x}-{max:x}: node 0x{n.Obj:x} ({n.Count} slots)");
        if (IsAllocTree)
        {
            sb.Append(" gaps");
            for (var i = 0; i < n.Count; i++)
            {
                sb.Append(CultureInfo.InvariantCulture, $" {n.Gap[i]:x}");
            }

            sb.Append(CultureInfo.InvariantCulture, $" | meta {n.MetaGap}");
        }

        sb.Append('\n');
        var cmin = min;
        var count = n.Count;
        for (var i = 0; i < count; i++)
        {
            var child = In(h).Child[i];
            var cmax = In(h).Piv[i];
            DumpNode(child, cmin, cmax, depth + 1, sb);
            cmin = cmax + 1;
        }
    }
}
