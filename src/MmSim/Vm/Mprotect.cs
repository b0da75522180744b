using MmSim.Kernel;

namespace MmSim.Vm;

/// <summary>mm/mprotect.c.</summary>
public sealed partial class MmStruct
{
    // mprotect_fixup(): give [start, end) of vma the new flags (merging or splitting), then fix the PTEs.
    private int MprotectFixup(ref VmArea? pprev, VmArea vma, ulong start, ulong end, VmFlags newflags)
    {
        var oldflags = vma.VmFlags;
        var nrpages = (end - start) >> K.PAGE_SHIFT;
        if (newflags == oldflags)
        {
            pprev = vma;
            return 0;
        }

        if ((newflags & VmFlags.VM_WRITE) != 0)
        {
            if (!MayExpandVm(newflags, nrpages) && MayExpandVm(oldflags, nrpages))
            {
                return -(int)Errno.ENOMEM;
            }

            if ((oldflags & (VmFlags.VM_ACCOUNT | VmFlags.VM_WRITE | VmFlags.VM_HUGETLB | VmFlags.VM_SHARED | VmFlags.VM_NORESERVE)) == 0)
            {
                if (SecurityVmEnoughMemory(nrpages) != 0)
                {
                    return -(int)Errno.ENOMEM;
                }

                newflags |= VmFlags.VM_ACCOUNT;
            }
        }
        else if ((oldflags & VmFlags.VM_ACCOUNT) != 0 && vma.IsAnonymous && vma.AnonVma is null)
        {
            newflags &= ~VmFlags.VM_ACCOUNT;
        }

        var res = VmaModifyFlags(pprev, vma, start, end, newflags, out var err);
        if (res is null)
        {
            return err;
        }

        pprev = res;
        res.VmFlags = newflags;
        ChangeProtection(res, start, end);

        // Private VM_LOCKED VMA becoming writable: populate_vma_page_range() breaks COW at once.
        if ((oldflags & (VmFlags.VM_WRITE | VmFlags.VM_SHARED | VmFlags.VM_LOCKED)) == VmFlags.VM_LOCKED
            && (newflags & VmFlags.VM_WRITE) != 0)
        {
            MmPopulate(start, end - start);
        }

        VmStatAccount(oldflags, -(long)nrpages);
        VmStatAccount(newflags, (long)nrpages);
        return 0;
    }

    /// <summary>
    /// do_mprotect_pkey(start, len, prot, -1): change the protection of [start, start + len). Not atomic: VMAs before
    /// a hole or a refusal keep their new protection. 0 or a negative errno.
    /// </summary>
    public int DoMprotect(ulong start, ulong len, ulong prot)
    {
        var grows = prot & (Mman.PROT_GROWSDOWN | Mman.PROT_GROWSUP);
        prot &= ~(Mman.PROT_GROWSDOWN | Mman.PROT_GROWSUP);
        if (grows == (Mman.PROT_GROWSDOWN | Mman.PROT_GROWSUP))
        {
            return -(int)Errno.EINVAL;
        }

        if ((start & ~K.PAGE_MASK) != 0)
        {
            return -(int)Errno.EINVAL;
        }

        if (len == 0)
        {
            return 0;
        }

        len = K.PageAlign(len);
        var end = start + len;
        if (end <= start)
        {
            return -(int)Errno.ENOMEM;
        }

        // arch_validate_prot()
        if ((prot & ~(Mman.PROT_READ | Mman.PROT_WRITE | Mman.PROT_EXEC | Mman.PROT_SEM)) != 0)
        {
            return -(int)Errno.EINVAL;
        }

        var reqprot = prot;
        var vma = MmMt.FindVmaIntersection(start, end);
        if (vma is null)
        {
            return -(int)Errno.ENOMEM;
        }

        if ((grows & Mman.PROT_GROWSDOWN) != 0)
        {
            if (vma.VmStart >= end)
            {
                return -(int)Errno.ENOMEM;
            }

            start = vma.VmStart;
            if ((vma.VmFlags & VmFlags.VM_GROWSDOWN) == 0)
            {
                return -(int)Errno.EINVAL;
            }
        }
        else
        {
            if (vma.VmStart > start)
            {
                return -(int)Errno.ENOMEM;
            }

            if ((grows & Mman.PROT_GROWSUP) != 0)
            {
                // x86 has no VM_GROWSUP VMAs.
                return -(int)Errno.EINVAL;
            }
        }

        var prev = start > vma.VmStart ? vma : MmMt.VmaPrev(vma);
        var nstart = start;
        var tmp = vma.VmStart;
        var error = 0;
        for (VmArea? v = vma; v is not null && v.VmStart < end; v = MmMt.FindVmaIntersection(tmp, end))
        {
            if (v.VmStart != tmp)
            {
                error = -(int)Errno.ENOMEM;
                break;
            }

            var newflags = Mman.CalcVmProtBits(prot) | (v.VmFlags & ~VmFlags.VM_ACCESS_FLAGS);

            // newflags >> 4 shifts VM_MAY* into the place of VM_*.
            if (((ulong)newflags & ~((ulong)newflags >> 4) & (ulong)VmFlags.VM_ACCESS_FLAGS) != 0)
            {
                error = -(int)Errno.EACCES;
                break;
            }

            tmp = Math.Min(v.VmEnd, end);
            if (v.VmOps is { HasMprotect: true } ops)
            {
                error = ops.Mprotect(v, nstart, tmp, newflags);
                if (error != 0)
                {
                    break;
                }
            }

            error = MprotectFixup(ref prev, v, nstart, tmp, newflags);
            if (error != 0)
            {
                break;
            }

            tmp = prev!.VmEnd;
            nstart = tmp;
            prot = reqprot;
        }

        if (error == 0 && tmp < end)
        {
            error = -(int)Errno.ENOMEM;
        }

        return error;
    }
}
