using MmSim.Kernel;

namespace MmSim.Vm;

/// <summary>struct vm_unmapped_area_info (include/linux/mm.h).</summary>
internal struct VmUnmappedAreaInfo
{
    public bool TopDown;
    public ulong Length;
    public ulong LowLimit;
    public ulong HighLimit;
    public ulong AlignMask;
    public ulong AlignOffset;
    public ulong StartGap;
}

/// <summary>mm/mmap.c and arch/x86/kernel/sys_x86_64.c: do_mmap, the address-space layout and mmap_region.</summary>
public sealed partial class MmStruct
{
    /// <summary>stack_guard_gap: 256 pages.</summary>
    public const ulong StackGuardGap = 256UL << K.PAGE_SHIFT;

    // vm_start_gap()
    private static ulong VmStartGap(VmArea vma)
    {
        var start = vma.VmStart;
        if ((vma.VmFlags & VmFlags.VM_GROWSDOWN) != 0)
        {
            start -= StackGuardGap;
            if (start > vma.VmStart)
            {
                start = 0;
            }
        }

        return start;
    }

    // vm_end_gap(): x86 has no VM_GROWSUP.
    private static ulong VmEndGap(VmArea vma) => vma.VmEnd;

    // round_hint_to_min()
    private ulong RoundHintToMin(ulong hint)
    {
        hint &= K.PAGE_MASK;
        if (hint != 0 && hint < Vm.MmapMinAddr)
        {
            return K.PageAlign(Vm.MmapMinAddr);
        }

        return hint;
    }

    // unmapped_area(): bottom-up, the lowest gap (mas_empty_area).
    private long UnmappedArea(in VmUnmappedAreaInfo info)
    {
        var length = info.Length + info.AlignMask + info.StartGap;
        if (length < info.Length)
        {
            return Errno.ENOMEM.Neg();
        }

        var lowLimit = Math.Max(info.LowLimit, Vm.MmapMinAddr);
        var highLimit = info.HighLimit;
        while (true)
        {
            if (MmMt.AreaLowest(lowLimit, highLimit, length, out var index) != 0)
            {
                return Errno.ENOMEM.Neg();
            }

            var gap = index + info.StartGap;
            gap += (info.AlignOffset - gap) & info.AlignMask;
            var tmp = MmMt.VmaNextAddr(index);
            if (tmp is not null && (tmp.VmFlags & VmFlags.VM_STARTGAP_FLAGS) != 0)
            {
                if (VmStartGap(tmp) < gap + length - 1)
                {
                    lowLimit = tmp.VmEnd;
                    continue;
                }
            }
            else
            {
                tmp = MmMt.VmaPrevAddr(index);
                if (tmp is not null && VmEndGap(tmp) > gap)
                {
                    lowLimit = VmEndGap(tmp);
                    continue;
                }
            }

            return (long)gap;
        }
    }

    // unmapped_area_topdown(): the highest gap below high_limit (mas_empty_area_rev).
    private long UnmappedAreaTopdown(in VmUnmappedAreaInfo info)
    {
        var length = info.Length + info.AlignMask + info.StartGap;
        if (length < info.Length)
        {
            return Errno.ENOMEM.Neg();
        }

        var lowLimit = Math.Max(info.LowLimit, Vm.MmapMinAddr);
        var highLimit = info.HighLimit;
        while (true)
        {
            if (MmMt.AreaHighest(lowLimit, highLimit, length, out var last) != 0)
            {
                return Errno.ENOMEM.Neg();
            }

            var gapEnd = last + 1;
            var gap = gapEnd - info.Length;
            gap -= (gap - info.AlignOffset) & info.AlignMask;
            var tmp = MmMt.VmaNextAddr(gapEnd);
            if (tmp is not null && (tmp.VmFlags & VmFlags.VM_STARTGAP_FLAGS) != 0)
            {
                if (VmStartGap(tmp) < gapEnd)
                {
                    highLimit = VmStartGap(tmp);
                    continue;
                }
            }
            else
            {
                tmp = MmMt.VmaPrevAddr(gapEnd);
                if (tmp is not null && VmEndGap(tmp) > gap)
                {
                    highLimit = tmp.VmStart;
                    continue;
                }
            }

            return (long)gap;
        }
    }

