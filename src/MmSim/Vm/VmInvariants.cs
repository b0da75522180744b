using MmSim.Kernel;
using MmSim.Mm;

namespace MmSim.Vm;

/// <summary>
/// The process layer's invariants, checked by <c>check</c> and by the property tests after every step: VMA trees
/// sorted, disjoint, page-aligned, non-empty and agreeing with the VMAs; map_count and total_vm; every PTE inside a
/// VMA; page mapcounts and references equal to the PTEs that map them (plus other holders); file references.
/// Quick path: VmInvariants.Quick.cs; keep both in step.
/// </summary>
internal static partial class VmInvariants
{
    public static Action<List<string>> Check(Machine machine)
    {
        // PTEs per pfn, reused across checks of this machine (cleared before each), allocated on first use: four
        // bytes per frame that a machine which is never checked (a 64 GiB boot) must not pay.
        int[]? ptes = null;
        return v => CheckAll(machine, v, ptes ??= new int[machine.PageAlloc.TotalPages]);
    }

    private static void CheckAll(Machine machine, List<string> v, int[] ptes)
    {
        Array.Clear(ptes);
        var fileRefs = new Dictionary<VfsFile, long>(ReferenceEqualityComparer.Instance);
        foreach (var task in machine.Tasks.All)
        {
            if (task.Mm is { } mm)
            {
                CheckMm(machine, task, mm, v, ptes, fileRefs);
            }

            if (task.Files is { } files)
            {
                foreach (var (fd, f) in files.Open)
                {
                    if (f.Freed)
                    {
                        v.Add($"{task}: fd {fd} points to a freed file {f.Path}");
                        continue;
                    }

                    fileRefs[f] = fileRefs.GetValueOrDefault(f) + 1;
                }
            }
        }

        CheckPages(machine.PageAlloc, v, ptes);
        foreach (var (f, refs) in fileRefs.OrderBy(p => p.Key.KernelAddress))
        {
            if (f.FCount < refs)
            {
                v.Add($"file {f.Path} has f_count {f.FCount} but {refs} fd and VMA references");
            }
            else if (f.FOp.ReferencesOnlyFromFdsAndVmas && f.FCount != refs)
            {
                v.Add($"file {f.Path} has f_count {f.FCount} but exactly {refs} fd and VMA references");
            }
        }
    }

    private static void CheckMm(Machine machine, TaskStruct task, MmStruct mm, List<string> v, int[] ptes,
        Dictionary<VfsFile, long> fileRefs)
    {
        ulong prevEnd = 0;
        var count = 0;
        ulong pages = 0;
        foreach (var (first, last, vma) in mm.MmMt.Ranges())
        {
            count++;
            var name = new VmaName(task, vma);
            if (vma.Freed)
            {
                v.Add($"{name} in the tree was freed");
                continue;
            }

            if (first != vma.VmStart || last != vma.VmEnd - 1)
            {
                v.Add($"{name} is stored as [{first:x}, {last:x}]");
            }

            if (vma.VmStart >= vma.VmEnd || !K.PageAligned(vma.VmStart) || !K.PageAligned(vma.VmEnd) || vma.VmEnd > K.TASK_SIZE)
            {
                v.Add($"{name} is empty, unaligned or beyond TASK_SIZE");
            }

            if (count > 1 && vma.VmStart < prevEnd)
            {
                v.Add($"{name} overlaps or precedes the VMA before it (ending {prevEnd:x})");
            }

            if (vma.VmMm != mm)
            {
                v.Add($"{name} belongs to another mm");
            }

            if (vma.Detached)
            {
                v.Add($"{name} is still marked detached");
            }

            if (vma.VmFile is { } f)
            {
                if (f.Freed)
                {
                    v.Add($"{name} maps a freed file {f.Path}");
                }
                else
                {
                    fileRefs[f] = fileRefs.GetValueOrDefault(f) + 1;
                }
            }

            prevEnd = vma.VmEnd;
            pages += vma.Pages;
        }

        foreach (var e in mm.MmMt.Validate())
        {
            v.Add($"{task}: mt_validate: {e}");
        }

        if (count != mm.MapCount)
        {
            v.Add($"{task}: map_count {mm.MapCount} but {count} VMAs");
        }

        if (pages != mm.TotalVm)
        {
            v.Add($"{task}: total_vm {mm.TotalVm} but the VMAs cover {pages} pages");
        }

        foreach (var (addr, pte) in mm.Pgd.All())
        {
            if (mm.MmMt.VmaLookup(addr) is null)
            {
                v.Add($"{task}: PTE at {addr:x} ({pte}) is outside every VMA");
            }

            if (!pte.IsSpecial && pte.Pfn != PageTable.ZERO_PFN)
            {
                if (!machine.PageAlloc.IsValidPfn(pte.Pfn))
                {
                    v.Add($"{task}: PTE at {addr:x} maps invalid pfn {pte.Pfn:x}");
                    continue;
                }

                ptes[pte.Pfn]++;
            }
        }
    }

    private static void CheckPages(PageAllocator pa, List<string> v, int[] ptes)
    {
        for (long pfn = 0; pfn < pa.TotalPages; pfn++)
        {
            var n = ptes[pfn];
            if (n == 0)
            {
                continue;
            }

            ref var f = ref pa.Frame(pfn);
            if (f.Has(PageFlags.Buddy) || pa.PageRefCount(pfn) <= 0)
            {
                v.Add($"pfn {pfn:x} is mapped by {n} PTEs but is free");
                continue;
            }

            if (f.Mapcount != n)
            {
                v.Add($"pfn {pfn:x} has mapcount {f.Mapcount} but {n} PTEs map it");
            }

            var refs = pa.PageRefCount(pfn);
            if (f.Has(PageFlags.Anon) ? refs != n : refs < n + 1)
            {
                v.Add($"pfn {pfn:x} ({(f.Has(PageFlags.Anon) ? "anon" : "file")}) has refcount {refs} with {n} PTEs");
            }
        }

        for (long pfn = 0; pfn < pa.TotalPages; pfn++)
        {
            if (pa.Frame(pfn).Mapcount != 0 && ptes[pfn] == 0)
            {
                v.Add($"pfn {pfn:x} has mapcount {pa.Frame(pfn).Mapcount} but no PTE maps it");
            }
        }
    }

    // A VMA's name in a violation, formatted only when a violation is reported.
    private readonly struct VmaName(TaskStruct task, VmArea vma)
    {
        public override string ToString() => $"{task}: vma [{vma.VmStart:x}-{vma.VmEnd:x})";
    }
}
