using System.Numerics;
using System.Runtime.CompilerServices;
using Microsoft.Extensions.Logging;
using MmSim.Kernel;
using static MmSim.Mm.VmallocConstants;

namespace MmSim.Mm;

/// <summary>
/// The vmalloc area (mm/vmalloc.c, v6.12): kernel virtual ranges in [VMALLOC_START, VMALLOC_END) handed out
/// lowest address first, each followed by a hidden guard page unless VM_NO_GUARD; order-0 pages mapped into the
/// kernel page table; freed ranges released lazily (they become reusable only after a purge). Split by concern:
/// this file holds the area allocator, vmalloc and vfree; <c>VmallocSparse.cs</c>, <c>VmallocUser.cs</c>,
/// <c>VmallocInfo.cs</c>, <c>VmallocInvariants.cs</c>, <c>VmallocProbe.cs</c> and <c>Kvmalloc.cs</c> the rest.
/// Addresses are <c>ulong</c> kernel virtual addresses, 0 for NULL.
/// </summary>
public sealed partial class VmallocAllocator
{
    private readonly PageAllocator _pages;
    private readonly SlabAllocator _slab;
    private readonly Kasan _kasan;
    private readonly KernelReports _reports;
    private readonly ILogger _log;
    private readonly KmemCache _vmapAreaCachep;
    private readonly VmapAreaTree _tree = new();
    private readonly VmallocPageTable _pt = new();
    private readonly int _onlineCpus;

    internal VmallocAllocator(PageAllocator pages, SlabAllocator slab, Kasan kasan, KernelReports reports, ILogger log, int cpus)
    {
        _pages = pages;
        _slab = slab;
        _kasan = kasan;
        _reports = reports;
        _log = log;
        _onlineCpus = Math.Max(1, cpus);

        // vmalloc_init(): vmap_area_cachep = KMEM_CACHE(vmap_area, SLAB_PANIC)
        _vmapAreaCachep = slab.KmemCacheCreate("vmap_area", SizeofVmapArea, 8, SlabFlags.SLAB_PANIC);
    }

    /// <summary>nr_vmalloc_pages: pages held by VM_ALLOC areas (/proc/meminfo VmallocUsed).</summary>
    public long NrVmallocPages { get; private set; }

    /// <summary>vmap_lazy_nr: pages of address space waiting on the lazy list.</summary>
    public long VmapLazyNr { get; private set; }

    /// <summary>Areas in the busy tree.</summary>
    public int NrBusyAreas { get; private set; }

    /// <summary>Areas on the lazy list (freed, not yet purged).</summary>
    public int NrLazyAreas { get; private set; }

    /// <summary>Purges run so far (lazy threshold, explicit, or allocation failure).</summary>
    public long NrPurges { get; private set; }

    /// <summary>The "vmap_area" kmem cache.</summary>
    public KmemCache VmapAreaCache => _vmapAreaCachep;

    /// <summary>lazy_max_pages(): fls(num_online_cpus()) * (32 MiB / PAGE_SIZE).</summary>
    public long LazyMaxPages => (32 - BitOperations.LeadingZeroCount((uint)_onlineCpus)) * (long)((32UL << 20) / K.PAGE_SIZE);

    /// <summary>is_vmalloc_addr().</summary>
    public static bool IsVmallocAddr(ulong addr) => addr >= K.VMALLOC_START && addr < K.VMALLOC_END;

    /// <summary>vmalloc(size): <c>GFP_KERNEL</c> pages, page aligned.</summary>
    public ulong Vmalloc(ulong size, [CallerMemberName] string caller = "") =>
        VmallocNode(size, 1, Gfp.GFP_KERNEL, NUMA_NO_NODE, caller);

    /// <summary>vzalloc(size): vmalloc with zeroed memory.</summary>
    public ulong Vzalloc(ulong size, [CallerMemberName] string caller = "") =>
        VmallocNode(size, 1, Gfp.GFP_KERNEL | Gfp.__GFP_ZERO, NUMA_NO_NODE, caller);

