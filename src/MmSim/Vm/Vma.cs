using MmSim.Kernel;

namespace MmSim.Vm;

/// <summary>vmg->state (mm/vma.h).</summary>
internal enum VmaMergeState
{
    VMA_MERGE_START,
    VMA_MERGE_ERROR_NOMEM,
    VMA_MERGE_NOMERGE,
    VMA_MERGE_SUCCESS,
}

/// <summary>struct vma_merge_struct (mm/vma.h): a proposed range and the attributes it must match to merge.</summary>
internal sealed class VmaMergeStruct
{
    public VmArea? Prev;
    public VmArea? Next;
    public VmArea? Vma;
    public ulong Start;
    public ulong End;
    public ulong Pgoff;
    public VmFlags Flags;
    public VfsFile? File;
    public AnonVma? AnonVma;
    public VmaMergeState State;

    /// <summary>VMG_VMA_STATE(): the attributes of <paramref name="vma"/> for [start, end).</summary>
    public static VmaMergeStruct FromVma(VmArea? prev, VmArea vma, ulong start, ulong end) => new()
    {
        Prev = prev,
        Vma = vma,
        Start = start,
        End = end,
        Flags = vma.VmFlags,
        File = vma.VmFile,
        AnonVma = vma.AnonVma,
        Pgoff = vma.VmPgoff + ((start - vma.VmStart) >> K.PAGE_SHIFT),
    };
}

/// <summary>struct vma_munmap_struct (mm/vma.h): the VMAs gathered for removal by munmap or MAP_FIXED.</summary>
internal sealed class VmaMunmapStruct
{
    public VmArea Vma = null!;
    public VmArea? Prev;
    public VmArea? Next;
    public ulong Start;
    public ulong End;
    public ulong UnmapStart;
    public ulong UnmapEnd;
    public readonly List<VmArea> Detached = [];
    public ulong NrPages;
    public ulong LockedVm;
    public ulong NrAccounted;
    public bool ClearPtes;
    public bool ClosedVmOps;

    public int VmaCount => Detached.Count;

    // init_vma_munmap()
    public void Init(VmArea vma, ulong start, ulong end)
    {
        Vma = vma;
        Start = start;
        End = end;
        UnmapStart = 0;
        UnmapEnd = K.TASK_SIZE;
        Prev = Next = null;
        Detached.Clear();
        NrPages = LockedVm = NrAccounted = 0;
        ClearPtes = ClosedVmOps = false;
    }
}

/// <summary>mm/vma.c: splitting, merging, gathering for munmap, removal and copies of VMAs.</summary>
public sealed partial class MmStruct
{
    // is_mergeable_vma()
    private static bool IsMergeableVma(VmaMergeStruct vmg, bool mergeNext)
    {
        var vma = mergeNext ? vmg.Next! : vmg.Prev!;
        if (((vma.VmFlags ^ vmg.Flags) & ~VmFlags.VM_SOFTDIRTY) != 0)
        {
            return false;
        }

        return vma.VmFile == vmg.File;
    }

    // is_mergeable_anon_vma()
    private static bool IsMergeableAnonVma(AnonVma? anonVma1, AnonVma? anonVma2, VmArea? vma)
    {
        if ((anonVma1 is null || anonVma2 is null) && (vma is null || vma.AnonVmaChainLength == 1))
        {
            return true;
        }

        return anonVma1 == anonVma2;
    }

    // can_vma_merge_before(): vmg's range can be merged in front of vmg->next.
    private static bool CanVmaMergeBefore(VmaMergeStruct vmg)
    {
        var pglen = (vmg.End - vmg.Start) >> K.PAGE_SHIFT;
        return IsMergeableVma(vmg, true) && IsMergeableAnonVma(vmg.AnonVma, vmg.Next!.AnonVma, vmg.Next)
            && vmg.Next.VmPgoff == vmg.Pgoff + pglen;
    }

    // can_vma_merge_after(): vmg's range can be merged behind vmg->prev.
    private static bool CanVmaMergeAfter(VmaMergeStruct vmg) =>
        IsMergeableVma(vmg, false) && IsMergeableAnonVma(vmg.AnonVma, vmg.Prev!.AnonVma, vmg.Prev)
        && vmg.Prev.VmPgoff + vmg.Prev.Pages == vmg.Pgoff;

