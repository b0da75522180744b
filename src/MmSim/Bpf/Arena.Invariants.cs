using MmSim.Kernel;

namespace MmSim.Bpf;

public sealed partial class BpfArena
{
    /// <summary>
    /// The arena's consistency (run by the <c>bpf</c> invariant): every kernel-area page lies in the usable 4 GiB
    /// and its offset is in the maple tree; the page count matches; every vma_list entry's count equals the live
    /// VMAs that share it; every user PTE in an arena VMA maps the page the kernel area holds at that offset.
    /// A dangling vml->vma (6.12.0) is reported too.
    /// </summary>
    public override void CheckInvariants(List<string> violations)
    {
        ArgumentNullException.ThrowIfNull(violations);
        long pages = 0;
        M.Vmalloc.ApplyToExistingPageRange(KernVm.Addr, KernVm.GetVmAreaSize, (kaddr, _) =>
        {
            pages++;
            if (kaddr < KernVmStart || kaddr >= KernVmStart + K.SZ_4G)
            {
                violations.Add($"arena {Id}: kernel page at 0x{kaddr:x} outside the 4 GiB window");
                return 0;
            }

            var pgoff = ComputePgoff(kaddr - KernVmStart);
            if (Mt.MtreeLoad((ulong)pgoff) is null)
            {
                violations.Add($"arena {Id}: kernel page at pgoff {pgoff} is not in the maple tree");
            }

            return 0;
        });
        if (pages != NrPages)
        {
            violations.Add($"arena {Id}: {pages} kernel pages mapped, counter says {NrPages}");
        }

        var sharing = new Dictionary<ArenaVmaList, int>();
        foreach (var task in M.Tasks.All)
        {
            if (task.Mm is not { } mm)
            {
                continue;
            }

            foreach (var vma in mm.Vmas)
            {
                if (vma.VmFile?.PrivateData != this || vma.VmPrivateData is not ArenaVmaList vml)
                {
                    continue;
                }

                sharing[vml] = sharing.GetValueOrDefault(vml) + 1;
                foreach (var addr in mm.Pgd.Valid(vma.VmStart, vma.VmEnd))
                {
                    var pte = mm.Pgd.Get(addr);
                    var kpage = M.Vmalloc.VmallocToPage(KernVmStart + (uint)addr);
                    if (pte.Pfn != kpage)
                    {
                        violations.Add($"arena {Id}: {task} maps pfn 0x{pte.Pfn:x} at 0x{addr:x}, the kernel area holds {(kpage < 0 ? "nothing" : $"0x{kpage:x}")}");
                    }
                }
            }
        }

        foreach (var vml in _vmaList)
        {
            var live = sharing.GetValueOrDefault(vml);
            if (vml.MmapCount != live)
            {
                violations.Add($"arena {Id}: vma_list entry 0x{vml.KernelAddress:x} has mmap_count {vml.MmapCount}, {live} VMAs share it");
            }

            if (vml.Freed)
            {
                violations.Add($"arena {Id}: freed vma_list entry 0x{vml.KernelAddress:x} still on the list");
            }

            if (vml.Vma.Freed)
            {
                violations.Add($"arena {Id}: vma_list entry 0x{vml.KernelAddress:x} points to a freed VMA (vml->vma dangles)");
            }
        }

        foreach (var vml in sharing.Keys)
        {
            if (!_vmaList.Contains(vml))
            {
                violations.Add($"arena {Id}: a VMA uses vma_list entry 0x{vml.KernelAddress:x}, which is not on the list");
            }
        }
    }

    /// <summary><c>show arena M</c> / <c>show map M</c>: binding, offsets allocated, pages faulted into each VMA.</summary>
    public override IEnumerable<string> ShowDetails()
    {
        yield return $"user_vm_start 0x{UserVmStart:x} user_vm_end 0x{UserVmEnd:x} kern_vm_start 0x{KernVmStart:x}";
        var flags = ((MapFlags & BpfF.BPF_F_SEGV_ON_FAULT) != 0 ? " segv_on_fault" : "") + ((MapFlags & BpfF.BPF_F_NO_USER_CONV) != 0 ? " no_user_conv" : "");
        yield return $"flags mmapable{flags} pages {NrPages} probe_faults {ProbeFaults}";
        var ranges = AllocatedRanges().Select(r => r.First == r.Last ? $"{r.First}" : $"{r.First}-{r.Last}").ToList();
        yield return "allocated pgoff: " + (ranges.Count == 0 ? "none" : string.Join(",", ranges));
        foreach (var task in M.Tasks.All)
        {
            if (task.Mm is not { } mm)
            {
                continue;
            }

            foreach (var vma in mm.Vmas)
            {
                if (vma.VmFile?.PrivateData != this)
                {
                    continue;
                }

                var faulted = new List<string>();
                foreach (var addr in mm.Pgd.Valid(vma.VmStart, vma.VmEnd))
                {
                    faulted.Add((vma.VmPgoff + ((addr - vma.VmStart) >> K.PAGE_SHIFT)).ToString(System.Globalization.CultureInfo.InvariantCulture));
                }

                var count = vma.VmPrivateData is ArenaVmaList vml ? vml.MmapCount : 0;
                yield return $"vma {task.Comm} [{vma.VmStart:x}-{vma.VmEnd:x}) mmap_count {count} faulted pgoff: {(faulted.Count == 0 ? "none" : string.Join(",", faulted))}";
            }
        }
    }
}