    // vm_unmapped_area()
    private long VmUnmappedArea(in VmUnmappedAreaInfo info) =>
        info.TopDown ? UnmappedAreaTopdown(info) : UnmappedArea(info);

    // mmap_address_hint_valid() with 4-level paging (DEFAULT_MAP_WINDOW == TASK_SIZE).
    private static bool MmapAddressHintValid(ulong addr, ulong len) => TaskSize - len >= addr;

    // arch_get_unmapped_area(): the legacy bottom-up allocator (x86-64).
    private long ArchGetUnmappedArea(ulong addr, ulong len, ulong flags)
    {
        var begin = MmapLegacyBase;
        var end = TaskSize;
        if ((flags & Mman.MAP_32BIT) != 0)
        {
            begin = 0x40000000;
            end = 0x80000000;
        }

        if (len > end)
        {
            return Errno.ENOMEM.Neg();
        }

        if (addr != 0)
        {
            addr = K.PageAlign(addr);
            var vma = MmMt.FindVma(addr);
            if (end - len >= addr && (vma is null || addr + len <= VmStartGap(vma)))
            {
                return (long)addr;
            }
        }

        var info = new VmUnmappedAreaInfo { Length = len, LowLimit = begin, HighLimit = end };
        return VmUnmappedArea(info);
    }

    /// <summary>
    /// mm_get_unmapped_area() = arch_get_unmapped_area_topdown() (x86-64, MMF_TOPDOWN): MAP_FIXED returns addr as is;
    /// a usable hint is taken; otherwise the highest gap below mmap_base, falling back to bottom-up. The generic
    /// allocator drivers' get_unmapped_area falls back to.
    /// </summary>
    public long MmGetUnmappedArea(VfsFile? file, ulong addr0, ulong len, ulong pgoff, ulong flags)
    {
        _ = file;
        _ = pgoff;
        var addr = addr0;
        if (len > TaskSize)
        {
            return Errno.ENOMEM.Neg();
        }

        if ((flags & Mman.MAP_FIXED) != 0)
        {
            return (long)addr;
        }

        if ((flags & Mman.MAP_32BIT) == 0)
        {
            if (addr != 0)
            {
                addr &= K.PAGE_MASK;
                if (MmapAddressHintValid(addr, len))
                {
                    var vma = MmMt.FindVma(addr);
                    if (vma is null || addr + len <= VmStartGap(vma))
                    {
                        return (long)addr;
                    }
                }
            }

            var info = new VmUnmappedAreaInfo
            {
                TopDown = true,
                Length = len,
                LowLimit = K.PAGE_SIZE,
                HighLimit = MmapBase,
            };
            var a = VmUnmappedArea(info);
            if ((a & (long)(K.PAGE_SIZE - 1)) == 0)
            {
                return a;
            }
        }

        // bottomup: a failed top-down search falls back to the legacy layout.
        return ArchGetUnmappedArea(addr0, len, flags);
    }

    // thp_get_unmapped_area_vmflags() / __thp_get_unmapped_area(): PMD-align large anonymous mappings.
    private long ThpGetUnmappedArea(VfsFile? file, ulong addr, ulong len, ulong pgoff, ulong flags)
    {
        var off = pgoff << K.PAGE_SHIFT;
        var size = Mman.PMD_SIZE;
        var offEnd = off + len;
        var offAlign = (off + size - 1) & ~(size - 1);
        if (!(offEnd <= offAlign || offEnd - offAlign < size))
        {
            var lenPad = len + size;
            if (lenPad >= len && off + lenPad >= off)
            {
                var ret = MmGetUnmappedArea(file, addr, lenPad, off >> K.PAGE_SHIFT, flags);
                if (!ErrnoExtensions.IsErr(ret))
                {
                    if ((ulong)ret == addr)
                    {
                        return (long)addr;
                    }

                    var offSub = (off - (ulong)ret) & (size - 1);
                    if (offSub == 0)
                    {
                        return ret + (long)size;
                    }

                    return ret + (long)offSub;
                }
            }
        }

        return MmGetUnmappedArea(file, addr, len, pgoff, flags);
    }