    // can_vma_merge_left()
    private static bool CanVmaMergeLeft(VmaMergeStruct vmg) =>
        vmg.Prev is not null && vmg.Prev.VmEnd == vmg.Start && CanVmaMergeAfter(vmg);

    // can_vma_merge_right()
    private static bool CanVmaMergeRight(VmaMergeStruct vmg, bool canMergeLeft)
    {
        if (vmg.Next is null || vmg.End != vmg.Next.VmStart || !CanVmaMergeBefore(vmg))
        {
            return false;
        }

        if (!canMergeLeft)
        {
            return true;
        }

        // are_anon_vmas_compatible(prev, next)
        return IsMergeableAnonVma(vmg.Prev!.AnonVma, vmg.Next.AnonVma, null);
    }

    // can_merge_remove_vma(): only VMAs without a close hook may be deleted by a merge.
    private static bool CanMergeRemoveVma(VmArea vma) => vma.VmOps is null || !vma.VmOps.HasClose;

    // dup_anon_vma()
    private static void DupAnonVma(VmArea dst, VmArea src)
    {
        if (src.AnonVma is not null && dst.AnonVma is null)
        {
            dst.AnonVma = src.AnonVma;
            dst.AnonVmaChainLength = src.AnonVmaChainLength;
        }
    }

    // commit_merge(): set the merged range, adjust a neighbour, delete the VMAs the merge swallowed.
    private int CommitMerge(VmaMergeStruct vmg, VmArea? adjust, VmArea? remove, VmArea? remove2, long adjStart, bool expanded)
    {
        var vma = vmg.Vma!;
        var err = expanded
            ? MmMt.Prealloc(vmg.Start, vmg.End, vma)
            : MmMt.Prealloc((ulong)((long)adjust!.VmStart + adjStart), adjust.VmEnd, vma);
        if (err != 0)
        {
            return -(int)Errno.ENOMEM;
        }

        vma.VmStart = vmg.Start;
        vma.VmEnd = vmg.End;
        vma.VmPgoff = vmg.Pgoff;
        if (expanded)
        {
            MmMt.StorePrealloc(vma);
        }

        if (adjStart != 0)
        {
            adjust!.VmStart = (ulong)((long)adjust.VmStart + adjStart);
            adjust.VmPgoff = (ulong)((long)adjust.VmPgoff + (adjStart >> K.PAGE_SHIFT));
            if (adjStart < 0)
            {
                Machine.Reports.WarnOn(expanded, "commit_merge", "adj_start < 0 with an expanded VMA");
                MmMt.StorePrealloc(adjust);
            }
        }

        MmMt.PreallocFree();

        // vma_complete(): the removed VMAs go without close (they have none).
        foreach (var r in (ReadOnlySpan<VmArea?>)[remove, remove2])
        {
            if (r is null)
            {
                continue;
            }

            r.Detached = true;
            if (r.VmFile is not null)
            {
                Vm.Fput(r.VmFile);
            }

            MapCount--;
            Tracepoints.vma_merge_remove(Log, Owner?.Pid ?? 0, r.VmStart, r.VmEnd);
            Vm.VmAreaFree(r);
        }

        return 0;
    }

