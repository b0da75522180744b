using MmSim.Kernel;

namespace MmSim.Mm;

/// <summary>
/// struct vmap_area (mm/vmalloc.c): one reserved range of kernel virtual addresses, [VaStart, VaEnd), guard page
/// included. Allocated from the "vmap_area" kmem cache. While busy it points at its <see cref="VmStruct"/>; after
/// free_vmap_area_noflush() it sits on the lazy list until a purge returns the range to the free space.
/// </summary>
public sealed class VmapArea : SlabObject
{
    public ulong VaStart { get; internal set; }

    public ulong VaEnd { get; internal set; }

    /// <summary>va->vm while the area is busy; null once it was unlinked.</summary>
    public VmStruct? Vm { get; internal set; }

    /// <summary>True while the area waits on the lazy (purge) list: unmapped but its range not yet reusable.</summary>
    public bool Lazy { get; internal set; }

    /// <summary>va_size().</summary>
    public ulong Size => VaEnd - VaStart;

    public override string Describe() => $"vmap_area 0x{VaStart:x}-0x{VaEnd:x}";
}

/// <summary>
/// struct vm_struct (include/linux/vmalloc.h): a kernel virtual area as its user sees it. kzalloc'd (kmalloc-64).
/// <see cref="Size"/> includes the guard page; <see cref="GetVmAreaSize"/> is the usable size.
/// </summary>
public sealed class VmStruct : SlabObject
{
    /// <summary>area->addr.</summary>
    public ulong Addr { get; internal set; }

    /// <summary>area->size, guard page included.</summary>
    public ulong Size { get; internal set; }

    /// <summary>area->flags.</summary>
    public VmStructFlags Flags { get; internal set; }

    /// <summary>area->pages: the PFNs backing a VM_ALLOC area, page i at Addr + i * PAGE_SIZE.</summary>
    public long[] Pages { get; internal set; } = [];

    /// <summary>area->nr_pages: how many entries of <see cref="Pages"/> are populated.</summary>
    public int NrPages { get; internal set; }

    /// <summary>The kernel address of the page-pointer array (kmalloc'd, or vmalloc'd when larger than a page).</summary>
    public ulong PagesArray { get; internal set; }

    /// <summary>area->caller, as /proc/vmallocinfo prints it (%pS).</summary>
    public string Caller { get; internal set; } = "";

    /// <summary>The vmap_area that holds the range.</summary>
    internal VmapArea? Va { get; set; }

    /// <summary>get_vm_area_size(): the size without the guard page.</summary>
    public ulong GetVmAreaSize => (Flags & VmStructFlags.VM_NO_GUARD) != 0 ? Size : Size - K.PAGE_SIZE;

    public override string Describe() => $"vm_struct 0x{Addr:x}+0x{Size:x}";
}
