using Microsoft.Extensions.Logging;
using MmSim.Kernel;

namespace MmSim.Vm;

/// <summary>
/// struct mm_struct: one address space. Its VMAs live in <see cref="MmMt"/> (mm->mm_mt, behind
/// <see cref="VmaIterator"/>); its page tables in <see cref="Pgd"/>. The kernel functions that act on it are spread
/// over files named after their kernel sources (Mmap.cs, VmaOps.cs, Mprotect.cs, Mremap.cs, Memory.cs, Fork.cs...).
/// The layout is top-down from <see cref="MmapBase"/> without randomization (as under <c>setarch -R</c>).
/// </summary>
public sealed partial class MmStruct
{
    /// <summary>RLIM_INFINITY.</summary>
    public const ulong RLIM_INFINITY = ulong.MaxValue;

    /// <summary>The stack gap mmap_base() leaves below TASK_SIZE: its minimum, 128 MiB (8 MiB stack rlimit).</summary>
    public const ulong MinGap = 128UL << 20;

    private readonly VmFault _vmf = new();

    internal MmStruct(VmSubsystem vm)
    {
        Vm = vm;
        Machine = vm.Machine;
        Log = vm.Machine.Log.Vm;
        MmapBase = K.PageAlign(TaskSize - MinGap);
        MmapLegacyBase = K.PageAlign(TaskSize / 3);
        MmMt = new VmaIterator(vm.MapleNodes, vm.Machine.Reports);
    }

    public VmSubsystem Vm { get; }

    public Machine Machine { get; }

    internal ILogger Log { get; }

    /// <summary>The task that owns this address space (mm->owner), for signals and tracepoints.</summary>
    public TaskStruct? Owner { get; internal set; }

    /// <summary>mm->mm_mt: the VMA tree.</summary>
    public VmaIterator MmMt { get; }

    /// <summary>The page tables.</summary>
    public PageTable Pgd { get; } = new();

    /// <summary>map_count: number of VMAs.</summary>
    public int MapCount { get; internal set; }

    /// <summary>total_vm in pages.</summary>
    public ulong TotalVm { get; internal set; }

    /// <summary>locked_vm in pages.</summary>
    public ulong LockedVm { get; internal set; }

    /// <summary>data_vm (private writable, not stack) in pages.</summary>
    public ulong DataVm { get; internal set; }

    /// <summary>exec_vm in pages.</summary>
    public ulong ExecVm { get; internal set; }

    /// <summary>stack_vm in pages.</summary>
    public ulong StackVm { get; internal set; }

    /// <summary>TASK_SIZE: 2^47 - one page (4-level paging).</summary>
    public static ulong TaskSize => K.TASK_SIZE;

    /// <summary>mmap_base: the top of the top-down mmap area.</summary>
    public ulong MmapBase { get; }

    /// <summary>mmap_legacy_base (TASK_UNMAPPED_BASE): where the bottom-up fallback starts.</summary>
    public ulong MmapLegacyBase { get; }

    /// <summary>RLIMIT_AS in bytes (may_expand_vm()).</summary>
    public ulong RlimitAs { get; set; } = RLIM_INFINITY;

    /// <summary>RLIMIT_MEMLOCK in bytes (mlock_future_ok()); 8 MiB by default.</summary>
    public ulong RlimitMemlock { get; set; } = 8UL << 20;

    /// <summary>mm->map_count as the invariants see it.</summary>
    public IEnumerable<VmArea> Vmas => MmMt.Snapshot();

    /// <summary>True once exit_mmap() ran.</summary>
    public bool Dead { get; private set; }

    internal int MaxMapCount => Vm.MaxMapCount;

    // may_expand_vm(): RLIMIT_AS (RLIMIT_DATA is infinite by default and not modelled).
    internal bool MayExpandVm(VmFlags flags, ulong npages)
    {
        _ = flags;
        var limit = RlimitAs >> K.PAGE_SHIFT;
        return TotalVm + npages <= limit;
    }

    // vm_stat_account().
    internal void VmStatAccount(VmFlags flags, long npages)
    {
        TotalVm = (ulong)((long)TotalVm + npages);
        if (IsExecMapping(flags))
        {
            ExecVm = (ulong)((long)ExecVm + npages);
        }
        else if (IsStackMapping(flags))
        {
            StackVm = (ulong)((long)StackVm + npages);
        }
        else if (IsDataMapping(flags))
        {
            DataVm = (ulong)((long)DataVm + npages);
        }
    }

    private static bool IsExecMapping(VmFlags f) => (f & (VmFlags.VM_EXEC | VmFlags.VM_WRITE | VmFlags.VM_STARTGAP_FLAGS)) == VmFlags.VM_EXEC;

    private static bool IsStackMapping(VmFlags f) => (f & VmFlags.VM_STARTGAP_FLAGS) != 0;

    private static bool IsDataMapping(VmFlags f) => (f & (VmFlags.VM_WRITE | VmFlags.VM_SHARED | VmFlags.VM_STARTGAP_FLAGS)) == VmFlags.VM_WRITE;

    // security_vm_enough_memory_mm() with vm.overcommit_memory = 0 (OVERCOMMIT_GUESS): fail only a request larger
    // than all of RAM (there is no swap).
    internal int SecurityVmEnoughMemory(ulong pages) =>
        pages > (ulong)Machine.PageAlloc.TotalPages ? -(int)Errno.ENOMEM : 0;

    // mlock_future_ok(): VM_LOCKED growth within RLIMIT_MEMLOCK (no CAP_IPC_LOCK).
    internal bool MlockFutureOk(VmFlags flags, ulong bytes)
    {
        if ((flags & VmFlags.VM_LOCKED) == 0 || (Owner?.Capable(Capability.CAP_IPC_LOCK) ?? false))
        {
            return true;
        }

        var locked = (bytes >> K.PAGE_SHIFT) + LockedVm;
        return locked <= RlimitMemlock >> K.PAGE_SHIFT;
    }

    internal VmFault FaultState => _vmf;

    internal void MarkDead() => Dead = true;

    public override string ToString() => $"mm of {Owner?.Comm ?? "?"} ({MapCount} vmas)";
}