    // vma_merge_existing_range(): an attribute change of [vmg.Start, vmg.End) inside vmg.Vma may merge with neighbours.
    private VmArea? VmaMergeExistingRange(VmaMergeStruct vmg)
    {
        var vma = vmg.Vma!;
        var prev = vmg.Prev;
        var start = vmg.Start;
        var end = vmg.End;
        var leftSide = start == vma.VmStart;
        var rightSide = end == vma.VmEnd;
        VmArea? next;
        VmArea? adjust = null;
        long adjStart = 0;

        vmg.State = VmaMergeState.VMA_MERGE_NOMERGE;
        if ((vmg.Flags & VmFlags.VM_SPECIAL) != 0 || (!leftSide && !rightSide))
        {
            return null;
        }

        var mergeLeft = leftSide && CanVmaMergeLeft(vmg);
        bool mergeRight;
        if (rightSide)
        {
            next = vmg.Next = MmMt.VmaNext(vma);
            mergeRight = CanVmaMergeRight(vmg, mergeLeft);
        }
        else
        {
            mergeRight = false;
            next = null;
        }

        if (!mergeLeft && !mergeRight)
        {
            return null;
        }

        var mergeBoth = mergeLeft && mergeRight;
        var mergeWillDeleteVma = leftSide && rightSide;
        if (mergeWillDeleteVma && !CanMergeRemoveVma(vma))
        {
            return null;
        }

        var mergeWillDeleteNext = mergeBoth;
        if (mergeWillDeleteNext && !CanMergeRemoveVma(next!))
        {
            mergeWillDeleteNext = false;
            mergeRight = false;
            mergeBoth = false;
        }

        if (mergeBoth)
        {
            vmg.Vma = prev;
            vmg.Start = prev!.VmStart;
            vmg.End = next!.VmEnd;
            vmg.Pgoff = prev.VmPgoff;
            DupAnonVma(prev, next.AnonVma is not null ? next : vma);
        }
        else if (mergeLeft)
        {
            vmg.Vma = prev;
            vmg.Start = prev!.VmStart;
            vmg.Pgoff = prev.VmPgoff;
            if (!mergeWillDeleteVma)
            {
                adjust = vma;
                adjStart = (long)(vmg.End - vma.VmStart);
            }

            DupAnonVma(prev, vma);
        }
        else
        {
            var pglen = (vmg.End - vmg.Start) >> K.PAGE_SHIFT;
            if (mergeWillDeleteVma)
            {
                vmg.Vma = next;
                vmg.End = next!.VmEnd;
                vmg.Pgoff = next.VmPgoff - pglen;
            }
            else
            {
                vmg.Start = vma.VmStart;
                vmg.End = start;
                vmg.Pgoff = vma.VmPgoff;
                adjust = next;
                adjStart = -(long)(vma.VmEnd - start);
            }

            DupAnonVma(next!, vma);
        }

        var expanded = !mergeRight || mergeWillDeleteVma;
        if (CommitMerge(vmg, adjust, mergeWillDeleteVma ? vma : null, mergeWillDeleteNext ? next : null, adjStart, expanded) != 0)
        {
            vmg.State = VmaMergeState.VMA_MERGE_ERROR_NOMEM;
            return null;
        }

        vmg.State = VmaMergeState.VMA_MERGE_SUCCESS;
        return mergeLeft ? prev : next;
    }

    // vma_merge_new_range(): a new range [vmg.Start, vmg.End) between vmg.Prev and vmg.Next may extend either.
    internal VmArea? VmaMergeNewRange(VmaMergeStruct vmg)
    {
        var prev = vmg.Prev;
        var next = vmg.Next;
        var start = vmg.Start;
        var end = vmg.End;
        var pgoff = vmg.Pgoff;
        var pglen = (end - start) >> K.PAGE_SHIFT;

        vmg.State = VmaMergeState.VMA_MERGE_NOMERGE;
        if ((vmg.Flags & VmFlags.VM_SPECIAL) != 0 || (prev is null && next is null))
        {
            return null;
        }

        var canMergeLeft = CanVmaMergeLeft(vmg);
        var canMergeRight = CanVmaMergeRight(vmg, canMergeLeft);
        if (canMergeRight)
        {
            vmg.End = next!.VmEnd;
            vmg.Vma = next;
            vmg.Pgoff = next.VmPgoff - pglen;
        }

        if (canMergeLeft)
        {
            vmg.Start = prev!.VmStart;
            vmg.Vma = prev;
            vmg.Pgoff = prev.VmPgoff;
            if (canMergeRight && !CanMergeRemoveVma(next!))
            {
                vmg.End = end;
            }
        }

        if (vmg.Vma is not null && VmaExpand(vmg) == 0)
        {
            vmg.State = VmaMergeState.VMA_MERGE_SUCCESS;
            return vmg.Vma;
        }

        vmg.Vma = null;
        vmg.Start = start;
        vmg.End = end;
        vmg.Pgoff = pgoff;
        return null;
    }

    // vma_expand(): grow vmg.Vma to [vmg.Start, vmg.End), swallowing vmg.Next when the range reaches its end.
    private int VmaExpand(VmaMergeStruct vmg)
    {
        var vma = vmg.Vma!;
        var next = vmg.Next;
        var removeNext = false;
        if (next is not null && vma != next && vmg.End == next.VmEnd)
        {
            removeNext = true;
            Machine.Reports.WarnOn(!CanMergeRemoveVma(next), "vma_expand", "removing a VMA with a close hook");
            DupAnonVma(vma, next);
        }

        if (CommitMerge(vmg, null, removeNext ? next : null, null, 0, true) != 0)
        {
            vmg.State = VmaMergeState.VMA_MERGE_ERROR_NOMEM;
            return -(int)Errno.ENOMEM;
        }

        return 0;
    }

