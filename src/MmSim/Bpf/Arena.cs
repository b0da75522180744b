using MmSim.Kernel;
using MmSim.MapleTree;
using MmSim.Mm;

namespace MmSim.Bpf;

/// <summary>
/// struct bpf_arena (kernel/bpf/arena.c, Linux 6.12): a sparse region of up to 4 GiB shared by BPF programs and
/// user space. The kernel side is a VM_SPARSE vm_area of KERN_VM_SZ whose usable 4 GiB starts at
/// <see cref="KernVmStart"/>; page offsets are allocated in a maple tree (first fit); user VMAs are tracked in
/// <see cref="VmaListHead"/> (refcounted entries). The mmap side is in Arena.Mmap.cs, the kfuncs in
/// Arena.Kfuncs.cs, program accesses in Arena.Prog.cs.
/// </summary>
public sealed partial class BpfArena : BpfMap
{
    /// <summary>GUARD_SZ: 1 &lt;&lt; (bits of insn->off) = 64 KiB before v6.14 (6.12 has the plain value).</summary>
    public const ulong GUARD_SZ = 1UL << 16;

    /// <summary>KERN_VM_SZ = SZ_4G + GUARD_SZ.</summary>
    public const ulong KERN_VM_SZ = K.SZ_4G + GUARD_SZ;

    /// <summary>sizeof(struct bpf_arena) on x86-64 6.12 (struct bpf_map, two u64, a pointer, maple_tree, list_head, mutex).</summary>
    public const ulong SizeofBpfArena = 344;

    private BpfArena(BpfSubsystem bpf, MapCreateAttr attr, VmStruct kernVm, ulong structAddr)
        : base(bpf, attr)
    {
        KernVm = kernVm;
        StructAddr = structAddr;
        // mt_init_flags(&arena->mt, MT_FLAGS_ALLOC_RANGE): nodes from the maple_node slab.
        Mt = new MapleTree<BpfArena?>(MapleFlags.MT_FLAGS_ALLOC_RANGE, bpf.Machine.Vm.MapleNodes, reports: bpf.Machine.Reports);
    }

    /// <summary>arena->user_vm_start: map_extra, or the first mmap's start; never reset.</summary>
    public ulong UserVmStart { get; private set; }

    /// <summary>arena->user_vm_end.</summary>
    public ulong UserVmEnd { get; private set; }

    /// <summary>arena->kern_vm: the sparse kernel area (get_vm_area(KERN_VM_SZ, VM_SPARSE | VM_USERMAP)).</summary>
    public VmStruct KernVm { get; }

    /// <summary>The kernel address of the struct itself (bpf_map_area_alloc).</summary>
    public ulong StructAddr { get; }

    /// <summary>arena->mt: the allocated page offsets (entries are MT_ENTRY, here the arena itself).</summary>
    public MapleTree<BpfArena?> Mt { get; }

    /// <summary>bpf_arena_get_kern_vm_start(): kern_vm->addr + GUARD_SZ / 2.</summary>
    public ulong KernVmStart => KernVm.Addr + (GUARD_SZ / 2);

    /// <summary>page_cnt_max of arena_alloc_pages: (user_vm_end - user_vm_start) >> PAGE_SHIFT.</summary>
    public long PageCntMax => (long)((UserVmEnd - UserVmStart) >> K.PAGE_SHIFT);

    /// <summary>PROBE_MEM32 accesses that hit an absent page and were fixed up by the exception table.</summary>
    public long ProbeFaults { get; private set; }

    /// <summary>User faults that allocated a new page (arena_vm_fault's allocation path).</summary>
    public long FaultAllocs { get; private set; }

    /// <summary>Pages currently mapped in the kernel area (the <c>stat arena_pages</c> counter).</summary>
    public long NrPages { get; private set; }

    internal Machine M => Bpf.Machine;

    /// <summary>arena_map_ops.map_alloc = arena_map_alloc.</summary>
    internal static int ArenaMapAlloc(BpfSubsystem bpf, MapCreateAttr attr, bool jitSupportsArena, out BpfMap? map)
    {
        map = null;
        if (!jitSupportsArena)
        {
            return -(int)Errno.EOPNOTSUPP; // !bpf_jit_supports_arena()
        }

        if (attr.KeySize != 0 || attr.ValueSize != 0 || attr.MaxEntries == 0 ||
            (attr.MapFlags & BpfF.BPF_F_MMAPABLE) == 0 ||
            (attr.MapFlags & ~(BpfF.BPF_F_SEGV_ON_FAULT | BpfF.BPF_F_MMAPABLE | BpfF.BPF_F_NO_USER_CONV)) != 0)
        {
            return -(int)Errno.EINVAL;
        }

        if ((attr.MapExtra & ~K.PAGE_MASK) != 0)
        {
            return -(int)Errno.EINVAL; // map_extra is the expected user VMA start
        }

        var vmRange = (ulong)attr.MaxEntries * K.PAGE_SIZE;
        if (vmRange > K.SZ_4G)
        {
            return -(int)Errno.E2BIG;
        }

        if ((attr.MapExtra >> 32) != (unchecked(attr.MapExtra + vmRange - 1) >> 32))
        {
            return -(int)Errno.ERANGE; // the user VMA must not cross a 4 GiB boundary
        }

        var m = bpf.Machine;
        var kernVm = m.Vmalloc.GetVmArea(KERN_VM_SZ, VmStructFlags.VM_SPARSE | VmStructFlags.VM_USERMAP, "arena_map_alloc");
        if (kernVm is null)
        {
            return -(int)Errno.ENOMEM;
        }

        var numa = (attr.MapFlags & BpfF.BPF_F_NUMA_NODE) != 0 ? (int)attr.NumaNode : BpfF.NUMA_NO_NODE;
        var addr = m.BpfMapArea.BpfMapAreaAlloc(SizeofBpfArena, numa, "arena_map_alloc");
        if (addr == 0)
        {
            m.Vmalloc.FreeVmArea(kernVm);
            return -(int)Errno.ENOMEM;
        }

        var arena = new BpfArena(bpf, attr, kernVm, addr);
        arena.UserVmStart = attr.MapExtra;
        if (arena.UserVmStart != 0)
        {
            arena.UserVmEnd = arena.UserVmStart + vmRange;
        }

        Tracepoints.bpf_arena_alloc(m.Log.Bpf, arena.MaxEntries, arena.MapFlags, arena.MapExtra, arena.KernVmStart);
        map = arena;
        return 0;
    }