    /// <summary>vmalloc_user(size): zeroed, SHMLBA aligned, VM_USERMAP (may be mapped with remap_vmalloc_range).</summary>
    public ulong VmallocUser(ulong size, [CallerMemberName] string caller = "") =>
        VmallocNodeRange(size, SHMLBA, K.VMALLOC_START, K.VMALLOC_END, Gfp.GFP_KERNEL | Gfp.__GFP_ZERO,
            VmStructFlags.VM_USERMAP, NUMA_NO_NODE, caller);

    /// <summary>__vmalloc(size, gfp_mask).</summary>
    public ulong VmallocGfp(ulong size, Gfp gfp, [CallerMemberName] string caller = "") =>
        VmallocNode(size, 1, gfp, NUMA_NO_NODE, caller);

    /// <summary>__vmalloc_node(size, align, gfp_mask, node, caller).</summary>
    public ulong VmallocNode(ulong size, ulong align, Gfp gfp, int node, string caller) =>
        VmallocNodeRange(size, align, K.VMALLOC_START, K.VMALLOC_END, gfp, VmStructFlags.None, node, caller);

    /// <summary>
    /// __vmalloc_node_range_noprof(): reserve an area in [start, end), allocate order-0 pages and map them. Any
    /// failure returns 0 with everything undone (pages freed, the area on the lazy list, no object left).
    /// </summary>
    public ulong VmallocNodeRange(ulong size, ulong align, ulong start, ulong end, Gfp gfp, VmStructFlags vmFlags,
        int node, string caller)
    {
        if (_reports.WarnOnOnce(size == 0, "__vmalloc_node_range_noprof", "WARN_ON_ONCE(!size)"))
        {
            return 0;
        }

        if ((size >> K.PAGE_SHIFT) > (ulong)_pages.TotalPages)
        {
            WarnAlloc(gfp, $"vmalloc error: size {size}, exceeds total pages");
            return 0;
        }

        // VM_ALLOW_HUGE_VMAP: MmSim always maps order-0 pages (as with nohugevmalloc), so shift stays PAGE_SHIFT.
        var area = GetVmAreaNode(size, align, K.PAGE_SHIFT, VmStructFlags.VM_ALLOC | VmStructFlags.VM_UNINITIALIZED | vmFlags,
            start, end, node, gfp, caller);
        if (area is null)
        {
            var nofail = (gfp & Gfp.__GFP_NOFAIL) != 0;
            WarnAlloc(gfp, $"vmalloc error: size {size}, vm_struct allocation failed{(nofail ? ". Retrying." : "")}");
            return 0;
        }

        if (VmallocAreaNode(area, gfp, node) == 0)
        {
            return 0;
        }

        // clear_vm_uninitialized_flag()
        area.Flags &= ~VmStructFlags.VM_UNINITIALIZED;
        return area.Addr;
    }

    // __vmalloc_area_node(): the page-pointer array, the pages, the mapping.
    private ulong VmallocAreaNode(VmStruct area, Gfp gfp, int node)
    {
        var size = area.GetVmAreaSize;
        var nrSmallPages = (int)(size >> K.PAGE_SHIFT);
        var arraySize = (ulong)nrSmallPages * SizeofPagePointer;
        var nestedGfp = (gfp & GFP_RECLAIM_MASK) | Gfp.__GFP_ZERO;
        if ((gfp & (Gfp.__GFP_DMA | Gfp.__GFP_DMA32)) == 0)
        {
            gfp |= Gfp.__GFP_HIGHMEM;
        }

        // "Please note that the recursion is strictly bounded."
        area.PagesArray = arraySize > K.PAGE_SIZE
            ? VmallocNode(arraySize, 1, nestedGfp, node, area.Caller)
            : _slab.Kmalloc(arraySize, nestedGfp, "__vmalloc_area_node");
        if (area.PagesArray == 0)
        {
            WarnAlloc(gfp, $"vmalloc error: size {(ulong)nrSmallPages * K.PAGE_SIZE}, failed to allocated page array size {arraySize}");
            FreeVmArea(area);
            return 0;
        }

        area.Pages = new long[nrSmallPages];
        area.NrPages = VmAreaAllocPages(gfp | Gfp.__GFP_NOWARN, area.Pages);
        NrVmallocPages += area.NrPages;
        if (area.NrPages != nrSmallPages)
        {
            WarnAlloc(gfp, $"vmalloc error: size {(ulong)area.NrPages * K.PAGE_SIZE}, failed to allocate pages");
            Vfree(area.Addr, "__vmalloc_area_node");
            return 0;
        }

        // vmap_pages_range(): the area is fresh, so no PTE is present (page-table pages are not modelled).
        for (var i = 0; i < nrSmallPages; i++)
        {
            _pt.Set(area.Addr + ((ulong)i << K.PAGE_SHIFT), area.Pages[i]);
        }

        return area.Addr;
    }

