using MmSim.Kernel;
using MmSim.Mm;

namespace MmSim.Vm;

/// <summary>
/// mm/memory.c: page faults (handle_mm_fault and its cases), zapping, vm_insert_page, remap_pfn_range, and the PTE
/// copies of fork and moves of mremap. Every PTE that maps a normal page (one with a struct page that is not special)
/// holds one mapcount and one reference on it.
/// </summary>
public sealed partial class MmStruct
{
    /// <summary>GFP_HIGHUSER_MOVABLE, charged to the memory cgroup (mem_cgroup_charge()).</summary>
    private const Gfp UserPageGfp = Gfp.GFP_HIGHUSER_MOVABLE | Gfp.__GFP_ACCOUNT;

    private PageAllocator Pages => Machine.PageAlloc;

    // The protection bits of a PTE built from vma->vm_page_prot: present unless PROT_NONE; writable only for shared
    // writable mappings (private ones get write access through a write fault: COW).
    private static PteFlags PageProt(VmFlags flags)
    {
        var f = PteFlags.None;
        if (flags.IsAccessible())
        {
            f |= PteFlags.Present;
        }

        if ((flags & (VmFlags.VM_SHARED | VmFlags.VM_WRITE)) == (VmFlags.VM_SHARED | VmFlags.VM_WRITE))
        {
            f |= PteFlags.Write;
        }

        return f;
    }

    // maybe_mkwrite(pte_mkdirty()) for a write fault.
    private static PteFlags MkWriteDirty(PteFlags f, VmFlags vmFlags) =>
        (vmFlags & VmFlags.VM_WRITE) != 0 ? f | PteFlags.Write | PteFlags.Dirty : f | PteFlags.Dirty;

    // vm_normal_page(): the PFN a PTE maps when it has a struct page to count, else -1.
    private long VmNormalPage(in Pte pte) =>
        pte.IsSpecial || pte.Pfn == PageTable.ZERO_PFN || !Pages.IsValidPfn(pte.Pfn) ? PageAllocator.NoPage : pte.Pfn;

    // folio_add_new_anon_rmap()
    private void PageAddNewAnonRmap(long pfn)
    {
        ref var f = ref Pages.Frame(pfn);
        f.Flags |= PageFlags.Anon;
        f.Mapcount = 1;
    }

    // folio_add_file_rmap_pte() / folio_dup_*_rmap_pte()
    private void PageDupRmap(long pfn) => Pages.Frame(pfn).Mapcount++;

    // folio_remove_rmap_pte()
    private void PageRemoveRmap(long pfn)
    {
        ref var f = ref Pages.Frame(pfn);
        if (f.Mapcount == 0)
        {
            Machine.Reports.WarnOn(true, "folio_remove_rmap_pte", $"mapcount underflow on pfn 0x{pfn:x}");
            return;
        }

        f.Mapcount--;
    }

    // A zeroed page for user memory, charged to the memcg; -1 on failure (the fault returns VM_FAULT_OOM).
    private long AllocUserPage() => Pages.AllocPage(UserPageGfp | Gfp.__GFP_ZERO, "alloc_anon_folio");

    /// <summary>
    /// handle_mm_fault(vma, address, flags): resolve a fault at <paramref name="address"/> inside
    /// <paramref name="vma"/> (the caller checked the access against the VMA). Returns the vm_fault_t.
    /// </summary>
    public VmFaultResult HandleMmFault(VmArea vma, ulong address, FaultFlags flags)
    {
        var vmf = FaultState;
        vmf.Reset(vma, address, flags);
        var pte = Pgd.Get(vmf.Address);
        if (!pte.IsValid)
        {
            return vma.IsAnonymous ? DoAnonymousPage(vmf) : DoFault(vmf);
        }

        if (vmf.IsWrite)
        {
            if (!pte.IsWrite)
            {
                return DoWpPage(vmf, pte);
            }

            Pgd.Entry(vmf.Address).Flags |= PteFlags.Dirty;
            return VmFaultResult.None;
        }

        if ((pte.Flags & PteFlags.Present) == 0 && vma.VmFlags.IsAccessible())
        {
            // do_numa_page()-like restore of a PROT_NONE entry in an accessible VMA.
            Pgd.Entry(vmf.Address).Flags |= PteFlags.Present;
        }

        return VmFaultResult.None;
    }

