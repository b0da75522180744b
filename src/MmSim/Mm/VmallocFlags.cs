using MmSim.Kernel;

namespace MmSim.Mm;

/// <summary>struct vm_struct flags (include/linux/vmalloc.h, v6.12).</summary>
[Flags]
public enum VmStructFlags : ulong
{
    None = 0,

    /// <summary>VM_IOREMAP: ioremap() and friends.</summary>
    VM_IOREMAP = 0x00000001,

    /// <summary>VM_ALLOC: vmalloc().</summary>
    VM_ALLOC = 0x00000002,

    /// <summary>VM_MAP: vmap()ed pages.</summary>
    VM_MAP = 0x00000004,

    /// <summary>VM_USERMAP: suitable for remap_vmalloc_range.</summary>
    VM_USERMAP = 0x00000008,

    /// <summary>VM_DMA_COHERENT: dma_alloc_coherent.</summary>
    VM_DMA_COHERENT = 0x00000010,

    /// <summary>VM_UNINITIALIZED: vm_struct is not fully initialized.</summary>
    VM_UNINITIALIZED = 0x00000020,

    /// <summary>VM_NO_GUARD: don't add guard page.</summary>
    VM_NO_GUARD = 0x00000040,

    /// <summary>VM_KASAN: has allocated kasan shadow memory.</summary>
    VM_KASAN = 0x00000080,

    /// <summary>VM_FLUSH_RESET_PERMS: reset direct map and flush TLB on unmap, can't be freed in atomic context.</summary>
    VM_FLUSH_RESET_PERMS = 0x00000100,

    /// <summary>VM_MAP_PUT_PAGES: put pages and free array in vfree.</summary>
    VM_MAP_PUT_PAGES = 0x00000200,

    /// <summary>VM_ALLOW_HUGE_VMAP: allow for huge pages on archs with HAVE_ARCH_HUGE_VMALLOC.</summary>
    VM_ALLOW_HUGE_VMAP = 0x00000400,

    /// <summary>VM_DEFER_KMEMLEAK (CONFIG_KASAN_VMALLOC builds; 0x800 in this table).</summary>
    VM_DEFER_KMEMLEAK = 0x00000800,

    /// <summary>VM_SPARSE: sparse vm_area, not all pages are present (v6.9+).</summary>
    VM_SPARSE = 0x00001000,
}

/// <summary>vmalloc constants (include/linux/vmalloc.h, arch/x86/include/asm/shmparam.h, mm/internal.h).</summary>
public static class VmallocConstants
{
    /// <summary>SHMLBA on x86: PAGE_SIZE.</summary>
    public const ulong SHMLBA = K.PAGE_SIZE;

    /// <summary>IOREMAP_MAX_ORDER: 7 + PAGE_SHIFT (generic default).</summary>
    public const int IOREMAP_MAX_ORDER = 7 + K.PAGE_SHIFT;

    /// <summary>VMALLOC_TOTAL: VMALLOC_END - VMALLOC_START.</summary>
    public const ulong VMALLOC_TOTAL = K.VMALLOC_END - K.VMALLOC_START;

    /// <summary>INT_MAX (kvmalloc's "crazy size" bound).</summary>
    public const ulong INT_MAX = int.MaxValue;

    /// <summary>NUMA_NO_NODE.</summary>
    public const int NUMA_NO_NODE = -1;

    /// <summary>GFP_RECLAIM_MASK (mm/internal.h): the gfp bits that nested allocations inherit.</summary>
    public const Gfp GFP_RECLAIM_MASK = Gfp.__GFP_RECLAIM | Gfp.__GFP_HIGH | Gfp.__GFP_IO | Gfp.__GFP_FS |
        Gfp.__GFP_NOWARN | Gfp.__GFP_RETRY_MAYFAIL | Gfp.__GFP_NOFAIL | Gfp.__GFP_NORETRY |
        Gfp.__GFP_MEMALLOC | Gfp.__GFP_NOMEMALLOC;

    /// <summary>sizeof(struct vmap_area) on x86-64: the "vmap_area" cache's object size.</summary>
    public const int SizeofVmapArea = 72;

    /// <summary>sizeof(struct vm_struct) on x86-64 with CONFIG_HAVE_ARCH_HUGE_VMALLOC: kzalloc'd (kmalloc-64).</summary>
    public const int SizeofVmStruct = 64;

    /// <summary>sizeof(struct page *).</summary>
    public const ulong SizeofPagePointer = 8;
}
