namespace MmSim.Vm;

/// <summary>vm_flags_t bits of a 64-bit x86 build (include/linux/mm.h).</summary>
[Flags]
public enum VmFlags : ulong
{
    VM_NONE = 0,
    VM_READ = 0x1,
    VM_WRITE = 0x2,
    VM_EXEC = 0x4,
    VM_SHARED = 0x8,
    VM_MAYREAD = 0x10,
    VM_MAYWRITE = 0x20,
    VM_MAYEXEC = 0x40,
    VM_MAYSHARE = 0x80,
    VM_GROWSDOWN = 0x100,
    VM_UFFD_MISSING = 0x200,
    VM_PFNMAP = 0x400,
    VM_UFFD_WP = 0x1000,
    VM_LOCKED = 0x2000,
    VM_IO = 0x4000,
    VM_SEQ_READ = 0x8000,
    VM_RAND_READ = 0x10000,
    VM_DONTCOPY = 0x20000,
    VM_DONTEXPAND = 0x40000,
    VM_LOCKONFAULT = 0x80000,
    VM_ACCOUNT = 0x100000,
    VM_NORESERVE = 0x200000,
    VM_HUGETLB = 0x400000,
    VM_SYNC = 0x800000,
    VM_ARCH_1 = 0x1000000,
    VM_WIPEONFORK = 0x2000000,
    VM_DONTDUMP = 0x4000000,
    VM_SOFTDIRTY = 0x8000000,
    VM_MIXEDMAP = 0x10000000,
    VM_HUGEPAGE = 0x20000000,
    VM_NOHUGEPAGE = 0x40000000,
    VM_MERGEABLE = 0x80000000,

    /// <summary>VM_SPECIAL: never merged; mremap growth refused for DONTEXPAND/PFNMAP.</summary>
    VM_SPECIAL = VM_IO | VM_DONTEXPAND | VM_PFNMAP | VM_MIXEDMAP,

    /// <summary>VM_ACCESS_FLAGS.</summary>
    VM_ACCESS_FLAGS = VM_READ | VM_WRITE | VM_EXEC,

    /// <summary>VM_LOCKED_MASK.</summary>
    VM_LOCKED_MASK = VM_LOCKED | VM_LOCKONFAULT,

    /// <summary>VM_STARTGAP_FLAGS (x86 has no shadow-stack VMAs here).</summary>
    VM_STARTGAP_FLAGS = VM_GROWSDOWN,
}

/// <summary>Helpers over <see cref="VmFlags"/> that the kernel spells as inline functions.</summary>
public static class VmFlagsExtensions
{
    public static bool Has(this VmFlags flags, VmFlags f) => (flags & f) != 0;

    /// <summary>is_cow_mapping(): private and may become writable.</summary>
    public static bool IsCowMapping(this VmFlags flags) => (flags & (VmFlags.VM_SHARED | VmFlags.VM_MAYWRITE)) == VmFlags.VM_MAYWRITE;

    /// <summary>vma_is_accessible() on flags: any of read, write, exec.</summary>
    public static bool IsAccessible(this VmFlags flags) => (flags & VmFlags.VM_ACCESS_FLAGS) != 0;
}

/// <summary>mmap/mprotect/mremap constants of x86-64 (include/uapi/asm-generic/mman*.h, linux/mman.h).</summary>
public static class Mman
{
    public const ulong PROT_NONE = 0x0;
    public const ulong PROT_READ = 0x1;
    public const ulong PROT_WRITE = 0x2;
    public const ulong PROT_EXEC = 0x4;
    public const ulong PROT_SEM = 0x8;
    public const ulong PROT_GROWSDOWN = 0x01000000;
    public const ulong PROT_GROWSUP = 0x02000000;

    public const ulong MAP_SHARED = 0x01;
    public const ulong MAP_PRIVATE = 0x02;
    public const ulong MAP_SHARED_VALIDATE = 0x03;
    public const ulong MAP_DROPPABLE = 0x08;
    public const ulong MAP_TYPE = 0x0f;
    public const ulong MAP_FIXED = 0x10;
    public const ulong MAP_ANONYMOUS = 0x20;
    public const ulong MAP_32BIT = 0x40;
    public const ulong MAP_GROWSDOWN = 0x0100;
    public const ulong MAP_DENYWRITE = 0x0800;
    public const ulong MAP_EXECUTABLE = 0x1000;
    public const ulong MAP_LOCKED = 0x2000;
    public const ulong MAP_NORESERVE = 0x4000;
    public const ulong MAP_POPULATE = 0x8000;
    public const ulong MAP_NONBLOCK = 0x10000;
    public const ulong MAP_STACK = 0x20000;
    public const ulong MAP_HUGETLB = 0x40000;
    public const ulong MAP_SYNC = 0x80000;
    public const ulong MAP_FIXED_NOREPLACE = 0x100000;
    public const ulong MAP_UNINITIALIZED = 0x4000000;

    /// <summary>LEGACY_MAP_MASK: the flags MAP_SHARED silently accepts.</summary>
    public const ulong LEGACY_MAP_MASK = MAP_SHARED | MAP_PRIVATE | MAP_FIXED | MAP_ANONYMOUS | MAP_DENYWRITE
        | MAP_EXECUTABLE | MAP_UNINITIALIZED | MAP_GROWSDOWN | MAP_LOCKED | MAP_NORESERVE | MAP_POPULATE
        | MAP_NONBLOCK | MAP_STACK | MAP_HUGETLB;

    public const ulong MREMAP_MAYMOVE = 1;
    public const ulong MREMAP_FIXED = 2;
    public const ulong MREMAP_DONTUNMAP = 4;

    /// <summary>DEFAULT_MAX_MAP_COUNT (sysctl vm.max_map_count).</summary>
    public const int DEFAULT_MAX_MAP_COUNT = 65530;

    /// <summary>PMD_SIZE on x86-64 (THP alignment of large anonymous mappings).</summary>
    public const ulong PMD_SIZE = 1UL << 21;

    /// <summary>calc_vm_prot_bits() without protection keys.</summary>
    public static VmFlags CalcVmProtBits(ulong prot) =>
        ((prot & PROT_READ) != 0 ? VmFlags.VM_READ : 0)
        | ((prot & PROT_WRITE) != 0 ? VmFlags.VM_WRITE : 0)
        | ((prot & PROT_EXEC) != 0 ? VmFlags.VM_EXEC : 0);

    /// <summary>calc_vm_flag_bits(): MAP_GROWSDOWN, MAP_LOCKED, MAP_SYNC, MAP_STACK.</summary>
    public static VmFlags CalcVmFlagBits(ulong flags) =>
        ((flags & MAP_GROWSDOWN) != 0 ? VmFlags.VM_GROWSDOWN : 0)
        | ((flags & MAP_LOCKED) != 0 ? VmFlags.VM_LOCKED : 0)
        | ((flags & MAP_SYNC) != 0 ? VmFlags.VM_SYNC : 0)
        | ((flags & MAP_STACK) != 0 ? VmFlags.VM_NOHUGEPAGE : 0);
}
