using MmSim.Kernel;
using MmSim.Mm;
using MmSim.Vm;

namespace MmSim.Bpf;

/// <summary>
/// struct vma_list (kernel/bpf/arena.c, 6.12): one entry per arena mmap, kmalloc'd, shared by every VMA made from
/// that mapping (split, fork, mremap copies) through vm_private_data and refcounted by <see cref="MmapCount"/>.
/// <see cref="Vma"/> is the VMA the mmap created; on 6.12.0 it can outlive that VMA (the fork/split bug).
/// </summary>
public sealed class ArenaVmaList : SlabObject
{
    /// <summary>sizeof(struct vma_list): a pointer, a list_head and an atomic_t, rounded (kmalloc-32).</summary>
    public const ulong Size = 32;

    internal ArenaVmaList(VmArea vma) => Vma = vma;

    /// <summary>vml->vma.</summary>
    public VmArea Vma { get; }

    /// <summary>vml->mmap_count.</summary>
    public int MmapCount { get; internal set; } = 1;

    public override string Describe() => $"vma_list at 0x{KernelAddress:x} (vma [{Vma.VmStart:x}-{Vma.VmEnd:x}))";
}

public sealed partial class BpfArena
{
    private readonly List<ArenaVmaList> _vmaList = [];

    /// <summary>arena->vma_list, head first (list_add inserts at the head).</summary>
    public IReadOnlyList<ArenaVmaList> VmaListHead => _vmaList;

    public override bool HasMapMmap => true;

    public override bool HasMapGetUnmappedArea => true;

    /// <summary>
    /// arena_get_unmapped_area(): pgoff ≠ 0 → -EINVAL; len &gt; 4 GiB → -E2BIG; once user_vm_start is set the
    /// length must be exactly the arena's (-E2BIG larger, -EINVAL otherwise) and addr its start (-EINVAL); then
    /// the mm's allocator is asked for 2×len and a result crossing a 4 GiB boundary is rounded up to it.
    /// </summary>
    public override long MapGetUnmappedArea(MmStruct mm, VfsFile file, ulong addr, ulong len, ulong pgoff, ulong flags)
    {
        ArgumentNullException.ThrowIfNull(mm);
        if (pgoff != 0)
        {
            return -(int)Errno.EINVAL;
        }

        if (len > K.SZ_4G)
        {
            return -(int)Errno.E2BIG;
        }

        if (UserVmStart != 0)
        {
            if (len > UserVmEnd - UserVmStart)
            {
                return -(int)Errno.E2BIG;
            }

            if (len != UserVmEnd - UserVmStart)
            {
                return -(int)Errno.EINVAL;
            }

            if (addr != UserVmStart)
            {
                return -(int)Errno.EINVAL;
            }
        }

        var ret = mm.MmGetUnmappedArea(file, addr, len * 2, 0, flags);
        if (ErrnoExtensions.IsErr(ret))
        {
            return ret;
        }

        var a = (ulong)ret;
        if ((a >> 32) == ((a + len - 1) >> 32))
        {
            return ret;
        }

        if (M.Reports.WarnOnOnce(UserVmStart != 0, "arena_get_unmapped_area", "arena->user_vm_start"))
        {
            return -(int)Errno.EFAULT; // checks at map creation time should prevent this
        }

        return (long)((a + K.SZ_4G - 1) & ~(K.SZ_4G - 1)); // round_up(ret, SZ_4G)
    }

    /// <summary>
    /// arena_map_mmap(): under arena->lock, the VMA must match a bound start (-EBUSY) and end (-EBUSY); a vma_list
    /// entry is kmalloc'd (-ENOMEM); the arena is bound to the VMA; VM_DONTEXPAND (and on 6.12.y VM_DONTCOPY) and
    /// the arena vm_ops are set. Nothing is populated.
    /// </summary>
    public override int MapMmap(VmArea vma)
    {
        ArgumentNullException.ThrowIfNull(vma);
        if (UserVmStart != 0 && UserVmStart != vma.VmStart)
        {
            return -(int)Errno.EBUSY;
        }

        if (UserVmEnd != 0 && UserVmEnd != vma.VmEnd)
        {
            return -(int)Errno.EBUSY;
        }

        if (M.Reports.WarnOnOnce(vma.VmEnd - vma.VmStart > K.SZ_4G || vma.VmPgoff != 0, "arena_map_mmap",
            "vma->vm_end - vma->vm_start > SZ_4G || vma->vm_pgoff"))
        {
            return -(int)Errno.EFAULT;
        }

        if (RememberVma(vma) != 0)
        {
            return -(int)Errno.ENOMEM;
        }

        UserVmStart = vma.VmStart;
        UserVmEnd = vma.VmEnd;
        var flags = VmFlags.VM_DONTEXPAND;
        if (M.Profile.ArenaVmaDontCopy)
        {
            flags |= VmFlags.VM_DONTCOPY;
        }

        vma.VmFlagsSet(flags);
        vma.VmOps = M.Profile.ArenaMaySplitRefuses || M.Profile.ArenaMremapRefuses
            ? ArenaVmOpsFixed.For(M.Profile)
            : ArenaVmOps.Instance;
        Tracepoints.bpf_arena_mmap(M.Log.Bpf, Id, vma.VmStart, vma.VmEnd);
        return 0;
    }

