namespace MmSim.Vm;

/// <summary>vm_fault_t bits (include/linux/mm_types.h).</summary>
[Flags]
public enum VmFaultResult : uint
{
    /// <summary>Success: the handler returned a page in <see cref="VmFault.Page"/> for the core to map.</summary>
    None = 0,
    VM_FAULT_OOM = 0x000001,
    VM_FAULT_SIGBUS = 0x000002,
    VM_FAULT_MAJOR = 0x000004,
    VM_FAULT_HWPOISON = 0x000010,
    VM_FAULT_HWPOISON_LARGE = 0x000020,
    VM_FAULT_SIGSEGV = 0x000040,

    /// <summary>The handler installed the PTE itself (vm_insert_page and friends); nothing to map.</summary>
    VM_FAULT_NOPAGE = 0x000100,
    VM_FAULT_LOCKED = 0x000200,
    VM_FAULT_RETRY = 0x000400,
    VM_FAULT_FALLBACK = 0x000800,
    VM_FAULT_DONE_COW = 0x001000,
    VM_FAULT_NEEDDSYNC = 0x002000,
    VM_FAULT_COMPLETED = 0x004000,

    /// <summary>VM_FAULT_ERROR.</summary>
    VM_FAULT_ERROR = VM_FAULT_OOM | VM_FAULT_SIGBUS | VM_FAULT_SIGSEGV | VM_FAULT_HWPOISON | VM_FAULT_HWPOISON_LARGE | VM_FAULT_FALLBACK,
}

/// <summary>FAULT_FLAG_* (include/linux/mm_types.h).</summary>
[Flags]
public enum FaultFlags : uint
{
    None = 0,
    FAULT_FLAG_WRITE = 1 << 0,
    FAULT_FLAG_MKWRITE = 1 << 1,
    FAULT_FLAG_ALLOW_RETRY = 1 << 2,
    FAULT_FLAG_RETRY_NOWAIT = 1 << 3,
    FAULT_FLAG_KILLABLE = 1 << 4,
    FAULT_FLAG_TRIED = 1 << 5,
    FAULT_FLAG_USER = 1 << 6,
    FAULT_FLAG_REMOTE = 1 << 7,
    FAULT_FLAG_INSTRUCTION = 1 << 8,
    FAULT_FLAG_INTERRUPTIBLE = 1 << 9,
    FAULT_FLAG_UNSHARE = 1 << 10,
    FAULT_FLAG_ORIG_PTE_VALID = 1 << 11,
    FAULT_FLAG_VMA_LOCK = 1 << 12,
}

/// <summary>
/// struct vm_fault: what a <see cref="VmOperations.Fault"/> handler is given. One instance per mm is reused for
/// every fault (the kernel's lives on the stack), so a handler must not keep it.
/// </summary>
public sealed class VmFault
{
    internal VmFault()
    {
    }

    /// <summary>The faulting VMA.</summary>
    public VmArea Vma { get; internal set; } = null!;

    /// <summary>Page-aligned faulting address.</summary>
    public ulong Address { get; internal set; }

    /// <summary>The exact faulting address.</summary>
    public ulong RealAddress { get; internal set; }

    /// <summary>Logical page offset in the VMA's object: vm_pgoff + (address - vm_start) / PAGE_SIZE.</summary>
    public ulong Pgoff { get; internal set; }

    public FaultFlags Flags { get; internal set; }

    /// <summary>
    /// vmf->page: set by a handler that returns <see cref="VmFaultResult.None"/> to a page (PFN) on which it took one
    /// reference for the mapping; the core maps it (or copies it for a private write fault) and the PTE keeps that
    /// reference. -1 is NULL.
    /// </summary>
    public long Page { get; set; } = -1;

    /// <summary>vmf->cow_page: the private copy being prepared (read-only for handlers).</summary>
    public long CowPage { get; internal set; } = -1;

    public bool IsWrite => (Flags & FaultFlags.FAULT_FLAG_WRITE) != 0;

    internal void Reset(VmArea vma, ulong realAddress, FaultFlags flags)
    {
        Vma = vma;
        RealAddress = realAddress;
        Address = realAddress & Kernel.K.PAGE_MASK;
        Pgoff = vma.VmPgoff + ((Address - vma.VmStart) >> Kernel.K.PAGE_SHIFT);
        Flags = flags;
        Page = -1;
        CowPage = -1;
    }
}

/// <summary>
/// struct vm_operations_struct: the callbacks a VMA's owner (a driver, a BPF map, a test) gives the mm core. Override
/// only what the owner implements; a callback that is not overridden counts as the kernel's NULL pointer (it matters:
/// a VMA whose ops have no <see cref="Close"/> may be removed by a merge, a VMA without <see cref="Fault"/> gets
/// SIGBUS on a fault in a missing page).
/// </summary>
public abstract class VmOperations
{
    private static readonly Type[] OneVma = [typeof(VmArea)];

    protected VmOperations()
    {
        var t = GetType();
        HasOpen = Overrides(t, nameof(Open), OneVma);
        HasClose = Overrides(t, nameof(Close), OneVma);
        HasFault = Overrides(t, nameof(Fault), [typeof(VmFault)]);
        HasMaySplit = Overrides(t, nameof(MaySplit), [typeof(VmArea), typeof(ulong)]);
        HasMremap = Overrides(t, nameof(Mremap), OneVma);
        HasMprotect = Overrides(t, nameof(Mprotect), [typeof(VmArea), typeof(ulong), typeof(ulong), typeof(VmFlags)]);
        HasName = Overrides(t, nameof(Name), OneVma);
    }

    /// <summary>vma_dummy_vm_ops: no callbacks at all (what a file VMA starts with, and what a closed VMA gets).</summary>
    public static VmOperations Dummy { get; } = new DummyVmOperations();

    public bool HasOpen { get; }

    public bool HasClose { get; }

    public bool HasFault { get; }

    public bool HasMaySplit { get; }

    public bool HasMremap { get; }

    public bool HasMprotect { get; }

    public bool HasName { get; }

    /// <summary>->open(vma): a new VMA now refers to the object (split copy, fork copy, mremap copy).</summary>
    public virtual void Open(VmArea vma)
    {
    }

    /// <summary>->close(vma): the VMA is going away; called exactly once per VMA struct.</summary>
    public virtual void Close(VmArea vma)
    {
    }

    /// <summary>->fault(vmf): provide the page at vmf.Pgoff, or install the PTE and return VM_FAULT_NOPAGE.</summary>
    public virtual VmFaultResult Fault(VmFault vmf) => VmFaultResult.VM_FAULT_SIGBUS;

    /// <summary>->may_split(vma, addr): 0 to allow splitting at addr, or a negative errno.</summary>
    public virtual int MaySplit(VmArea vma, ulong addr) => 0;

    /// <summary>->mremap(new_vma): 0 to accept a move, or a negative errno (the move is undone).</summary>
    public virtual int Mremap(VmArea vma) => 0;

    /// <summary>->mprotect(vma, start, end, newflags): 0 to accept, or a negative errno.</summary>
    public virtual int Mprotect(VmArea vma, ulong start, ulong end, VmFlags newflags) => 0;

    /// <summary>->name(vma): the name /proc/PID/maps shows for a VMA without a file, or null.</summary>
    public virtual string? Name(VmArea vma) => null;

    private static bool Overrides(Type t, string name, Type[] args)
    {
        var m = t.GetMethod(name, args);
        return m is not null && m.DeclaringType != typeof(VmOperations);
    }

    private sealed class DummyVmOperations : VmOperations
    {
    }
}
