namespace MmSim.Kernel;

/// <summary>x86-64 constants (arch/x86/include/asm/page_64_types.h, pgtable_64_types.h, include/linux/mmzone.h).</summary>
public static class K
{
    public const int PAGE_SHIFT = 12;
    public const ulong PAGE_SIZE = 1UL << PAGE_SHIFT;
    public const ulong PAGE_MASK = ~(PAGE_SIZE - 1);
    public const int MAX_PAGE_ORDER = 10;
    public const int NR_PAGE_ORDERS = MAX_PAGE_ORDER + 1;
    public const int PAGE_ALLOC_COSTLY_ORDER = 3;

    /// <summary>Start of the direct map of all physical memory (page_offset_base without KASLR).</summary>
    public const ulong PAGE_OFFSET = 0xffff888000000000UL;

    /// <summary>vmalloc_base without KASLR, 4-level paging.</summary>
    public const ulong VMALLOC_START = 0xffffc90000000000UL;

    /// <summary>VMALLOC_START + (32 TiB) - 1 (VMALLOC_SIZE_TB = 32).</summary>
    public const ulong VMALLOC_END = VMALLOC_START + (32UL << 40) - 1;

    /// <summary>TASK_SIZE_MAX for 4-level paging: 2^47 - one page.</summary>
    public const ulong TASK_SIZE = (1UL << 47) - PAGE_SIZE;

    /// <summary>CONFIG_DEFAULT_MMAP_MIN_ADDR.</summary>
    public const ulong DEFAULT_MMAP_MIN_ADDR = 65536;

    public const ulong SZ_4G = 1UL << 32;

    /// <summary>PAGE_ALIGN(x); wraps to 0 on overflow, as the kernel's macro does.</summary>
    public static ulong PageAlign(ulong x) => unchecked(x + PAGE_SIZE - 1) & PAGE_MASK;

    public static bool PageAligned(ulong x) => (x & ~PAGE_MASK) == 0;

    /// <summary>get_order(size): the smallest order whose block holds size bytes.</summary>
    public static int GetOrder(ulong size)
    {
        if (size <= PAGE_SIZE)
        {
            return 0;
        }

        var pages = (size - 1) >> PAGE_SHIFT;
        return 64 - System.Numerics.BitOperations.LeadingZeroCount(pages);
    }
}
