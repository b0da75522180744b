using MmSim.Kernel;

namespace MmSim.Vm;

/// <summary>dup_mmap() (kernel/fork.c in 6.12) and exit_mmap() (mm/mmap.c).</summary>
public sealed partial class MmStruct
{
    /// <summary>
    /// dup_mmap(mm, oldmm): copy every VMA of <paramref name="oldmm"/> into this new mm, in ascending order.
    /// VM_DONTCOPY VMAs are skipped; each copy gets ->open after it is linked, then its PTEs (private anonymous pages
    /// become copy-on-write in both). On failure the VMAs copied so far stay (exit_mmap closes them) and the error is
    /// returned.
    /// </summary>
    internal int DupMmap(MmStruct oldmm)
    {
        TotalVm = oldmm.TotalVm;
        DataVm = oldmm.DataVm;
        ExecVm = oldmm.ExecVm;
        StackVm = oldmm.StackVm;
        foreach (var mpnt in oldmm.MmMt.Snapshot())
        {
            if ((mpnt.VmFlags & VmFlags.VM_DONTCOPY) != 0)
            {
                VmStatAccount(mpnt.VmFlags, -(long)mpnt.Pages);
                continue;
            }

            if ((mpnt.VmFlags & VmFlags.VM_ACCOUNT) != 0 && oldmm.SecurityVmEnoughMemory(mpnt.Pages) != 0)
            {
                return DupMmapFailed(mpnt);
            }

            var tmp = Vm.VmAreaDup(mpnt);
            if (tmp is null)
            {
                return DupMmapFailed(mpnt);
            }

            tmp.VmMm = this;
            if ((tmp.VmFlags & VmFlags.VM_WIPEONFORK) != 0)
            {
                tmp.AnonVma = null;
                tmp.AnonVmaChainLength = 0;
            }
            else
            {
                AnonVmaFork(tmp, mpnt);
            }

            tmp.VmFlagsClear(VmFlags.VM_LOCKED_MASK);
            if (MmMt.StoreGfp(tmp) != 0)
            {
                Vm.VmAreaFree(tmp);
                return DupMmapFailed(mpnt);
            }

            MapCount++;
            VmaOpen(tmp);
            if (tmp.VmFile is not null)
            {
                Vm.GetFile(tmp.VmFile);
            }

            if ((tmp.VmFlags & VmFlags.VM_WIPEONFORK) == 0)
            {
                CopyPageRange(this, tmp, oldmm, mpnt);
            }
        }

        return 0;
    }

    // The failure point of dup_mmap(): VMAs from here on are not in the child (the kernel's XA_ZERO_ENTRY cut); the
    // accounting of the uncopied part is taken back so exit_mmap() balances.
    private int DupMmapFailed(VmArea failedAt)
    {
        foreach (var v in failedAt.VmMm.MmMt.Snapshot())
        {
            if (v.VmStart >= failedAt.VmStart)
            {
                VmStatAccount(v.VmFlags, -(long)v.Pages);
            }
        }

        return -(int)Errno.ENOMEM;
    }

    /// <summary>
    /// exit_mmap(): tear down the address space: zap every PTE, free the page tables, then close, fput and free each VMA
    /// in ascending address order.
    /// </summary>
    internal void ExitMmap()
    {
        var vmas = MmMt.Snapshot();
        foreach (var v in vmas)
        {
            UnmapSingleVma(v, v.VmStart, v.VmEnd);
        }

        Pgd.FreePgtables(0, TaskSize);
        foreach (var v in vmas)
        {
            RemoveVma(v, closed: false);
        }

        if (vmas.Length != MapCount)
        {
            Machine.Reports.WarnOn(true, "exit_mmap", $"count {vmas.Length} != map_count {MapCount}");
        }
        MmMt.Destroy();
        MapCount = 0;
        TotalVm = DataVm = ExecVm = StackVm = LockedVm = 0;
        MarkDead();
    }
}