    /// <summary>
    /// __get_unmapped_area(file, addr, len, pgoff, flags): the file's (or shmem's) hook, the THP-aligned allocator for
    /// large anonymous mappings, or <see cref="MmGetUnmappedArea"/>; then the range, alignment and mmap_min_addr
    /// checks. An address or a negative errno.
    /// </summary>
    public long GetUnmappedArea(VfsFile? file, ulong addr, ulong len, ulong pgoff, ulong flags)
    {
        if (len > TaskSize)
        {
            return Errno.ENOMEM.Neg();
        }

        var fileHook = file is not null && file.FOp.HasGetUnmappedArea;
        if (file is null)
        {
            pgoff = 0;
        }

        long ret;
        if (fileHook)
        {
            ret = file!.FOp.GetUnmappedArea(this, file, addr, len, pgoff, flags);
        }
        else if (file is null && (flags & Mman.MAP_SHARED) != 0)
        {
            // shmem_get_unmapped_area() with shmem_huge=never: the mm's allocator.
            ret = MmGetUnmappedArea(null, addr, len, pgoff, flags);
        }
        else if (addr == 0 && (len & (Mman.PMD_SIZE - 1)) == 0)
        {
            // 6.12 has no !file test here (6.13 added it): files without a hook are THP aligned too.
            ret = ThpGetUnmappedArea(file, addr, len, pgoff, flags);
        }
        else
        {
            ret = MmGetUnmappedArea(file, addr, len, pgoff, flags);
        }

        if (ErrnoExtensions.IsErr(ret))
        {
            return ret;
        }

        var a = (ulong)ret;
        if (a > TaskSize - len)
        {
            return Errno.ENOMEM.Neg();
        }

        if ((a & ~K.PAGE_MASK) != 0)
        {
            return Errno.EINVAL.Neg();
        }

        return SecurityMmapAddr(a) is var e && e != 0 ? e : (long)a;
    }

    // security_mmap_addr() -> cap_mmap_addr(): below mmap_min_addr needs CAP_SYS_RAWIO.
    private int SecurityMmapAddr(ulong addr)
    {
        if (addr < Vm.MmapMinAddr && !(Owner?.Capable(Capability.CAP_SYS_RAWIO) ?? false))
        {
            return -(int)Errno.EPERM;
        }

        return 0;
    }

    // can_do_mlock()
    private bool CanDoMlock() => RlimitMemlock != 0 || (Owner?.Capable(Capability.CAP_IPC_LOCK) ?? false);