    // do_anonymous_page()
    private VmFaultResult DoAnonymousPage(VmFault vmf)
    {
        var vma = vmf.Vma;
        if ((vma.VmFlags & VmFlags.VM_SHARED) != 0)
        {
            return VmFaultResult.VM_FAULT_SIGBUS;
        }

        if (!vmf.IsWrite)
        {
            // The shared zero page for reads.
            Pgd.Set(vmf.Address, PageTable.ZERO_PFN, (PageProt(vma.VmFlags) & ~PteFlags.Write) | PteFlags.Special);
            return VmFaultResult.None;
        }

        if (AnonVmaPrepare(vma) != 0)
        {
            return VmFaultResult.VM_FAULT_OOM;
        }

        var pfn = AllocUserPage();
        if (pfn < 0)
        {
            return VmFaultResult.VM_FAULT_OOM;
        }

        PageAddNewAnonRmap(pfn);
        Pgd.Set(vmf.Address, pfn, MkWriteDirty(PageProt(vma.VmFlags), vma.VmFlags));
        return VmFaultResult.None;
    }

    // do_fault()
    private VmFaultResult DoFault(VmFault vmf)
    {
        var vma = vmf.Vma;
        if (vma.VmOps is null || !vma.VmOps.HasFault)
        {
            return VmFaultResult.VM_FAULT_SIGBUS;
        }

        if (!vmf.IsWrite)
        {
            return DoReadFault(vmf);
        }

        return (vma.VmFlags & VmFlags.VM_SHARED) == 0 ? DoCowFault(vmf) : DoSharedFault(vmf);
    }

    private const VmFaultResult FaultStop =
        VmFaultResult.VM_FAULT_ERROR | VmFaultResult.VM_FAULT_NOPAGE | VmFaultResult.VM_FAULT_RETRY;

    // __do_fault(): ask the owner for the page.
    private VmFaultResult DoFaultCallback(VmFault vmf)
    {
        var ret = vmf.Vma.VmOps!.Fault(vmf);
        if ((ret & (FaultStop | VmFaultResult.VM_FAULT_DONE_COW)) != 0)
        {
            return ret;
        }

        if (vmf.Page < 0 || !Pages.IsValidPfn(vmf.Page) || Pages.PageRefCount(vmf.Page) <= 0)
        {
            Machine.Reports.WarnOnOnce(true, "__do_fault", $"->fault returned 0x{(uint)ret:x} without a referenced page");
            return VmFaultResult.VM_FAULT_SIGBUS;
        }

        return ret;
    }

    // finish_fault(): map vmf->page (or the COW copy) unless the PTE appeared meanwhile.
    private VmFaultResult FinishFault(VmFault vmf)
    {
        var vma = vmf.Vma;
        var cow = vmf.IsWrite && (vma.VmFlags & VmFlags.VM_SHARED) == 0;
        var page = cow ? vmf.CowPage : vmf.Page;
        if (Pgd.Get(vmf.Address).IsValid)
        {
            return VmFaultResult.VM_FAULT_NOPAGE;
        }

        var prot = PageProt(vma.VmFlags);
        if (vmf.IsWrite)
        {
            prot = MkWriteDirty(prot, vma.VmFlags);
        }

        if (cow)
        {
            PageAddNewAnonRmap(page);
        }
        else
        {
            PageDupRmap(page);
        }

        Pgd.Set(vmf.Address, page, prot);
        return VmFaultResult.None;
    }

    // do_read_fault()
    private VmFaultResult DoReadFault(VmFault vmf)
    {
        var ret = DoFaultCallback(vmf);
        if ((ret & (FaultStop | VmFaultResult.VM_FAULT_DONE_COW)) != 0)
        {
            return ret;
        }

        ret |= FinishFault(vmf);
        if ((ret & FaultStop) != 0)
        {
            Pages.PutPage(vmf.Page, "do_read_fault");
        }

        return ret;
    }

