using System.Runtime.CompilerServices;
using MmSim.Kernel;
using static MmSim.Mm.VmallocConstants;

namespace MmSim.Mm;

/// <summary>kvmalloc and kvfree (mm/util.c, v6.12): kmalloc first, vmalloc as the fallback.</summary>
public sealed partial class VmallocAllocator
{
    /// <summary>
    /// __kvmalloc_node_noprof(): try kmalloc; for size &gt; PAGE_SIZE that try gets __GFP_NOWARN, __GFP_NORETRY
    /// (unless the caller passed __GFP_RETRY_MAYFAIL) and loses __GFP_NOFAIL. No fallback when kmalloc succeeded,
    /// for size ≤ PAGE_SIZE, or for a non-blocking gfp; size &gt; INT_MAX → 0 with WARN_ON_ONCE unless __GFP_NOWARN;
    /// otherwise __vmalloc_node_range(size, 1, VMALLOC_START, VMALLOC_END, flags, VM_ALLOW_HUGE_VMAP).
    /// </summary>
    public ulong KvmallocNode(ulong size, Gfp flags, int node, [CallerMemberName] string caller = "")
    {
        var kmallocFlags = flags;
        if (size > K.PAGE_SIZE)
        {
            kmallocFlags |= Gfp.__GFP_NOWARN;
            if ((kmallocFlags & Gfp.__GFP_RETRY_MAYFAIL) == 0)
            {
                kmallocFlags |= Gfp.__GFP_NORETRY;
            }

            // nofail semantic is implemented by the vmalloc fallback
            kmallocFlags &= ~Gfp.__GFP_NOFAIL;
        }

        var ret = _slab.Kmalloc(size, kmallocFlags, caller);
        if (ret != 0 || size <= K.PAGE_SIZE)
        {
            return ret;
        }

        // non-sleeping allocations are not supported by vmalloc
        if (!flags.AllowsBlocking())
        {
            return 0;
        }

        // Don't even allow crazy sizes
        if (size > INT_MAX)
        {
            _reports.WarnOnOnce((flags & Gfp.__GFP_NOWARN) == 0, "__kvmalloc_node_noprof", "size > INT_MAX");
            return 0;
        }

        return VmallocNodeRange(size, 1, K.VMALLOC_START, K.VMALLOC_END, flags, VmStructFlags.VM_ALLOW_HUGE_VMAP, node, caller);
    }

    /// <summary>kvmalloc(size, flags).</summary>
    public ulong Kvmalloc(ulong size, Gfp flags, [CallerMemberName] string caller = "") =>
        KvmallocNode(size, flags, NUMA_NO_NODE, caller);

    /// <summary>kvzalloc(size, flags): kvmalloc with __GFP_ZERO.</summary>
    public ulong Kvzalloc(ulong size, Gfp flags, [CallerMemberName] string caller = "") =>
        KvmallocNode(size, flags | Gfp.__GFP_ZERO, NUMA_NO_NODE, caller);

    /// <summary>kvfree(addr): vfree for a vmalloc address (is_vmalloc_addr), kfree otherwise (NULL is fine).</summary>
    public void Kvfree(ulong addr, [CallerMemberName] string caller = "")
    {
        if (IsVmallocAddr(addr))
        {
            Vfree(addr, caller);
        }
        else
        {
            _slab.Kfree(addr, caller);
        }
    }
}