    // vm_area_alloc_pages(): order-0 pages one by one; stop at the first failure.
    private int VmAreaAllocPages(Gfp gfp, long[] pages)
    {
        var nr = 0;
        while (nr < pages.Length)
        {
            var pfn = _pages.AllocPage(gfp, "vm_area_alloc_pages");
            if (pfn == PageAllocator.NoPage)
            {
                break;
            }

            _pages.Frame(pfn).Flags |= PageFlags.Vmalloc;
            pages[nr++] = pfn;
        }

        return nr;
    }

    /// <summary>
    /// vfree(addr): NULL is a no-op; an unaligned address WARNs twice and frees nothing; the area containing
    /// <paramref name="addr"/> (interior addresses and the guard page included) is unmapped, its pages freed,
    /// and its range put on the lazy list.
    /// </summary>
    public void Vfree(ulong addr, [CallerMemberName] string caller = "")
    {
        if (addr == 0)
        {
            return;
        }

        var vm = RemoveVmArea(addr);
        if (vm is null)
        {
            _reports.WarnOn(true, "vfree", $"Trying to vfree() nonexistent vm area (0x{addr:x})");
            return;
        }

        for (var i = 0; i < vm.NrPages; i++)
        {
            // __free_page(): the page stays alive while someone else (a user mapping) holds a reference.
            var pfn = vm.Pages[i];
            _pages.Frame(pfn).Flags &= ~PageFlags.Vmalloc;
            _pages.FreePages(pfn, 0, "vfree");
        }

        if ((vm.Flags & VmStructFlags.VM_MAP_PUT_PAGES) == 0)
        {
            NrVmallocPages -= vm.NrPages;
        }

        vm.NrPages = 0;
        vm.Pages = [];
        Kvfree(vm.PagesArray, "vfree");
        vm.PagesArray = 0;
        _slab.FreeObject(vm, "vfree");
    }

    /// <summary>remove_vm_area(): unlink the area containing <paramref name="addr"/> and unmap it; null when none.</summary>
    public VmStruct? RemoveVmArea(ulong addr)
    {
        if (_reports.WarnOn(!K.PageAligned(addr), "remove_vm_area", $"Trying to vfree() bad address (0x{addr:x})"))
        {
            return null;
        }

        var va = FindVmapArea(addr);
        if (va?.Vm is not { } vm)
        {
            return null;
        }

        // find_unlink_vmap_area() + free_unmap_vmap_area()
        va.Vm = null;
        vm.Va = null;
        NrBusyAreas--;
        _pt.ClearRange(va.VaStart, va.VaEnd);
        FreeVmapAreaNoflush(va);
        return vm;
    }

    /// <summary>find_vm_area(): the busy area containing <paramref name="addr"/>, or null.</summary>
    public VmStruct? FindVmArea(ulong addr) => FindVmapArea(addr)?.Vm;

    /// <summary>find_vmap_area(): the busy vmap_area containing <paramref name="addr"/> (lazy ones are not found).</summary>
    public VmapArea? FindVmapArea(ulong addr)
    {
        var va = _tree.Find(addr);
        return va is null || va.Lazy ? null : va;
    }

