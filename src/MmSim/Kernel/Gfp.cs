namespace MmSim.Kernel;

/// <summary>GFP flags (include/linux/gfp_types.h). Bit values follow a 6.12 x86-64 build without lockdep.</summary>
[Flags]
public enum Gfp : uint
{
    None = 0,
    __GFP_DMA = 0x01,
    __GFP_HIGHMEM = 0x02,
    __GFP_DMA32 = 0x04,
    __GFP_MOVABLE = 0x08,
    __GFP_RECLAIMABLE = 0x10,
    __GFP_HIGH = 0x20,
    __GFP_IO = 0x40,
    __GFP_FS = 0x80,
    __GFP_ZERO = 0x100,
    __GFP_DIRECT_RECLAIM = 0x400,
    __GFP_KSWAPD_RECLAIM = 0x800,
    __GFP_WRITE = 0x1000,
    __GFP_NOWARN = 0x2000,
    __GFP_RETRY_MAYFAIL = 0x4000,
    __GFP_NOFAIL = 0x8000,
    __GFP_NORETRY = 0x10000,
    __GFP_MEMALLOC = 0x20000,
    __GFP_COMP = 0x40000,
    __GFP_NOMEMALLOC = 0x80000,
    __GFP_HARDWALL = 0x100000,
    __GFP_THISNODE = 0x200000,
    __GFP_ACCOUNT = 0x400000,

    __GFP_RECLAIM = __GFP_DIRECT_RECLAIM | __GFP_KSWAPD_RECLAIM,
    GFP_ATOMIC = __GFP_HIGH | __GFP_KSWAPD_RECLAIM,
    GFP_KERNEL = __GFP_RECLAIM | __GFP_IO | __GFP_FS,
    GFP_KERNEL_ACCOUNT = GFP_KERNEL | __GFP_ACCOUNT,
    GFP_NOWAIT = __GFP_KSWAPD_RECLAIM,
    GFP_NOIO = __GFP_RECLAIM,
    GFP_NOFS = __GFP_RECLAIM | __GFP_IO,
    GFP_USER = __GFP_RECLAIM | __GFP_IO | __GFP_FS | __GFP_HARDWALL,
    GFP_HIGHUSER = GFP_USER | __GFP_HIGHMEM,
    GFP_HIGHUSER_MOVABLE = GFP_HIGHUSER | __GFP_MOVABLE,
}

/// <summary>gfpflags_allow_blocking and friends.</summary>
public static class GfpExtensions
{
    /// <summary>gfpflags_allow_blocking(): the caller may sleep (direct reclaim allowed).</summary>
    public static bool AllowsBlocking(this Gfp gfp) => (gfp & Gfp.__GFP_DIRECT_RECLAIM) != 0;

    public static bool Has(this Gfp gfp, Gfp flag) => (gfp & flag) == flag;
}