    /// <summary>
    /// do_mmap(): map [addr, addr + len) of <paramref name="file"/> (null: anonymous) at page offset
    /// <paramref name="pgoff"/>. The mapped address or a negative errno, with every check in the kernel's order.
    /// <paramref name="populate"/> is the length to prefault (MAP_POPULATE, VM_LOCKED).
    /// </summary>
    public long DoMmap(VfsFile? file, ulong addr, ulong len, ulong prot, ulong flags, VmFlags vmFlags, ulong pgoff, out ulong populate)
    {
        populate = 0;
        if (len == 0)
        {
            return Errno.EINVAL.Neg();
        }

        if ((flags & Mman.MAP_FIXED_NOREPLACE) != 0)
        {
            flags |= Mman.MAP_FIXED;
        }

        if ((flags & Mman.MAP_FIXED) == 0)
        {
            addr = RoundHintToMin(addr);
        }

        len = K.PageAlign(len);
        if (len == 0)
        {
            return Errno.ENOMEM.Neg();
        }

        if (pgoff + (len >> K.PAGE_SHIFT) < pgoff)
        {
            return Errno.EOVERFLOW.Neg();
        }

        if (MapCount > MaxMapCount)
        {
            return Errno.ENOMEM.Neg();
        }

        vmFlags |= Mman.CalcVmProtBits(prot) | Mman.CalcVmFlagBits(flags)
            | VmFlags.VM_MAYREAD | VmFlags.VM_MAYWRITE | VmFlags.VM_MAYEXEC;

        var ret = GetUnmappedArea(file, addr, len, pgoff, flags);
        if (ErrnoExtensions.IsErr(ret))
        {
            return ret;
        }

        addr = (ulong)ret;
        if ((flags & Mman.MAP_FIXED_NOREPLACE) != 0 && MmMt.FindVmaIntersection(addr, addr + len) is not null)
        {
            return Errno.EEXIST.Neg();
        }

        if ((flags & Mman.MAP_LOCKED) != 0 && !CanDoMlock())
        {
            return Errno.EPERM.Neg();
        }

        if (!MlockFutureOk(vmFlags, len))
        {
            return Errno.EAGAIN.Neg();
        }

        if (file is not null)
        {
            // file_mmap_ok(): MmSim's files are not regular files, so the limit is ULONG_MAX.
            if (pgoff > (ulong.MaxValue - len) >> K.PAGE_SHIFT)
            {
                return Errno.EOVERFLOW.Neg();
            }

            switch (flags & Mman.MAP_TYPE)
            {
                case Mman.MAP_SHARED:
                case Mman.MAP_SHARED_VALIDATE:
                    if ((flags & Mman.MAP_TYPE) == Mman.MAP_SHARED)
                    {
                        flags &= Mman.LEGACY_MAP_MASK;
                    }

                    if ((flags & ~Mman.LEGACY_MAP_MASK) != 0)
                    {
                        return Errno.EOPNOTSUPP.Neg();
                    }

                    if ((prot & Mman.PROT_WRITE) != 0 && (file.FMode & FMode.FMODE_WRITE) == 0)
                    {
                        return Errno.EACCES.Neg();
                    }

                    vmFlags |= VmFlags.VM_SHARED | VmFlags.VM_MAYSHARE;
                    if ((file.FMode & FMode.FMODE_WRITE) == 0)
                    {
                        vmFlags &= ~(VmFlags.VM_MAYWRITE | VmFlags.VM_SHARED);
                    }

                    goto case Mman.MAP_PRIVATE;
                case Mman.MAP_PRIVATE:
                    if ((file.FMode & FMode.FMODE_READ) == 0)
                    {
                        return Errno.EACCES.Neg();
                    }

                    if (file.NoExec)
                    {
                        if ((vmFlags & VmFlags.VM_EXEC) != 0)
                        {
                            return Errno.EPERM.Neg();
                        }

                        vmFlags &= ~VmFlags.VM_MAYEXEC;
                    }

                    if (!file.FOp.HasMmap)
                    {
                        return Errno.ENODEV.Neg();
                    }

                    if ((vmFlags & VmFlags.VM_GROWSDOWN) != 0)
                    {
                        return Errno.EINVAL.Neg();
                    }

                    break;
                default:
                    return Errno.EINVAL.Neg();
            }
        }
        else
        {
            switch (flags & Mman.MAP_TYPE)
            {
                case Mman.MAP_SHARED:
                    if ((vmFlags & VmFlags.VM_GROWSDOWN) != 0)
                    {
                        return Errno.EINVAL.Neg();
                    }

                    pgoff = 0;
                    vmFlags |= VmFlags.VM_SHARED | VmFlags.VM_MAYSHARE;
                    break;
                case Mman.MAP_PRIVATE:
                    pgoff = addr >> K.PAGE_SHIFT;
                    break;
                default:
                    // MAP_SHARED_VALIDATE and MAP_DROPPABLE (not modelled) on anonymous memory.
                    return Errno.EINVAL.Neg();
            }
        }

        if ((flags & Mman.MAP_NORESERVE) != 0)
        {
            vmFlags |= VmFlags.VM_NORESERVE;
        }

        ret = MmapRegion(file, addr, len, vmFlags, pgoff);
        if (!ErrnoExtensions.IsErr(ret) && ((vmFlags & VmFlags.VM_LOCKED) != 0
            || (flags & (Mman.MAP_POPULATE | Mman.MAP_NONBLOCK)) == Mman.MAP_POPULATE))
        {
            populate = len;
        }

        return ret;
    }

