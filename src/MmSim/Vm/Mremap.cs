using MmSim.Kernel;

namespace MmSim.Vm;

/// <summary>mm/mremap.c of 6.12.</summary>
public sealed partial class MmStruct
{
    // vma_to_resize(): the VMA at addr and the checks of a resize; null with err set on failure.
    private VmArea? VmaToResize(ulong addr, ulong oldLen, ulong newLen, ulong flags, out int err)
    {
        err = 0;
        var vma = MmMt.VmaLookup(addr);
        if (vma is null)
        {
            err = -(int)Errno.EFAULT;
            return null;
        }

        if (oldLen == 0 && (vma.VmFlags & (VmFlags.VM_SHARED | VmFlags.VM_MAYSHARE)) == 0)
        {
            err = -(int)Errno.EINVAL;
            return null;
        }

        if ((flags & Mman.MREMAP_DONTUNMAP) != 0 && (vma.VmFlags & (VmFlags.VM_DONTEXPAND | VmFlags.VM_PFNMAP)) != 0)
        {
            err = -(int)Errno.EINVAL;
            return null;
        }

        if (oldLen > vma.VmEnd - addr)
        {
            err = -(int)Errno.EFAULT;
            return null;
        }

        if (newLen == oldLen)
        {
            return vma;
        }

        var pgoff = ((addr - vma.VmStart) >> K.PAGE_SHIFT) + vma.VmPgoff;
        if (pgoff + (newLen >> K.PAGE_SHIFT) < pgoff)
        {
            err = -(int)Errno.EINVAL;
            return null;
        }

        if ((vma.VmFlags & (VmFlags.VM_DONTEXPAND | VmFlags.VM_PFNMAP)) != 0)
        {
            err = -(int)Errno.EFAULT;
            return null;
        }

        if (!MlockFutureOk(vma.VmFlags, newLen - oldLen))
        {
            err = -(int)Errno.EAGAIN;
            return null;
        }

        if (!MayExpandVm(vma.VmFlags, (newLen - oldLen) >> K.PAGE_SHIFT))
        {
            err = -(int)Errno.ENOMEM;
            return null;
        }

        return vma;
    }

    // vma_expandable()
    private bool VmaExpandable(VmArea vma, ulong delta)
    {
        var end = vma.VmEnd + delta;
        if (end < vma.VmEnd)
        {
            return false;
        }

        if (MmMt.FindVmaIntersection(vma.VmEnd, end) is not null)
        {
            return false;
        }

        var a = GetUnmappedArea(null, vma.VmStart, end - vma.VmStart, 0, Mman.MAP_FIXED);
        return (a & (long)(K.PAGE_SIZE - 1)) == 0;
    }

