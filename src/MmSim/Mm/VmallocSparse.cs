using MmSim.Kernel;

namespace MmSim.Mm;

/// <summary>Sparse areas (VM_SPARSE, v6.9+): address space reserved with get_vm_area, pages mapped on demand.</summary>
public sealed partial class VmallocAllocator
{
    /// <summary>
    /// vm_area_map_pages(area, start, end, pages): map <paramref name="pages"/> (one PFN per page) at [start, end)
    /// of a sparse area. -EINVAL (WARN) when the area has VM_FLUSH_RESET_PERMS or VM_NO_GUARD or lacks VM_SPARSE;
    /// -E2BIG when the page count exceeds totalram_pages(); -ERANGE when [start, end) leaves the usable area; then
    /// page by page: -EBUSY (WARN) at a present PTE, -ENOMEM (WARN) for a NULL page, -EINVAL (WARN) for an invalid
    /// PFN. Pages mapped before an error stay mapped, as in the kernel. The caller keeps owning the pages.
    /// </summary>
    public int VmAreaMapPages(VmStruct area, ulong start, ulong end, ReadOnlySpan<long> pages)
    {
        var err = CheckSparseVmArea(area, start, end);
        if (err != 0)
        {
            return err;
        }

        // vmap_pages_range() -> vmap_small_pages_range_noflush(): BUG_ON(addr >= end)
        CheckRange(start, end, "vmap_small_pages_range_noflush");
        var nr = (int)((end - start) >> K.PAGE_SHIFT);
        if (pages.Length < nr)
        {
            throw new KernelBugException($"vm_area_map_pages: {nr} pages to map but the array holds {pages.Length}");
        }

        for (var i = 0; i < nr; i++)
        {
            var addr = start + ((ulong)i << K.PAGE_SHIFT);
            var pfn = pages[i];
            // The messages are formatted only when the WARN fires: this is the arena's per-fault path.
            if (_pt.Lookup(addr) >= 0)
            {
                _reports.WarnOn(true, "vmap_pages_pte_range", $"WARN_ON(!pte_none(...)) at 0x{addr:x}");
                return -(int)Errno.EBUSY;
            }

            if (_reports.WarnOn(pfn < 0, "vmap_pages_pte_range", "WARN_ON(!page)"))
            {
                return -(int)Errno.ENOMEM;
            }

            if (!_pages.IsValidPfn(pfn))
            {
                _reports.WarnOn(true, "vmap_pages_pte_range", $"WARN_ON(!pfn_valid(0x{pfn:x}))");
                return -(int)Errno.EINVAL;
            }

            _pt.Set(addr, pfn);
        }

        return 0;
    }

    /// <summary>
    /// vm_area_unmap_pages(area, start, end): clear the PTEs of [start, end) of a sparse area; silently nothing
    /// when the area or range is wrong (the checks of vm_area_map_pages, with their WARNs). Pages are not freed.
    /// </summary>
    public void VmAreaUnmapPages(VmStruct area, ulong start, ulong end)
    {
        if (CheckSparseVmArea(area, start, end) != 0)
        {
            return;
        }

        // vunmap_range() -> __vunmap_range_noflush(): BUG_ON(addr >= end)
        CheckRange(start, end, "__vunmap_range_noflush");
        _pt.ClearRange(start, end);
    }

    /// <summary>
    /// apply_to_existing_page_range(&amp;init_mm, addr, size, fn): call <paramref name="fn"/> for every present PTE of
    /// the range in address order; a non-zero return stops the walk and is returned. The PTEs are left as they are.
    /// </summary>
    public int ApplyToExistingPageRange(ulong addr, ulong size, Func<ulong, long, int> fn)
    {
        var ret = 0;
        var end = addr + size;
        if (end < addr)
        {
            end = ulong.MaxValue;
        }

        // Walk a snapshot so that fn may change the table.
        var present = new List<(ulong Addr, long Pfn)>();
        _pt.ForEachPresent(addr, end, (a, pfn) => present.Add((a, pfn)));
        foreach (var (a, pfn) in present)
        {
            ret = fn(a, pfn);
            if (ret != 0)
            {
                break;
            }
        }

        return ret;
    }

    // check_sparse_vm_area()
    private int CheckSparseVmArea(VmStruct area, ulong start, ulong end)
    {
        if (!_kasan.Check(area, "check_sparse_vm_area"))
        {
            return -(int)Errno.EINVAL;
        }

        if (_reports.WarnOnOnce((area.Flags & VmStructFlags.VM_FLUSH_RESET_PERMS) != 0, "check_sparse_vm_area", "area->flags & VM_FLUSH_RESET_PERMS") ||
            _reports.WarnOnOnce((area.Flags & VmStructFlags.VM_NO_GUARD) != 0, "check_sparse_vm_area", "area->flags & VM_NO_GUARD") ||
            _reports.WarnOnOnce((area.Flags & VmStructFlags.VM_SPARSE) == 0, "check_sparse_vm_area", "!(area->flags & VM_SPARSE)"))
        {
            return -(int)Errno.EINVAL;
        }

        if (unchecked(end - start) >> K.PAGE_SHIFT > (ulong)_pages.TotalPages)
        {
            return -(int)Errno.E2BIG;
        }

        if (start < area.Addr || end > area.Addr + area.GetVmAreaSize)
        {
            return -(int)Errno.ERANGE;
        }

        return 0;
    }

    private static void CheckRange(ulong start, ulong end, string function)
    {
        if (start >= end)
        {
            throw new KernelBugException($"{function}: BUG_ON(addr >= end) for [0x{start:x}, 0x{end:x})");
        }

        if (!K.PageAligned(start) || !K.PageAligned(end))
        {
            throw new KernelBugException($"{function}: [0x{start:x}, 0x{end:x}) is not page aligned (the page-table walk would run past end)");
        }
    }
}