    /// <summary>compute_pgoff(): (u32)(uaddr - (u32)user_vm_start) >> PAGE_SHIFT, in 32-bit arithmetic.</summary>
    public long ComputePgoff(ulong uaddr) => (long)(unchecked((uint)(uaddr - (uint)UserVmStart)) >> K.PAGE_SHIFT);

    /// <summary>arena_map_free(): free every page still in the kernel area, the area, the tree and the struct.</summary>
    public override void MapFree()
    {
        if (M.Reports.WarnOnOnce(_vmaList.Count != 0, "arena_map_free", "!list_empty(&arena->vma_list)"))
        {
            return;
        }

        // apply_to_existing_page_range(&init_mm, kern_vm_start, KERN_VM_SZ - GUARD_SZ, existing_page_cb)
        M.Vmalloc.ApplyToExistingPageRange(KernVmStart, KERN_VM_SZ - GUARD_SZ, (_, pfn) =>
        {
            M.PageAlloc.FreePages(pfn, 0, "existing_page_cb");
            NrPages--;
            return 0;
        });
        M.Vmalloc.FreeVmArea(KernVm);
        Mt.MtreeDestroy();
        M.BpfMapArea.BpfMapAreaFree(StructAddr, "arena_map_free");
        Tracepoints.bpf_arena_free(M.Log.Bpf, Id);
    }

    /// <summary>arena_map_mem_usage(): 0 (fdinfo shows memlock: 0).</summary>
    public override ulong MapMemUsage() => 0;

    /// <summary>arena_map_lookup_elem(): ERR_PTR(-EINVAL).</summary>
    public override long MapLookupElem(ReadOnlySpan<byte> key) => -(int)Errno.EINVAL;

    /// <summary>
    /// The verifier's arena rules when a program registers this map (6.12 verifier.c, used-map registration): a
    /// second arena → -EBUSY ("Only one arena per program"); no JIT support → -EOPNOTSUPP; user address not set →
    /// -EINVAL ("arena's user address must be set via map_extra or mmap()"). The CAP_BPF/CAP_PERFMON check (-EPERM)
    /// is not modelled (every scenario process is privileged).
    /// </summary>
    public override int CheckProgLoad(BpfProg prog)
    {
        ArgumentNullException.ThrowIfNull(prog);
        if (prog.Arena is not null)
        {
            return -(int)Errno.EBUSY;
        }

        if (Bpf.MapOpsOf(BpfMapType.BPF_MAP_TYPE_ARENA) is ArenaMapOps { JitSupportsArena: false })
        {
            return -(int)Errno.EOPNOTSUPP;
        }

        return UserVmStart == 0 ? -(int)Errno.EINVAL : 0;
    }

    /// <summary>Offsets allocated in the maple tree, as [first, last] ranges.</summary>
    public IEnumerable<(ulong First, ulong Last)> AllocatedRanges()
    {
        foreach (var r in Mt.MtDumpRanges())
        {
            if (r.Entry is not null)
            {
                yield return (r.First, r.Last);
            }
        }
    }
}

/// <summary>arena_map_ops: the per-type part (arena has no map_alloc_check; creating one needs CAP_BPF).</summary>
public sealed class ArenaMapOps : BpfMapOps
{
    public override BpfMapType MapType => BpfMapType.BPF_MAP_TYPE_ARENA;

    public override bool NeedsCapBpf => true;

    /// <summary>bpf_jit_supports_arena() (x86-64, arm64: true). A test may turn it off to see -EOPNOTSUPP.</summary>
    public bool JitSupportsArena { get; set; } = true;

    /// <summary>arena_map_alloc().</summary>
    public override int MapAlloc(BpfSubsystem bpf, MapCreateAttr attr, out BpfMap? map) =>
        BpfArena.ArenaMapAlloc(bpf, attr, JitSupportsArena, out map);
}

public sealed partial class BpfSubsystem
{
    // bpf_map_types[BPF_MAP_TYPE_ARENA] = arena_map_ops
    partial void RegisterArenaMapType() => RegisterMapType(new ArenaMapOps());
}
