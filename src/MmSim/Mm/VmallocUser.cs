using MmSim.Kernel;

namespace MmSim.Mm;

/// <summary>
/// A user mapping that vmalloc pages can be inserted into: what remap_vmalloc_range needs of a
/// <c>struct vm_area_struct</c>. The Vm layer's VMA implements it; Mm never names the VMA type.
/// </summary>
public interface IUserPageInserter
{
    /// <summary>VM_DONTEXPAND in vm_flags (include/linux/mm.h).</summary>
    const ulong VM_DONTEXPAND = 0x00040000UL;

    /// <summary>VM_DONTDUMP in vm_flags.</summary>
    const ulong VM_DONTDUMP = 0x04000000UL;

    /// <summary>vma->vm_start.</summary>
    ulong VmStart { get; }

    /// <summary>vma->vm_end (exclusive).</summary>
    ulong VmEnd { get; }

    /// <summary>vma->vm_pgoff.</summary>
    ulong VmPgoff { get; }

    /// <summary>
    /// vm_insert_page(vma, uaddr, page): map the page <paramref name="pfn"/> at <paramref name="uaddr"/> (taking a
    /// page reference and setting VM_MIXEDMAP); 0 or -errno (-EFAULT outside the VMA, -EINVAL for VM_PFNMAP,
    /// -EBUSY when a PTE is present, -ENOMEM...).
    /// </summary>
    int VmInsertPage(ulong uaddr, long pfn);

    /// <summary>vm_flags_set(vma, flags): OR <paramref name="flags"/> into vm_flags.</summary>
    void VmFlagsSet(ulong flags);
}

/// <summary>Mapping vmalloc memory to user space (remap_vmalloc_range and friends).</summary>
public sealed partial class VmallocAllocator
{
    /// <summary>
    /// remap_vmalloc_range_partial(vma, uaddr, kaddr, pgoff, size): insert the pages of the VM_USERMAP (or
    /// VM_DMA_COHERENT) area containing <paramref name="kaddr"/>, from <c>kaddr + pgoff * PAGE_SIZE</c>, at
    /// <paramref name="uaddr"/>. Checks in the kernel's order: pgoff &lt;&lt; PAGE_SHIFT overflows → -EINVAL; uaddr or
    /// kaddr unaligned → -EINVAL; no area → -EINVAL; neither VM_USERMAP nor VM_DMA_COHERENT → -EINVAL;
    /// PAGE_ALIGN(size) + offset overflows or exceeds get_vm_area_size (measured from the area start) → -EINVAL;
    /// then each vm_insert_page error is returned as is (pages inserted before it stay). On success
    /// VM_DONTEXPAND | VM_DONTDUMP is set and 0 returned.
    /// </summary>
    public int RemapVmallocRangePartial(IUserPageInserter vma, ulong uaddr, ulong kaddr, ulong pgoff, ulong size)
    {
        if (pgoff > (ulong.MaxValue >> K.PAGE_SHIFT))
        {
            return -(int)Errno.EINVAL;
        }

        var off = pgoff << K.PAGE_SHIFT;
        size = K.PageAlign(size);
        if (!K.PageAligned(uaddr) || !K.PageAligned(kaddr))
        {
            return -(int)Errno.EINVAL;
        }

        var area = FindVmArea(kaddr);
        if (area is null)
        {
            return -(int)Errno.EINVAL;
        }

        if ((area.Flags & (VmStructFlags.VM_USERMAP | VmStructFlags.VM_DMA_COHERENT)) == 0)
        {
            return -(int)Errno.EINVAL;
        }

        var endIndex = size + off;
        if (endIndex < size || endIndex > area.GetVmAreaSize)
        {
            return -(int)Errno.EINVAL;
        }

        kaddr += off;
        do
        {
            var pfn = VmallocToPage(kaddr);
            if (pfn < 0)
            {
                // vm_insert_page(vma, uaddr, NULL): page_count(NULL) oopses in the kernel. Only reachable with an
                // interior kaddr (the bound is measured from the area start) or a hole in a sparse area.
                _reports.ReportKasan(KasanBugType.WildMemoryAccess, "vm_insert_page",
                    $"NULL pointer dereference: no page mapped at 0x{kaddr:x} (remap_vmalloc_range_partial)");
                return -(int)Errno.EFAULT;
            }

            var ret = vma.VmInsertPage(uaddr, pfn);
            if (ret != 0)
            {
                return ret;
            }

            uaddr += K.PAGE_SIZE;
            kaddr += K.PAGE_SIZE;
            size -= K.PAGE_SIZE;
        }
        while (size > 0);

        vma.VmFlagsSet(IUserPageInserter.VM_DONTEXPAND | IUserPageInserter.VM_DONTDUMP);
        return 0;
    }

    /// <summary>remap_vmalloc_range(vma, addr, pgoff): the whole VMA, from vm_start.</summary>
    public int RemapVmallocRange(IUserPageInserter vma, ulong addr, ulong pgoff) =>
        RemapVmallocRangePartial(vma, vma.VmStart, addr, pgoff, vma.VmEnd - vma.VmStart);

    /// <summary>vmalloc_to_page(): the PFN mapped at <paramref name="addr"/> in the kernel page table, or -1 (NULL).</summary>
    public long VmallocToPage(ulong addr) => IsVmallocAddr(addr) ? _pt.Lookup(addr) : -1;

    /// <summary>vmalloc_to_pfn(): as <see cref="VmallocToPage"/> (a PFN is MmSim's struct page).</summary>
    public long VmallocToPfn(ulong addr) => VmallocToPage(addr);
}