    // do_cow_fault(): a private copy of the owner's page.
    private VmFaultResult DoCowFault(VmFault vmf)
    {
        if (AnonVmaPrepare(vmf.Vma) != 0)
        {
            return VmFaultResult.VM_FAULT_OOM;
        }

        var cow = Pages.AllocPage(UserPageGfp, "do_cow_fault");
        if (cow < 0)
        {
            return VmFaultResult.VM_FAULT_OOM;
        }

        vmf.CowPage = cow;
        var ret = DoFaultCallback(vmf);
        if ((ret & (FaultStop | VmFaultResult.VM_FAULT_DONE_COW)) != 0)
        {
            Pages.PutPage(cow, "do_cow_fault");
            return ret;
        }

        Pages.Contents.Copy(cow, vmf.Page);
        ret |= FinishFault(vmf);
        Pages.PutPage(vmf.Page, "do_cow_fault");
        if ((ret & FaultStop) != 0)
        {
            Pages.PutPage(cow, "do_cow_fault");
        }

        return ret;
    }

    // do_shared_fault()
    private VmFaultResult DoSharedFault(VmFault vmf)
    {
        var ret = DoFaultCallback(vmf);
        if ((ret & (FaultStop | VmFaultResult.VM_FAULT_DONE_COW)) != 0)
        {
            return ret;
        }

        ret |= FinishFault(vmf);
        if ((ret & FaultStop) != 0)
        {
            Pages.PutPage(vmf.Page, "do_shared_fault");
        }

        return ret;
    }

    // do_wp_page(): a write to a present, write-protected PTE of a writable VMA.
    private VmFaultResult DoWpPage(VmFault vmf, Pte pte)
    {
        var vma = vmf.Vma;
        var page = VmNormalPage(pte);
        if ((vma.VmFlags & (VmFlags.VM_SHARED | VmFlags.VM_MAYSHARE)) != 0)
        {
            // wp_pfn_shared() / wp_page_shared(): shared mappings are never copied.
            Pgd.Entry(vmf.Address).Flags |= PteFlags.Write | PteFlags.Dirty;
            return VmFaultResult.None;
        }

        if (page >= 0 && Pages.Frame(page).Has(PageFlags.Anon) && Pages.PageRefCount(page) == 1)
        {
            // wp_page_reuse(): the only user of an anonymous page keeps it.
            Pgd.Entry(vmf.Address).Flags |= PteFlags.Write | PteFlags.Dirty;
            return VmFaultResult.None;
        }

        return WpPageCopy(vmf, pte, page);
    }

    // wp_page_copy(): break COW with a new anonymous page.
    private VmFaultResult WpPageCopy(VmFault vmf, Pte pte, long oldPage)
    {
        var vma = vmf.Vma;
        if (AnonVmaPrepare(vma) != 0)
        {
            return VmFaultResult.VM_FAULT_OOM;
        }

        var isZero = pte.Pfn == PageTable.ZERO_PFN;
        var page = isZero ? AllocUserPage() : Pages.AllocPage(UserPageGfp, "wp_page_copy");
        if (page < 0)
        {
            return VmFaultResult.VM_FAULT_OOM;
        }

        if (!isZero && Pages.IsValidPfn(pte.Pfn))
        {
            Pages.Contents.Copy(page, pte.Pfn);
        }

        PageAddNewAnonRmap(page);
        ref var e = ref Pgd.Entry(vmf.Address);
        e.Pfn = page;
        e.Flags = MkWriteDirty(PageProt(vma.VmFlags), vma.VmFlags) | PteFlags.Valid;
        if (oldPage >= 0)
        {
            PageRemoveRmap(oldPage);
            Pages.PutPage(oldPage, "wp_page_copy");
        }

        return VmFaultResult.None;
    }

    // zap_pte_range() over [start, end) of one VMA: each normal page loses a mapcount and a reference.
    private void ZapPteRange(ulong start, ulong end)
    {
        foreach (var addr in Pgd.Valid(start, end))
        {
            var old = Pgd.Clear(addr);
            var page = VmNormalPage(old);
            if (page >= 0)
            {
                PageRemoveRmap(page);
                Pages.PutPage(page, "zap_pte_range");
            }
        }
    }