    /// <summary>get_vm_area(size, flags): reserve kernel address space only (GFP_KERNEL, page aligned).</summary>
    public VmStruct? GetVmArea(ulong size, VmStructFlags flags, [CallerMemberName] string caller = "") =>
        GetVmAreaNode(size, 1, K.PAGE_SHIFT, flags, K.VMALLOC_START, K.VMALLOC_END, NUMA_NO_NODE, Gfp.GFP_KERNEL, caller);

    /// <summary>get_vm_area_caller(size, flags, caller).</summary>
    public VmStruct? GetVmAreaCaller(ulong size, VmStructFlags flags, string caller) =>
        GetVmAreaNode(size, 1, K.PAGE_SHIFT, flags, K.VMALLOC_START, K.VMALLOC_END, NUMA_NO_NODE, Gfp.GFP_KERNEL, caller);

    /// <summary>
    /// __get_vm_area_node(): the vm_struct (kmalloc-64) and its vmap_area. Null when the size rounds to 0, an
    /// object cannot be allocated, or no range fits (after one purge-and-retry).
    /// </summary>
    public VmStruct? GetVmAreaNode(ulong size, ulong align, int shift, VmStructFlags flags, ulong start, ulong end,
        int node, Gfp gfp, string caller)
    {
        var unit = 1UL << shift;
        size = unchecked(size + unit - 1) & ~(unit - 1);
        if (size == 0)
        {
            return null;
        }

        if ((flags & VmStructFlags.VM_IOREMAP) != 0)
        {
            var order = 64 - BitOperations.LeadingZeroCount(size - 1);
            align = 1UL << Math.Clamp(order, K.PAGE_SHIFT, IOREMAP_MAX_ORDER);
        }

        var areaGfp = gfp & GFP_RECLAIM_MASK;
        var area = _slab.AllocObject(_slab.KmallocSlab(SizeofVmStruct, areaGfp), areaGfp | Gfp.__GFP_ZERO,
            () => new VmStruct(), "__get_vm_area_node");
        if (area is null)
        {
            return null;
        }

        if ((flags & VmStructFlags.VM_NO_GUARD) == 0)
        {
            size = unchecked(size + K.PAGE_SIZE);
        }

        area.Flags = flags;
        area.Caller = caller;
        if (AllocVmapArea(size, align, start, end, gfp, area) is null)
        {
            _slab.FreeObject(area, "__get_vm_area_node");
            return null;
        }

        return area;
    }

    /// <summary>free_vm_area(): remove_vm_area() plus kfree of the vm_struct. Pages mapped into it are not freed.</summary>
    public void FreeVmArea(VmStruct area)
    {
        if (!_kasan.Check(area, "free_vm_area"))
        {
            return;
        }

        var ret = RemoveVmArea(area.Addr);
        if (!ReferenceEquals(ret, area))
        {
            throw new KernelBugException($"free_vm_area: BUG_ON(ret != area) for {area.Describe()}");
        }

        _slab.FreeObject(area, "free_vm_area");
    }

    /// <summary>
    /// alloc_vmap_area(): a vmap_area object and the lowest fitting range. -EINVAL for a zero or unaligned size or
    /// a non-power-of-two align, -ENOMEM without the object, -EBUSY when nothing fits after a purge.
    /// </summary>
    internal VmapArea? AllocVmapArea(ulong size, ulong align, ulong vstart, ulong vend, Gfp gfp, VmStruct? vm)
        => AllocVmapArea(size, align, vstart, vend, gfp, vm, out _);