    // accountable_mapping(): private writable memory is charged to the commit.
    private static bool AccountableMapping(VmFlags flags) =>
        (flags & (VmFlags.VM_NORESERVE | VmFlags.VM_SHARED | VmFlags.VM_WRITE)) == VmFlags.VM_WRITE;

    // mmap_region() / __mmap_region() of 6.12: gather what MAP_FIXED replaces, check limits, close the old VMAs,
    // merge or allocate the new one and call ->mmap, then finish the unmap of the old range.
    private long MmapRegion(VfsFile? file, ulong addr, ulong len, VmFlags vmFlags, ulong pgoff)
    {
        var pglen = len >> K.PAGE_SHIFT;
        var end = addr + len;
        var vms = new VmaMunmapStruct();
        var vmg = new VmaMergeStruct { Start = addr, End = end, Flags = vmFlags, Pgoff = pgoff, File = file };

        var vma = MmMt.FindVmaIntersection(addr, end);
        vms.Init(vma!, addr, end);
        if (vma is not null)
        {
            var error = VmsGatherMunmapVmas(vms);
            if (error != 0)
            {
                return error;
            }

            vmg.Next = vms.Next;
            vmg.Prev = vms.Prev;
        }
        else
        {
            vmg.Next = MmMt.VmaNextAddr(addr);
            vmg.Prev = MmMt.VmaPrevAddr(addr);
        }

        if (!MayExpandVm(vmFlags, pglen - vms.NrPages))
        {
            VmsAbortMunmapVmas(vms);
            return Errno.ENOMEM.Neg();
        }

        if (AccountableMapping(vmFlags))
        {
            var charged = pglen - Math.Min(pglen, vms.NrAccounted);
            if (charged != 0 && SecurityVmEnoughMemory(charged) != 0)
            {
                VmsAbortMunmapVmas(vms);
                return Errno.ENOMEM.Neg();
            }

            vms.NrAccounted = 0;
            vmFlags |= VmFlags.VM_ACCOUNT;
            vmg.Flags = vmFlags;
        }

        // Clear the old PTEs and call ->close of what is replaced, before the new ->mmap runs.
        VmsCleanUpArea(vms);

        vma = VmaMergeNewRange(vmg);
        if (vma is null)
        {
            vma = Vm.VmAreaAlloc(this);
            if (vma is null)
            {
                VmsAbortMunmapVmas(vms);
                return Errno.ENOMEM.Neg();
            }

            vma.VmStart = addr;
            vma.VmEnd = end;
            vma.VmPgoff = pgoff;
            vma.VmFlags = vmFlags;
            if (MmMt.PreallocNewVma(vma) != 0)
            {
                Vm.VmAreaFree(vma);
                VmsAbortMunmapVmas(vms);
                return Errno.ENOMEM.Neg();
            }

            var linked = false;
            if (file is not null)
            {
                vma.VmFile = Vm.GetFile(file);
                var error = MmapFile(file, vma);
                if (error != 0)
                {
                    // unmap_and_free_file_vma: undo what the driver mapped; the VMA goes without ->close.
                    Vm.Fput(vma.VmFile);
                    vma.VmFile = null;
                    UnmapSingleVma(vma, vma.VmStart, vma.VmEnd);
                    MmMt.FreeNewVma();
                    Vm.VmAreaFree(vma);
                    VmsAbortMunmapVmas(vms);
                    return error;
                }

                Machine.Reports.WarnOnOnce(addr != vma.VmStart, "__mmap_region", "the driver moved the VMA");
                if (vmFlags != vma.VmFlags && vmg.Prev is not null)
                {
                    vmg.Flags = vma.VmFlags;
                    var merge = VmaMergeNewRange(vmg);
                    if (merge is not null)
                    {
                        MmMt.FreeNewVma();
                        Vm.Fput(vma.VmFile!);
                        Vm.VmAreaFree(vma);
                        vma = merge;
                        linked = true;
                    }
                }

                vmFlags = vma.VmFlags;
            }
            else if ((vmFlags & VmFlags.VM_SHARED) != 0)
            {
                var error = ShmemZeroSetup(vma);
                if (error != 0)
                {
                    MmMt.FreeNewVma();
                    Vm.VmAreaFree(vma);
                    VmsAbortMunmapVmas(vms);
                    return error;
                }
            }
            else
            {
                vma.VmOps = null;
            }

            if (!linked)
            {
                MmMt.StoreNewVma(vma);
                MapCount++;
            }
        }

        VmsCompleteMunmapVmas(vms);
        VmStatAccount(vmFlags, (long)pglen);
        if ((vmFlags & VmFlags.VM_LOCKED) != 0)
        {
            if ((vmFlags & VmFlags.VM_SPECIAL) != 0)
            {
                vma.VmFlagsClear(VmFlags.VM_LOCKED_MASK);
            }
            else
            {
                LockedVm += pglen;
            }
        }

        return (long)addr;
    }

