using System.Runtime.CompilerServices;
using MmSim.Kernel;

namespace MmSim.Mm;

/// <summary>
/// The BPF map memory helpers of kernel/bpf/syscall.c (v6.12). They live in Mm because the Bpf layer sits above
/// it. Failure is always 0 (NULL), never an OOM kill.
/// </summary>
public sealed class BpfMapArea
{
    private readonly VmallocAllocator _vmalloc;
    private readonly SlabAllocator _slab;

    internal BpfMapArea(VmallocAllocator vmalloc, SlabAllocator slab)
    {
        _vmalloc = vmalloc;
        _slab = slab;
    }

    /// <summary>
    /// memcg_bpf_enabled(): true unless the kernel booted with cgroup.memory=nobpf; bpf_memcg_flags() then adds
    /// __GFP_ACCOUNT.
    /// </summary>
    public bool MemcgBpfEnabled { get; set; } = true;

    /// <summary>bpf_map_area_alloc(size, numa_node): kmalloc (size ≤ 32 KiB) or vmalloc, zeroed and accounted.</summary>
    public ulong BpfMapAreaAlloc(ulong size, int numaNode, [CallerMemberName] string caller = "") =>
        Alloc(size, numaNode, false, caller);

    /// <summary>bpf_map_area_mmapable_alloc(size, numa_node): always vmalloc, SHMLBA aligned, VM_USERMAP.</summary>
    public ulong BpfMapAreaMmapableAlloc(ulong size, int numaNode, [CallerMemberName] string caller = "") =>
        Alloc(size, numaNode, true, caller);

    /// <summary>bpf_map_area_free(area): kvfree.</summary>
    public void BpfMapAreaFree(ulong area, [CallerMemberName] string caller = "") => _vmalloc.Kvfree(area, caller);

    /// <summary>bpf_memcg_flags(flags).</summary>
    public Gfp BpfMemcgFlags(Gfp flags) => MemcgBpfEnabled ? flags | Gfp.__GFP_ACCOUNT : flags;

    // __bpf_map_area_alloc(size, numa_node, mmapable). The caller string plays __builtin_return_address(0): the
    // static helper is inlined, so vmallocinfo names the map's allocation function.
    private ulong Alloc(ulong size, int numaNode, bool mmapable, string caller)
    {
        var gfp = BpfMemcgFlags(Gfp.__GFP_NOWARN | Gfp.__GFP_ZERO);
        var flags = VmStructFlags.None;
        ulong align = 1;

        if (size >= ulong.MaxValue)
        {
            return 0;
        }

        // kmalloc()'ed memory can't be mmap()'ed
        if (mmapable)
        {
            if (!K.PageAligned(size))
            {
                throw new KernelBugException($"__bpf_map_area_alloc: BUG_ON(!PAGE_ALIGNED({size}))");
            }

            align = VmallocConstants.SHMLBA;
            flags = VmStructFlags.VM_USERMAP;
        }
        else if (size <= K.PAGE_SIZE << K.PAGE_ALLOC_COSTLY_ORDER)
        {
            var area = _slab.Kmalloc(size, gfp | Gfp.GFP_USER | Gfp.__GFP_NORETRY, caller);
            if (area != 0)
            {
                return area;
            }
        }

        return _vmalloc.VmallocNodeRange(size, align, K.VMALLOC_START, K.VMALLOC_END,
            gfp | Gfp.GFP_KERNEL | Gfp.__GFP_RETRY_MAYFAIL, flags, numaNode, caller);
    }
}