    // move_vma(): copy the VMA to newAddr, move the PTEs, ask ->mremap, unmap the old range.
    private long MoveVma(VmArea vma, ulong oldAddr, ulong oldLen, ulong newLen, ulong newAddr, ulong flags, ref bool locked)
    {
        var vmFlags = vma.VmFlags;
        if (MapCount >= MaxMapCount - 3)
        {
            return Errno.ENOMEM.Neg();
        }

        var toAccount = (flags & Mman.MREMAP_DONTUNMAP) != 0 ? newLen : newLen - oldLen;
        if (vma.VmOps is { HasMaySplit: true } ops)
        {
            var e = 0;
            if (vma.VmStart != oldAddr)
            {
                e = ops.MaySplit(vma, oldAddr);
            }

            if (e == 0 && vma.VmEnd != oldAddr + oldLen)
            {
                e = ops.MaySplit(vma, oldAddr + oldLen);
            }

            if (e != 0)
            {
                return e;
            }
        }

        if ((vmFlags & VmFlags.VM_ACCOUNT) != 0 && SecurityVmEnoughMemory(toAccount >> K.PAGE_SHIFT) != 0)
        {
            return Errno.ENOMEM.Neg();
        }

        var newPgoff = vma.VmPgoff + ((oldAddr - vma.VmStart) >> K.PAGE_SHIFT);
        var newVma = CopyVma(ref vma, newAddr, newLen, newPgoff);
        if (newVma is null)
        {
            return Errno.ENOMEM.Neg();
        }

        var movedLen = MovePageTables(oldAddr, newAddr, oldLen);
        var err = 0;
        if (movedLen < oldLen)
        {
            err = -(int)Errno.ENOMEM;
        }
        else if (vma.VmOps is { HasMremap: true } mops)
        {
            err = mops.Mremap(newVma);
        }

        long result = (long)newAddr;
        if (err != 0)
        {
            // Move the entries back, then unmap the new area instead of the old one.
            MovePageTables(newAddr, oldAddr, movedLen);
            vma = newVma;
            oldLen = newLen;
            oldAddr = newAddr;
            result = err;
        }

        // Conceal VM_ACCOUNT so the old reservation is not undone; restore it on the pieces that remain.
        var accountStart = false;
        var accountEnd = false;
        if ((vmFlags & VmFlags.VM_ACCOUNT) != 0 && (flags & Mman.MREMAP_DONTUNMAP) == 0)
        {
            vma.VmFlagsClear(VmFlags.VM_ACCOUNT);
            accountStart = vma.VmStart < oldAddr;
            accountEnd = vma.VmEnd > oldAddr + oldLen;
        }

        VmStatAccount(vma.VmFlags, (long)(newLen >> K.PAGE_SHIFT));

        if (err == 0 && (flags & Mman.MREMAP_DONTUNMAP) != 0)
        {
            vma.VmFlagsClear(VmFlags.VM_LOCKED_MASK);
            if (newVma != vma && vma.VmStart == oldAddr && vma.VmEnd == oldAddr + oldLen)
            {
                // unlink_anon_vmas()
                vma.AnonVma = null;
                vma.AnonVmaChainLength = 0;
            }

            return result;
        }

        if (DoMunmap(oldAddr, oldLen) < 0)
        {
            accountStart = accountEnd = false;
        }

        if ((vmFlags & VmFlags.VM_LOCKED) != 0)
        {
            LockedVm += newLen >> K.PAGE_SHIFT;
            locked = true;
        }

        if (accountStart)
        {
            MmMt.VmaPrevAddr(oldAddr)?.VmFlagsSet(VmFlags.VM_ACCOUNT);
        }

        if (accountEnd)
        {
            MmMt.VmaNextAddr(oldAddr + oldLen)?.VmFlagsSet(VmFlags.VM_ACCOUNT);
        }

        return result;
    }

    // mremap_to(): MREMAP_FIXED and MREMAP_DONTUNMAP.
    private long MremapTo(ulong addr, ulong oldLen, ulong newAddr, ulong newLen, ulong flags, ref bool locked)
    {
        if ((newAddr & ~K.PAGE_MASK) != 0)
        {
            return Errno.EINVAL.Neg();
        }

        if (newLen > TaskSize || newAddr > TaskSize - newLen)
        {
            return Errno.EINVAL.Neg();
        }

        if (addr + oldLen > newAddr && newAddr + newLen > addr)
        {
            return Errno.EINVAL.Neg();
        }

        if (MapCount + 2 >= MaxMapCount - 3)
        {
            return Errno.ENOMEM.Neg();
        }

        int ret;
        if ((flags & Mman.MREMAP_FIXED) != 0)
        {
            ret = DoMunmap(newAddr, newLen);
            if (ret != 0)
            {
                return ret;
            }
        }

        if (oldLen > newLen)
        {
            ret = DoMunmap(addr + newLen, oldLen - newLen);
            if (ret != 0)
            {
                return ret;
            }

            oldLen = newLen;
        }

        var vma = VmaToResize(addr, oldLen, newLen, flags, out ret);
        if (vma is null)
        {
            return ret;
        }

        if ((flags & Mman.MREMAP_DONTUNMAP) != 0 && !MayExpandVm(vma.VmFlags, oldLen >> K.PAGE_SHIFT))
        {
            return Errno.ENOMEM.Neg();
        }

        ulong mapFlags = 0;
        if ((flags & Mman.MREMAP_FIXED) != 0)
        {
            mapFlags |= Mman.MAP_FIXED;
        }

        if ((vma.VmFlags & VmFlags.VM_MAYSHARE) != 0)
        {
            mapFlags |= Mman.MAP_SHARED;
        }

        var area = GetUnmappedArea(vma.VmFile, newAddr, newLen, vma.VmPgoff + ((addr - vma.VmStart) >> K.PAGE_SHIFT), mapFlags);
        if (ErrnoExtensions.IsErr(area))
        {
            return area;
        }

        if ((flags & Mman.MREMAP_FIXED) == 0)
        {
            newAddr = (ulong)area;
        }

        return MoveVma(vma, addr, oldLen, newLen, newAddr, flags, ref locked);
    }