    // vma_merge_extend(): expand vma by delta, possibly merging with the next VMA (mremap growth in place).
    internal VmArea? VmaMergeExtend(VmArea vma, ulong delta)
    {
        var vmg = VmaMergeStruct.FromVma(vma, vma, vma.VmEnd, vma.VmEnd + delta);
        vmg.Next = MmMt.VmaNextAddr(vma.VmEnd);
        vmg.Vma = null;
        return VmaMergeNewRange(vmg);
    }

    // __split_vma(): split at addr; the copy takes the part below addr (newBelow) or above it, and gets ->open.
    internal int SplitVmaRaw(VmArea vma, ulong addr, bool newBelow)
    {
        Machine.Reports.WarnOn(vma.VmStart >= addr, "__split_vma", "vm_start >= addr");
        Machine.Reports.WarnOn(vma.VmEnd <= addr, "__split_vma", "vm_end <= addr");

        if (vma.VmOps is { HasMaySplit: true } ops)
        {
            var err = ops.MaySplit(vma, addr);
            if (err != 0)
            {
                return err;
            }
        }

        var n = Vm.VmAreaDup(vma);
        if (n is null)
        {
            return -(int)Errno.ENOMEM;
        }

        if (newBelow)
        {
            n.VmEnd = addr;
        }
        else
        {
            n.VmStart = addr;
            n.VmPgoff += (addr - vma.VmStart) >> K.PAGE_SHIFT;
        }

        if (MmMt.Prealloc(n.VmStart, n.VmEnd, n) != 0)
        {
            Vm.VmAreaFree(n);
            return -(int)Errno.ENOMEM;
        }

        // anon_vma_clone(new, vma)
        n.AnonVmaChainLength = vma.AnonVmaChainLength;
        if (n.VmFile is not null)
        {
            Vm.GetFile(n.VmFile);
        }

        VmaOpen(n);

        if (newBelow)
        {
            vma.VmStart = addr;
            vma.VmPgoff += (addr - n.VmStart) >> K.PAGE_SHIFT;
        }
        else
        {
            vma.VmEnd = addr;
        }

        MmMt.StorePrealloc(n);
        MapCount++;
        return 0;
    }

    // split_vma(): __split_vma() with the max_map_count check.
    internal int SplitVma(VmArea vma, ulong addr, bool newBelow)
    {
        if (MapCount >= MaxMapCount)
        {
            return -(int)Errno.ENOMEM;
        }

        return SplitVmaRaw(vma, addr, newBelow);
    }

    // vma_modify(): merge the changed range with its neighbours, or split it out of vma. The VMA that now covers
    // exactly [vmg.Start, vmg.End) (or the merged one), or a negative errno in err.
    private VmArea? VmaModify(VmaMergeStruct vmg, out int err)
    {
        err = 0;
        var vma = vmg.Vma!;
        var merged = VmaMergeExistingRange(vmg);
        if (merged is not null)
        {
            return merged;
        }

        // vmg_nomem(): a merge that failed for lack of memory fails the change (no fallback to splitting).
        if (vmg.State == VmaMergeState.VMA_MERGE_ERROR_NOMEM)
        {
            err = -(int)Errno.ENOMEM;
            return null;
        }

        if (vma.VmStart < vmg.Start)
        {
            err = SplitVma(vma, vmg.Start, true);
            if (err != 0)
            {
                return null;
            }
        }

        if (vma.VmEnd > vmg.End)
        {
            err = SplitVma(vma, vmg.End, false);
            if (err != 0)
            {
                return null;
            }
        }

        return vma;
    }

    // vma_modify_flags()
    internal VmArea? VmaModifyFlags(VmArea? prev, VmArea vma, ulong start, ulong end, VmFlags newFlags, out int err)
    {
        var vmg = VmaMergeStruct.FromVma(prev, vma, start, end);
        vmg.Flags = newFlags;
        return VmaModify(vmg, out err);
    }