    // unmap_single_vma(): zap the part of [start, end) inside the VMA.
    internal void UnmapSingleVma(VmArea vma, ulong start, ulong end)
    {
        start = Math.Max(vma.VmStart, start);
        if (start >= vma.VmEnd)
        {
            return;
        }

        end = Math.Min(vma.VmEnd, end);
        if (end <= vma.VmStart)
        {
            return;
        }

        ZapPteRange(start, end);
    }

    /// <summary>
    /// zap_page_range_single(vma, address, size): remove the user PTEs of [address, address + size) inside the VMA
    /// (what drivers and the arena use to revoke pages). The VMA pointer is checked for use after free.
    /// </summary>
    public void ZapPageRangeSingle(VmArea vma, ulong address, ulong size)
    {
        if (!Machine.Kasan.Check(vma, "zap_page_range_single"))
        {
            return;
        }

        UnmapSingleVma(vma, address, address + size);
    }

    /// <summary>zap_vma_ptes(vma, address, size): zap_page_range_single() for VM_PFNMAP VMAs, a no-op otherwise.</summary>
    public void ZapVmaPtes(VmArea vma, ulong address, ulong size)
    {
        if (!Machine.Kasan.Check(vma, "zap_vma_ptes"))
        {
            return;
        }

        if (address < vma.VmStart || address + size > vma.VmEnd || (vma.VmFlags & VmFlags.VM_PFNMAP) == 0)
        {
            return;
        }

        UnmapSingleVma(vma, address, address + size);
    }

    /// <summary>
    /// vm_insert_page(vma, addr, page): map a driver's page into a user VMA (sets VM_MIXEDMAP, before the page is
    /// validated). The PTE takes a page reference and a mapcount. -EFAULT outside the VMA, -EINVAL for an
    /// unreferenced, anonymous or slab page (and, instead of the kernel's BUG_ON, for a VM_PFNMAP VMA), -EBUSY when a
    /// PTE is already there.
    /// </summary>
    public int VmInsertPage(VmArea vma, ulong addr, long pfn)
    {
        if (!Machine.Kasan.Check(vma, "vm_insert_page"))
        {
            return -(int)Errno.EFAULT;
        }

        if (addr < vma.VmStart || addr >= vma.VmEnd)
        {
            return -(int)Errno.EFAULT;
        }

        if ((vma.VmFlags & VmFlags.VM_MIXEDMAP) == 0)
        {
            if (Machine.Reports.WarnOn((vma.VmFlags & VmFlags.VM_PFNMAP) != 0, "vm_insert_page",
                "BUG_ON(vma->vm_flags & VM_PFNMAP)"))
            {
                return -(int)Errno.EINVAL;
            }

            vma.VmFlagsSet(VmFlags.VM_MIXEDMAP);
        }

        // insert_page() -> validate_page_before_insert(): the refcount check lives here since 6.11, after
        // VM_MIXEDMAP was set.
        if (!Pages.IsValidPfn(pfn) || Pages.PageRefCount(pfn) == 0)
        {
            return -(int)Errno.EINVAL;
        }

        ref var f = ref Pages.Frame(pfn);
        if (f.Has(PageFlags.Anon) || f.Has(PageFlags.Slab))
        {
            return -(int)Errno.EINVAL;
        }

        addr &= K.PAGE_MASK;
        if (Pgd.Get(addr).IsValid)
        {
            return -(int)Errno.EBUSY;
        }

        Pages.GetPage(pfn);
        PageDupRmap(pfn);
        Pgd.Set(addr, pfn, PageProt(vma.VmFlags));
        return 0;
    }