    /// <summary>
    /// mremap(2) of 6.12: resize and/or move the mapping at <paramref name="addr"/>. The new address or a negative errno.
    /// </summary>
    public long DoMremap(ulong addr, ulong oldLen, ulong newLen, ulong flags, ulong newAddr)
    {
        var locked = false;
        var ret = DoMremapLocked(addr, oldLen, newLen, flags, ref newAddr, ref locked);

        // out: a VM_LOCKED mapping that grew is populated (mm_populate after the mmap lock is dropped).
        oldLen = K.PageAlign(oldLen);
        newLen = K.PageAlign(newLen);
        if (!ErrnoExtensions.IsErr(ret) && locked && newLen > oldLen)
        {
            MmPopulate(newAddr + oldLen, newLen - oldLen);
        }

        return ret;
    }

    // The body of the mremap syscall up to its "out:" label; locked and newAddr are the syscall's variables of those
    // names (set by move_vma and by the in-place growth).
    private long DoMremapLocked(ulong addr, ulong oldLen, ulong newLen, ulong flags, ref ulong newAddr, ref bool locked)
    {
        if ((flags & ~(Mman.MREMAP_FIXED | Mman.MREMAP_MAYMOVE | Mman.MREMAP_DONTUNMAP)) != 0)
        {
            return Errno.EINVAL.Neg();
        }

        if ((flags & Mman.MREMAP_FIXED) != 0 && (flags & Mman.MREMAP_MAYMOVE) == 0)
        {
            return Errno.EINVAL.Neg();
        }

        if ((flags & Mman.MREMAP_DONTUNMAP) != 0 && ((flags & Mman.MREMAP_MAYMOVE) == 0 || oldLen != newLen))
        {
            return Errno.EINVAL.Neg();
        }

        if ((addr & ~K.PAGE_MASK) != 0)
        {
            return Errno.EINVAL.Neg();
        }

        oldLen = K.PageAlign(oldLen);
        newLen = K.PageAlign(newLen);
        if (newLen == 0)
        {
            return Errno.EINVAL.Neg();
        }

        var vma = MmMt.VmaLookup(addr);
        if (vma is null)
        {
            return Errno.EFAULT.Neg();
        }

        if ((flags & (Mman.MREMAP_FIXED | Mman.MREMAP_DONTUNMAP)) != 0)
        {
            return MremapTo(addr, oldLen, newAddr, newLen, flags, ref locked);
        }

        // A shrink just unmaps the tail.
        if (oldLen >= newLen)
        {
            if (oldLen == newLen)
            {
                return (long)addr;
            }

            var r = DoMunmap(addr + newLen, oldLen - newLen);
            return r != 0 ? r : (long)addr;
        }

        vma = VmaToResize(addr, oldLen, newLen, flags, out var err);
        if (vma is null)
        {
            return err;
        }

        if (oldLen == vma.VmEnd - addr)
        {
            var delta = newLen - oldLen;
            if (VmaExpandable(vma, delta))
            {
                var pages = delta >> K.PAGE_SHIFT;
                if ((vma.VmFlags & VmFlags.VM_ACCOUNT) != 0 && SecurityVmEnoughMemory(pages) != 0)
                {
                    return Errno.ENOMEM.Neg();
                }

                vma = VmaMergeExtend(vma, delta);
                if (vma is null)
                {
                    return Errno.ENOMEM.Neg();
                }

                VmStatAccount(vma.VmFlags, (long)pages);
                if ((vma.VmFlags & VmFlags.VM_LOCKED) != 0)
                {
                    LockedVm += pages;
                    locked = true;
                    newAddr = addr;
                }

                return (long)addr;
            }
        }

        if ((flags & Mman.MREMAP_MAYMOVE) == 0)
        {
            return Errno.ENOMEM.Neg();
        }

        ulong mapFlags = 0;
        if ((vma.VmFlags & VmFlags.VM_MAYSHARE) != 0)
        {
            mapFlags |= Mman.MAP_SHARED;
        }

        var area = GetUnmappedArea(vma.VmFile, 0, newLen, vma.VmPgoff + ((addr - vma.VmStart) >> K.PAGE_SHIFT), mapFlags);
        if (ErrnoExtensions.IsErr(area))
        {
            return area;
        }

        newAddr = (ulong)area;
        return MoveVma(vma, addr, oldLen, newLen, newAddr, flags, ref locked);
    }
}