    internal VmapArea? AllocVmapArea(ulong size, ulong align, ulong vstart, ulong vend, Gfp gfp, VmStruct? vm, out Errno err)
    {
        if (size == 0 || !K.PageAligned(size) || !BitOperations.IsPow2(align))
        {
            err = Errno.EINVAL;
            return null;
        }

        gfp &= GFP_RECLAIM_MASK;
        var va = _slab.AllocObject(_vmapAreaCachep, gfp, () => new VmapArea(), "alloc_vmap_area");
        if (va is null)
        {
            err = Errno.ENOMEM;
            return null;
        }

        var purged = false;
        while (true)
        {
            var ok = _tree.TryAlloc(size, align, vstart, vend, va, out var addr);
            Tracepoints.alloc_vmap_area(_log, ok ? addr : unchecked((ulong)Errno.ENOENT.Neg()), size, align, vstart, vend, ok ? 0 : 1);
            if (ok)
            {
                va.Vm = vm;
                if (vm is not null)
                {
                    vm.Addr = va.VaStart;
                    vm.Size = va.Size;
                    vm.Va = va;
                }

                NrBusyAreas++;
                err = 0;
                return va;
            }

            if (!purged)
            {
                // reclaim_and_purge_vmap_areas(); no vmap purge notifiers are registered.
                PurgeVmapAreaLazyLocked(true);
                purged = true;
                continue;
            }

            if ((gfp & Gfp.__GFP_NOWARN) == 0)
            {
                Tracepoints.vmap_allocation_failed(_log, size, vstart, vend);
            }

            _slab.FreeObject(va, "alloc_vmap_area");
            err = Errno.EBUSY;
            return null;
        }
    }

    // free_vmap_area_noflush(): the range goes on the lazy list; past lazy_max_pages the drain work purges.
    private void FreeVmapAreaNoflush(VmapArea va)
    {
        va.Lazy = true;
        NrLazyAreas++;
        VmapLazyNr += (long)(va.Size >> K.PAGE_SHIFT);
        var nrLazy = VmapLazyNr;
        var nrLazyMax = LazyMaxPages;
        Tracepoints.free_vmap_area_noflush(_log, va.VaStart, nrLazy, nrLazyMax);
        if (nrLazy > nrLazyMax)
        {
            // schedule_work(&drain_vmap_work): MmSim runs the work at once.
            PurgeVmapAreaLazyLocked(false);
        }
    }

    /// <summary>purge_vmap_area_lazy(): return every lazily freed range to the free space now.</summary>
    public void PurgeVmapAreaLazy() => PurgeVmapAreaLazyLocked(false);

    /// <summary>vm_unmap_aliases(): flush lazily unmapped ranges (purges the lazy list).</summary>
    public void VmUnmapAliases() => PurgeVmapAreaLazyLocked(false);

    // __purge_vmap_area_lazy(ULONG_MAX, 0, full_pool_decay): true when something was purged.
    private bool PurgeVmapAreaLazyLocked(bool fullPoolDecay)
    {
        _ = fullPoolDecay; // per-node pools are not modelled (one vmap node)
        NrPurges++;
        var start = ulong.MaxValue;
        var end = 0UL;
        long nrPurged = 0;
        uint nrPurgedAreas = 0;
        if (NrLazyAreas > 0)
        {
            var lazy = new List<VmapArea>(NrLazyAreas);
            foreach (var va in _tree.InOrder)
            {
                if (va.Lazy)
                {
                    lazy.Add(va);
                }
            }

            start = Math.Min(start, lazy[0].VaStart);
            end = Math.Max(end, lazy[^1].VaEnd);
            foreach (var va in lazy)
            {
                _tree.Remove(va);
                va.Lazy = false;
                NrLazyAreas--;
                nrPurged += (long)(va.Size >> K.PAGE_SHIFT);
                nrPurgedAreas++;
                _slab.FreeObject(va, "purge_vmap_node");
            }

            VmapLazyNr -= nrPurged;
        }

        // The tracepoint and the result count areas (vn->nr_purged), not pages.
        Tracepoints.purge_vmap_area_lazy(_log, start, end, nrPurgedAreas);
        return nrPurgedAreas > 0;
    }

    // warn_alloc(gfp_mask, NULL, fmt...): printed unless __GFP_NOWARN; not a WARN_ON.
    private void WarnAlloc(Gfp gfp, string message)
    {
        if ((gfp & Gfp.__GFP_NOWARN) == 0)
        {
            Tracepoints.vmalloc_warn_alloc(_log, message, gfp);
        }
    }
}