    // remember_vma(): kmalloc a vma_list entry with mmap_count 1 and add it at the head of the list.
    private int RememberVma(VmArea vma)
    {
        var vml = M.Slab.AllocObject(M.Slab.KmallocSlab(ArenaVmaList.Size, Gfp.GFP_KERNEL), Gfp.GFP_KERNEL,
            () => new ArenaVmaList(vma), "remember_vma");
        if (vml is null)
        {
            return -(int)Errno.ENOMEM;
        }

        vma.VmPrivateData = vml;
        _vmaList.Insert(0, vml);
        return 0;
    }

    // arena_vm_open(): another VMA shares the entry (split, fork or mremap copy).
    internal void VmOpen(VmArea vma)
    {
        VmOpenCalls++;
        var vml = (ArenaVmaList)vma.VmPrivateData!;
        vml.MmapCount++;
    }

    // arena_vm_close(): drop the entry's count; the last one unlinks and kfrees it.
    internal void VmClose(VmArea vma)
    {
        VmCloseCalls++;
        var vml = (ArenaVmaList)vma.VmPrivateData!;
        if (--vml.MmapCount != 0)
        {
            return;
        }

        _vmaList.Remove(vml);
        vma.VmPrivateData = null;
        M.Slab.FreeObject(vml, "arena_vm_close");
    }

    /// <summary>
    /// arena_vm_fault(): a page already in the kernel area is handed to the core (page_ref_add); with
    /// SEGV_ON_FAULT → VM_FAULT_SIGSEGV; otherwise the offset is inserted in the maple tree, a zeroed page charged
    /// to the memcg is allocated and mapped in the kernel area, each failure undoing the earlier steps.
    /// </summary>
    internal VmFaultResult VmFault(VmFault vmf)
    {
        var kaddr = KernVmStart + (uint)(vmf.Address & K.PAGE_MASK);
        var page = M.Vmalloc.VmallocToPage(kaddr);
        if (page < 0)
        {
            if ((MapFlags & BpfF.BPF_F_SEGV_ON_FAULT) != 0)
            {
                return VmFaultResult.VM_FAULT_SIGSEGV; // user space asked to segfault on pages BPF did not allocate
            }

            if (Mt.MtreeInsert(vmf.Pgoff, this, Gfp.GFP_KERNEL) != 0)
            {
                return VmFaultResult.VM_FAULT_SIGSEGV;
            }

            // bpf_map_alloc_pages(): accounted to the memcg of the process that created the arena.
            page = M.PageAlloc.AllocPage(Gfp.GFP_KERNEL | Gfp.__GFP_ZERO | Gfp.__GFP_ACCOUNT, "bpf_map_alloc_pages");
            if (page < 0)
            {
                Mt.MtreeErase(vmf.Pgoff);
                return VmFaultResult.VM_FAULT_SIGSEGV;
            }

            if (M.Vmalloc.VmAreaMapPages(KernVm, kaddr, kaddr + K.PAGE_SIZE, new ReadOnlySpan<long>(ref page)) != 0)
            {
                Mt.MtreeErase(vmf.Pgoff);
                M.PageAlloc.FreePages(page, 0, "arena_vm_fault");
                return VmFaultResult.VM_FAULT_SIGSEGV;
            }

            NrPages++;
            FaultAllocs++;
        }

        M.PageAlloc.GetPage(page); // page_ref_add(page, 1)
        vmf.Page = page;
        return VmFaultResult.None;
    }

    /// <summary>arena_vm_ops of 6.12.0: open, close, fault.</summary>
    internal class ArenaVmOps : VmOperations
    {
        public static ArenaVmOps Instance { get; } = new();

        private static BpfArena ArenaOf(VmArea vma) => (BpfArena)vma.VmFile!.PrivateData!;

        public override void Open(VmArea vma) => ArenaOf(vma).VmOpen(vma);

        public override void Close(VmArea vma) => ArenaOf(vma).VmClose(vma);

        public override VmFaultResult Fault(VmFault vmf) => ArenaOf(vmf.Vma).VmFault(vmf);
    }

    /// <summary>arena_vm_ops after stable fix 4fddde2a732d (6.12.y): also may_split and mremap, both -EINVAL.</summary>
    internal sealed class ArenaVmOpsFixed : ArenaVmOps
    {
        private static readonly ArenaVmOpsFixed Fixed = new();

        public static ArenaVmOps For(KernelProfile profile) => profile.ArenaMaySplitRefuses ? Fixed : Instance;

        // arena_vm_may_split()
        public override int MaySplit(VmArea vma, ulong addr) => -(int)Errno.EINVAL;

        // arena_vm_mremap()
        public override int Mremap(VmArea vma) => -(int)Errno.EINVAL;
    }
}