    // mmap_file(): call ->mmap; a failed one leaves the VMA with dummy ops so nothing else is called on it.
    private static int MmapFile(VfsFile file, VmArea vma)
    {
        var err = file.FOp.Mmap(file, vma);
        if (err != 0)
        {
            vma.VmOps = VmOperations.Dummy;
        }

        return err;
    }

    /// <summary>
    /// mm_populate(): fault in [start, start + len) as MAP_POPULATE does (write faults for private writable
    /// mappings, read faults otherwise); errors are ignored, as the kernel ignores them.
    /// </summary>
    public void MmPopulate(ulong start, ulong len)
    {
        var end = start + len;
        for (var addr = start; addr < end;)
        {
            var vma = MmMt.FindVma(addr);
            if (vma is null || vma.VmStart >= end)
            {
                return;
            }

            addr = Math.Max(addr, vma.VmStart);
            var write = (vma.VmFlags & (VmFlags.VM_WRITE | VmFlags.VM_SHARED)) == VmFlags.VM_WRITE;
            var vmEnd = Math.Min(end, vma.VmEnd);
            for (; addr < vmEnd; addr += K.PAGE_SIZE)
            {
                if ((vma.VmFlags & (VmFlags.VM_IO | VmFlags.VM_PFNMAP)) != 0 || !vma.VmFlags.IsAccessible())
                {
                    continue;
                }

                var pte = Pgd.Get(addr);
                if (pte.IsValid && (!write || pte.IsWrite))
                {
                    continue;
                }

                var r = HandleMmFault(vma, addr, write ? FaultFlags.FAULT_FLAG_WRITE : FaultFlags.None);
                if ((r & VmFaultResult.VM_FAULT_ERROR) != 0)
                {
                    break;
                }

                // A handler may have changed the tree (it should not); re-find the VMA.
                if (MmMt.VmaLookup(addr) != vma)
                {
                    break;
                }
            }

            addr = Math.Max(addr, vmEnd);
        }
    }
}