    /// <summary>
    /// remap_pfn_range(vma, addr, pfn, size): map PFNs without struct-page accounting (special PTEs); sets
    /// VM_IO | VM_PFNMAP | VM_DONTEXPAND | VM_DONTDUMP. A COW mapping must be remapped whole (-EINVAL otherwise, and
    /// vm_pgoff becomes the PFN). An existing PTE in the range is the kernel's BUG_ON: a WARN and -EINVAL here.
    /// </summary>
    public int RemapPfnRange(VmArea vma, ulong addr, long pfn, ulong size)
    {
        if (!Machine.Kasan.Check(vma, "remap_pfn_range"))
        {
            return -(int)Errno.EFAULT;
        }

        // remap_pfn_range_internal(): checked before the COW rule and before the flags are set.
        if (Machine.Reports.WarnOnOnce(!K.PageAligned(addr), "remap_pfn_range_internal", "WARN_ON_ONCE(!PAGE_ALIGNED(addr))"))
        {
            return -(int)Errno.EINVAL;
        }

        size = K.PageAlign(size);
        var end = addr + size;
        if (vma.VmFlags.IsCowMapping())
        {
            if (addr != vma.VmStart || end != vma.VmEnd)
            {
                return -(int)Errno.EINVAL;
            }

            vma.VmPgoff = (ulong)pfn;
        }

        if (addr < vma.VmStart || end > vma.VmEnd || end <= addr)
        {
            return -(int)Errno.EINVAL;
        }

        vma.VmFlagsSet(VmFlags.VM_IO | VmFlags.VM_PFNMAP | VmFlags.VM_DONTEXPAND | VmFlags.VM_DONTDUMP);
        foreach (var a in Pgd.Valid(addr, end))
        {
            Machine.Reports.WarnOn(true, "remap_pte_range", $"BUG_ON(!pte_none) at 0x{a:x}");
            return -(int)Errno.EINVAL;
        }

        var prot = PageProt(vma.VmFlags) | PteFlags.Special;
        for (var a = addr; a < end; a += K.PAGE_SIZE, pfn++)
        {
            Pgd.Set(a, pfn, prot);
        }

        return 0;
    }

    // change_protection(): bring the PTEs of [start, end) in line with the VMA's new flags.
    private void ChangeProtection(VmArea vma, ulong start, ulong end)
    {
        var flags = vma.VmFlags;
        var shared = (flags & VmFlags.VM_SHARED) != 0;
        foreach (var addr in Pgd.Valid(start, end))
        {
            ref var e = ref Pgd.Entry(addr);
            var f = e.Flags & ~(PteFlags.Present | PteFlags.Write);
            if (flags.IsAccessible())
            {
                f |= PteFlags.Present;
            }

            if ((flags & VmFlags.VM_WRITE) != 0 && (shared || (e.Flags & PteFlags.Write) != 0))
            {
                f |= PteFlags.Write;
            }

            e.Flags = f;
        }
    }

    // move_page_tables(): move the PTEs of [oldAddr, oldAddr + len) to newAddr (mapcounts do not change).
    private ulong MovePageTables(ulong oldAddr, ulong newAddr, ulong len)
    {
        foreach (var addr in Pgd.Valid(oldAddr, oldAddr + len))
        {
            var pte = Pgd.Clear(addr);
            Pgd.Set(newAddr + (addr - oldAddr), pte.Pfn, pte.Flags);
        }

        Pgd.FreePgtables(oldAddr, oldAddr + len);
        return len;
    }

    // vma_needs_copy(): fork copies PTEs only where the child could not refault them.
    private static bool VmaNeedsCopy(VmArea src) =>
        (src.VmFlags & (VmFlags.VM_PFNMAP | VmFlags.VM_MIXEDMAP)) != 0 || src.AnonVma is not null;

    // copy_page_range(dst_vma, src_vma): the PTEs of a fork; COW mappings are write-protected on both sides.
    private static void CopyPageRange(MmStruct dstMm, VmArea dst, MmStruct srcMm, VmArea src)
    {
        if (!VmaNeedsCopy(src))
        {
            return;
        }

        var cow = src.VmFlags.IsCowMapping();
        foreach (var addr in srcMm.Pgd.Valid(src.VmStart, src.VmEnd))
        {
            ref var spte = ref srcMm.Pgd.Entry(addr);
            var page = srcMm.VmNormalPage(spte);
            if (page >= 0)
            {
                srcMm.Pages.GetPage(page);
                srcMm.PageDupRmap(page);
            }

            if (cow && spte.IsWrite)
            {
                spte.Flags &= ~PteFlags.Write;
            }

            var f = spte.Flags & ~PteFlags.Valid;
            if ((src.VmFlags & VmFlags.VM_SHARED) != 0)
            {
                f &= ~PteFlags.Dirty;
            }

            dstMm.Pgd.Set(addr, spte.Pfn, f);
        }

        _ = dst;
    }
}