    // vma->vm_ops->open(vma), with its tracepoint.
    internal void VmaOpen(VmArea vma)
    {
        if (vma.VmOps is { HasOpen: true } ops)
        {
            Tracepoints.vm_area_open(Log, Owner?.Pid ?? 0, vma.VmStart, vma.VmEnd, vma.VmFlags);
            ops.Open(vma);
        }
    }

    // vma_close(): call ->close once and make the VMA's ops the dummy table, so it is never closed twice.
    internal void VmaClose(VmArea vma)
    {
        if (vma.VmOps is { HasClose: true } ops)
        {
            Tracepoints.vm_area_close(Log, Owner?.Pid ?? 0, vma.VmStart, vma.VmEnd, vma.VmFlags);
            ops.Close(vma);
            vma.VmOps = VmOperations.Dummy;
        }
    }

    // remove_vma(): close (unless already closed), drop the file reference, free.
    internal void RemoveVma(VmArea vma, bool closed)
    {
        if (!closed)
        {
            VmaClose(vma);
        }

        if (vma.VmFile is not null)
        {
            Vm.Fput(vma.VmFile);
        }

        Vm.VmAreaFree(vma);
    }

    // vms_gather_munmap_vmas(): split the edges and detach every VMA in [vms.Start, vms.End).
    internal int VmsGatherMunmapVmas(VmaMunmapStruct vms)
    {
        int error;
        if (vms.Start > vms.Vma.VmStart)
        {
            if (vms.End < vms.Vma.VmEnd && MapCount >= MaxMapCount)
            {
                return -(int)Errno.ENOMEM;
            }

            error = SplitVmaRaw(vms.Vma, vms.Start, true);
            if (error != 0)
            {
                return error;
            }
        }

        vms.Prev = MmMt.VmaPrevAddr(vms.Start);
        if (vms.Prev is not null)
        {
            vms.UnmapStart = vms.Prev.VmEnd;
        }

        for (var next = MmMt.FindVmaIntersection(vms.Start, vms.End); next is not null && next.VmStart < vms.End;
             next = MmMt.VmaNext(next))
        {
            if (next.VmEnd > vms.End)
            {
                error = SplitVmaRaw(next, vms.End, false);
                if (error != 0)
                {
                    ReattachVmas(vms);
                    return error;
                }
            }

            vms.Detached.Add(next);
            next.Detached = true;
            var nrpages = next.Pages;
            vms.NrPages += nrpages;
            if ((next.VmFlags & VmFlags.VM_LOCKED) != 0)
            {
                vms.LockedVm += nrpages;
            }

            if ((next.VmFlags & VmFlags.VM_ACCOUNT) != 0)
            {
                vms.NrAccounted += nrpages;
            }
        }

        vms.Next = MmMt.VmaNextAddr(vms.End);
        if (vms.Next is not null)
        {
            vms.UnmapEnd = vms.Next.VmStart;
        }

        vms.ClearPtes = true;
        return 0;
    }

    // reattach_vmas(): the gathered VMAs stay (still split).
    private static void ReattachVmas(VmaMunmapStruct vms)
    {
        foreach (var v in vms.Detached)
        {
            v.Detached = false;
        }

        vms.Detached.Clear();
    }

    // vms_clear_ptes(): zap the PTEs of the gathered VMAs and free their page tables.
    private void VmsClearPtes(VmaMunmapStruct vms)
    {
        if (!vms.ClearPtes)
        {
            return;
        }

        foreach (var v in vms.Detached)
        {
            UnmapSingleVma(v, v.VmStart, v.VmEnd);
        }

        Pgd.FreePgtables(vms.UnmapStart, vms.UnmapEnd);
        vms.ClearPtes = false;
    }

    // vms_clean_up_area(): MAP_FIXED over old VMAs clears their PTEs and closes them before the new ->mmap.
    internal void VmsCleanUpArea(VmaMunmapStruct vms)
    {
        if (vms.NrPages == 0)
        {
            return;
        }

        VmsClearPtes(vms);
        foreach (var v in vms.Detached)
        {
            VmaClose(v);
        }

        vms.ClosedVmOps = true;
    }

