using MmSim.Mm;

namespace MmSim.Vm;

/// <summary>
/// A VMA as remap_vmalloc_range (mm/vmalloc.c) sees it: the Vm side of <see cref="IUserPageInserter"/>, so that an
/// ->mmap handler (a BPF array map's, a driver's) can call
/// <c>machine.Vmalloc.RemapVmallocRange(new VmaUserPageInserter(vma), kaddr, pgoff)</c>.
/// </summary>
public sealed class VmaUserPageInserter(VmArea vma) : IUserPageInserter
{
    /// <summary>The VMA.</summary>
    public VmArea Vma => vma;

    public ulong VmStart => vma.VmStart;

    public ulong VmEnd => vma.VmEnd;

    public ulong VmPgoff => vma.VmPgoff;

    /// <summary>vm_insert_page(vma, uaddr, page).</summary>
    public int VmInsertPage(ulong uaddr, long pfn) => vma.VmMm.VmInsertPage(vma, uaddr, pfn);

    /// <summary>vm_flags_set(vma, flags).</summary>
    public void VmFlagsSet(ulong flags) => vma.VmFlagsSet((VmFlags)flags);
}
