using MmSim.Kernel;
using MmSim.Mm;

namespace MmSim.Vm;

/// <summary>
/// struct vm_area_struct: one mapping of a process. Allocated from the <c>vm_area_struct</c> slab cache, so a freed
/// VMA is detectable (every dereference of a VMA pointer that may dangle goes through Kasan.Check).
/// The VMA covers [VmStart, VmEnd); VmPgoff is the page offset of VmStart in the mapped object.
/// </summary>
public sealed class VmArea : SlabObject
{
    internal VmArea(MmStruct mm)
    {
        VmMm = mm;
    }

    public ulong VmStart { get; internal set; }

    public ulong VmEnd { get; internal set; }

    /// <summary>Offset (in pages) within the mapped object; for private anonymous memory, VmStart / PAGE_SIZE.</summary>
    public ulong VmPgoff { get; internal set; }

    /// <summary>vm_flags; drivers set and clear bits in ->mmap (vm_flags_set / vm_flags_clear).</summary>
    public VmFlags VmFlags { get; set; }

    /// <summary>The mapped file (holds one file reference), or null for anonymous memory.</summary>
    public VfsFile? VmFile { get; internal set; }

    /// <summary>vm_private_data: the owner's cookie, copied to every VMA made from this one.</summary>
    public object? VmPrivateData { get; set; }

    /// <summary>vm_ops; null means anonymous memory (vma_is_anonymous()).</summary>
    public VmOperations? VmOps { get; set; }

    /// <summary>The address space this VMA belongs to.</summary>
    public MmStruct VmMm { get; internal set; }

    /// <summary>anon_vma: set at the first anonymous page (or inherited by split/fork/merge).</summary>
    internal AnonVma? AnonVma { get; set; }

    /// <summary>Length of anon_vma_chain (1 = list_is_singular: the VMA has not been through fork).</summary>
    internal int AnonVmaChainLength { get; set; }

    /// <summary>vma_mark_detached(): gathered for removal by munmap / MAP_FIXED.</summary>
    internal bool Detached { get; set; }

    /// <summary>Pages in the VMA (vma_pages()).</summary>
    public ulong Pages => (VmEnd - VmStart) >> K.PAGE_SHIFT;

    /// <summary>vma_is_anonymous(): no vm_ops.</summary>
    public bool IsAnonymous => VmOps is null;

    /// <summary>vm_flags_set().</summary>
    public void VmFlagsSet(VmFlags flags) => VmFlags |= flags;

    /// <summary>vm_flags_clear().</summary>
    public void VmFlagsClear(VmFlags flags) => VmFlags &= ~flags;

    public override string Describe() => $"vm_area_struct [{VmStart:x}-{VmEnd:x}) at 0x{KernelAddress:x}";

    public override string ToString() => $"[{VmStart:x}-{VmEnd:x}) {VmFlags}";
}

/// <summary>
/// struct anon_vma: the reverse-map root of anonymous pages. MmSim keeps only what decides VMA merges (identity,
/// and whether a VMA's chain is singular); it is not slab-allocated.
/// </summary>
internal sealed class AnonVma
{
    private static int s_next;

    public AnonVma() => Id = Interlocked.Increment(ref s_next);

    public int Id { get; }

    public override string ToString() => $"anon_vma#{Id}";
}