    // vms_complete_munmap_vmas(): the point of no return of munmap: accounting, PTEs, close, fput, free.
    internal void VmsCompleteMunmapVmas(VmaMunmapStruct vms)
    {
        MapCount -= vms.VmaCount;
        LockedVm -= vms.LockedVm;
        if (vms.NrPages == 0)
        {
            return;
        }

        VmsClearPtes(vms);
        foreach (var v in vms.Detached)
        {
            VmStatAccount(v.VmFlags, -(long)v.Pages);
        }

        foreach (var v in vms.Detached)
        {
            RemoveVma(v, vms.ClosedVmOps);
        }

        vms.Detached.Clear();
    }

    // vms_abort_munmap_vmas(): before the PTEs were cleared, re-attach; afterwards leave a hole.
    internal void VmsAbortMunmapVmas(VmaMunmapStruct vms)
    {
        if (vms.NrPages == 0)
        {
            return;
        }

        if (vms.ClearPtes)
        {
            ReattachVmas(vms);
            return;
        }

        MmMt.ClearGfp(vms.Start, vms.End, Gfp.GFP_KERNEL | Gfp.__GFP_NOFAIL);
        VmsCompleteMunmapVmas(vms);
    }

    // do_vmi_align_munmap()
    private int DoVmiAlignMunmap(VmArea vma, ulong start, ulong end)
    {
        var vms = new VmaMunmapStruct();
        vms.Init(vma, start, end);
        var error = VmsGatherMunmapVmas(vms);
        if (error != 0)
        {
            return error;
        }

        error = MmMt.ClearGfp(start, end);
        if (error != 0)
        {
            ReattachVmas(vms);
            return error;
        }

        VmsCompleteMunmapVmas(vms);
        return 0;
    }

    /// <summary>do_vmi_munmap() / do_munmap(): unmap [start, start + len). 0 or a negative errno.</summary>
    public int DoMunmap(ulong start, ulong len)
    {
        if ((start & ~K.PAGE_MASK) != 0 || start > TaskSize || len > TaskSize - start)
        {
            return -(int)Errno.EINVAL;
        }

        var end = start + K.PageAlign(len);
        if (end == start)
        {
            return -(int)Errno.EINVAL;
        }

        var vma = MmMt.FindVmaIntersection(start, end);
        if (vma is null)
        {
            return 0;
        }

        return DoVmiAlignMunmap(vma, start, end);
    }

    // vma_link()
    private int VmaLink(VmArea vma)
    {
        if (MmMt.Prealloc(vma.VmStart, vma.VmEnd, vma) != 0)
        {
            return -(int)Errno.ENOMEM;
        }

        MmMt.StorePrealloc(vma);
        MapCount++;
        return 0;
    }

    // copy_vma(): the destination VMA of an mremap move (merged into a neighbour, or a copy that gets ->open).
    internal VmArea? CopyVma(ref VmArea vma, ulong addr, ulong len, ulong pgoff)
    {
        var vmaStart = vma.VmStart;
        if (vma.IsAnonymous && vma.AnonVma is null)
        {
            pgoff = addr >> K.PAGE_SHIFT;
        }

        var newVma = MmMt.FindVmaPrev(addr, out var prev);
        if (newVma is not null && newVma.VmStart < addr + len)
        {
            return null;
        }

        var vmg = VmaMergeStruct.FromVma(prev, vma, vma.VmStart, vma.VmEnd);
        vmg.Start = addr;
        vmg.End = addr + len;
        vmg.Vma = null;
        vmg.Pgoff = pgoff;
        vmg.Next = MmMt.VmaNextAddr(addr);
        newVma = VmaMergeNewRange(vmg);
        if (newVma is not null)
        {
            if (vmaStart >= newVma.VmStart && vmaStart < newVma.VmEnd)
            {
                vma = newVma;
            }

            return newVma;
        }

        newVma = Vm.VmAreaDup(vma);
        if (newVma is null)
        {
            return null;
        }

        newVma.VmStart = addr;
        newVma.VmEnd = addr + len;
        newVma.VmPgoff = pgoff;
        newVma.AnonVmaChainLength = vma.AnonVmaChainLength;
        if (newVma.VmFile is not null)
        {
            Vm.GetFile(newVma.VmFile);
        }

        VmaOpen(newVma);
        if (VmaLink(newVma) != 0)
        {
            VmaClose(newVma);
            if (newVma.VmFile is not null)
            {
                Vm.Fput(newVma.VmFile);
            }

            Vm.VmAreaFree(newVma);
            return null;
        }

        return newVma;
    }
}
