namespace MmSim.Vm;

/// <summary>mm/rmap.c and the anon_vma reuse rules of mm/vma.c: what decides whether anonymous VMAs can merge.</summary>
public sealed partial class MmStruct
{
    // anon_vma_compatible(a, b): adjacent, same file, flags equal but for access bits, contiguous pgoff.
    private static bool AnonVmaCompatible(VmArea a, VmArea b) =>
        a.VmEnd == b.VmStart
        && a.VmFile == b.VmFile
        && ((a.VmFlags ^ b.VmFlags) & ~(VmFlags.VM_ACCESS_FLAGS | VmFlags.VM_SOFTDIRTY)) == 0
        && b.VmPgoff == a.VmPgoff + ((b.VmStart - a.VmStart) >> Kernel.K.PAGE_SHIFT);

    // reusable_anon_vma(old, a, b)
    private static AnonVma? ReusableAnonVma(VmArea old, VmArea a, VmArea b) =>
        AnonVmaCompatible(a, b) && old.AnonVma is not null && old.AnonVmaChainLength == 1 ? old.AnonVma : null;

    // find_mergeable_anon_vma(): reuse a neighbour's anon_vma so later mprotects can merge again.
    private AnonVma? FindMergeableAnonVma(VmArea vma)
    {
        var next = MmMt.VmaLookup(vma.VmEnd);
        if (next is not null && next.VmStart == vma.VmEnd)
        {
            var a = ReusableAnonVma(next, vma, next);
            if (a is not null)
            {
                return a;
            }
        }

        var prev = MmMt.VmaPrev(vma);
        return prev is not null ? ReusableAnonVma(prev, prev, vma) : null;
    }

    // anon_vma_prepare(): give the VMA an anon_vma before its first anonymous page. 0, or -ENOMEM.
    internal int AnonVmaPrepare(VmArea vma)
    {
        if (vma.AnonVma is not null)
        {
            return 0;
        }

        vma.AnonVma = FindMergeableAnonVma(vma) ?? new AnonVma();
        vma.AnonVmaChainLength = 1;
        return 0;
    }

    // anon_vma_fork(child, parent): the child's chain is the parent's plus a new anon_vma of its own.
    private static void AnonVmaFork(VmArea vma, VmArea pvma)
    {
        if (pvma.AnonVma is null)
        {
            vma.AnonVma = null;
            vma.AnonVmaChainLength = 0;
            return;
        }

        vma.AnonVmaChainLength = pvma.AnonVmaChainLength + 1;
        vma.AnonVma = new AnonVma();
    }
}
