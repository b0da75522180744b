using MmSim.Kernel;
using MmSim.MapleTree;
using MmSim.Vm;

namespace MmSim.Bpf;

/// <summary>The quick path of the arena's consistency check.</summary>
public sealed partial class BpfArena
{
    private const ulong PgoffLimit = K.SZ_4G >> K.PAGE_SHIFT; // ComputePgoff's values are below it

    // VMAs per vma_list entry, reused across checks.
    private Dictionary<ArenaVmaList, int>? _quickSharing;

    /// <summary>
    /// True only when <see cref="CheckInvariants"/> would report nothing, allocating nothing after the first call.
    /// The kernel pages are counted, not visited: none outside the 4 GiB window, as many as NrPages, and as many in
    /// the offsets the (valid) maple tree allocates, which the window maps one to one, as in the whole window; so
    /// every page's pgoff is in the tree. The VMAs and their PTEs are walked as the full check walks them. Keep
    /// both in step.
    /// </summary>
    internal override bool InvariantsHold()
    {
        var start = KernVm.Addr;
        var end = start + KernVm.GetVmAreaSize;
        if (end < start)
        {
            end = ulong.MaxValue; // as apply_to_existing_page_range's caller computes it
        }

        var window = KernVmStart;
        if (!K.PageAligned(start) || !K.PageAligned(window) || !K.PageAligned(UserVmStart) || window + K.SZ_4G < window)
        {
            return false;
        }

        // The pages, and none in the guard parts of the area outside the window (small ranges: cheap counts).
        var pages = M.Vmalloc.CountPresent(start, end);
        if (pages != NrPages || M.Vmalloc.CountPresent(start, Math.Min(end, window)) != 0 ||
            M.Vmalloc.CountPresent(Math.Max(start, window + K.SZ_4G), end) != 0)
        {
            return false;
        }

        var allocated = new AllocatedPages(this, start, end);
        if (!Mt.MtValid(ref allocated) || allocated.Pages != pages)
        {
            return false;
        }

        return VmasHold();
    }

    // The kernel pages present at the offsets of the tree's ranges: pgoff p is at window offset
    // ((p << PAGE_SHIFT) + (u32)user_vm_start) mod 4 GiB (ComputePgoff's inverse), so a range is at most two pieces.
    private struct AllocatedPages(BpfArena arena, ulong start, ulong end) : IMapleRangeVisitor<BpfArena?>
    {
        public long Pages;

        public bool Visit(ulong first, ulong last, BpfArena? entry)
        {
            if (first >= PgoffLimit)
            {
                return true;
            }

            last = Math.Min(last, PgoffLimit - 1);
            var from = ((first << K.PAGE_SHIFT) + (uint)arena.UserVmStart) & (K.SZ_4G - 1);
            var length = (last - first + 1) << K.PAGE_SHIFT;
            var to = Math.Min(from + length, K.SZ_4G);
            Pages += Count(from, to) + (from + length > K.SZ_4G ? Count(0, from + length - K.SZ_4G) : 0);
            return true;
        }

        private readonly long Count(ulong from, ulong to) =>
            arena.M.Vmalloc.CountPresent(Math.Max(start, arena.KernVmStart + from), Math.Min(end, arena.KernVmStart + to));
    }

    // The VMA half of CheckInvariants: user PTEs against the kernel area, vma_list counts and links.
    private bool VmasHold()
    {
        var sharing = _quickSharing ??= [];
        sharing.Clear();
        foreach (var task in M.Tasks.All)
        {
            if (task.Mm is not { } mm)
            {
                continue;
            }

            var w = mm.MmMt.WalkBounded();
            while (w.MoveNext())
            {
                var vma = w.Current;
                if (vma.VmFile?.PrivateData != this || vma.VmPrivateData is not ArenaVmaList vml)
                {
                    continue;
                }

                sharing[vml] = sharing.GetValueOrDefault(vml) + 1;
                if (!PtesHold(mm.Pgd, vma.VmStart, vma.VmEnd))
                {
                    return false;
                }
            }

            if (w.Overflowed)
            {
                return false;
            }
        }

        foreach (var vml in _vmaList)
        {
            if (vml.MmapCount != sharing.GetValueOrDefault(vml) || vml.Freed || vml.Vma.Freed)
            {
                return false;
            }
        }

        foreach (var (vml, _) in sharing)
        {
            if (!_vmaList.Contains(vml))
            {
                return false;
            }
        }

        return true;
    }

    // Every valid PTE that Pgd.Valid(start, end) yields maps what the kernel area holds at its offset.
    private bool PtesHold(PageTable pgd, ulong start, ulong end)
    {
        if (end <= start || pgd.NrPtePages == 0)
        {
            return true;
        }

        var lo = start >> (K.PAGE_SHIFT + 9);
        var hi = (end - 1) >> (K.PAGE_SHIFT + 9);
        if (hi - lo < (ulong)pgd.NrPtePages)
        {
            for (var key = lo; key <= hi; key++)
            {
                if (pgd.TableAt(key) is { } entries && !TableHolds(key, entries, start, end))
                {
                    return false;
                }
            }

            return true;
        }

        foreach (var (key, entries) in pgd.Tables())
        {
            if (key >= lo && key <= hi && !TableHolds(key, entries, start, end))
            {
                return false;
            }
        }

        return true;
    }

    // Pgd.Valid's walk starts at the page holding start and stops before end.
    private bool TableHolds(ulong key, Pte[] entries, ulong start, ulong end)
    {
        for (var i = 0; i < entries.Length; i++)
        {
            var addr = ((key << 9) + (ulong)i) << K.PAGE_SHIFT;
            if (entries[i].IsValid && addr >> K.PAGE_SHIFT >= start >> K.PAGE_SHIFT && addr < end &&
                entries[i].Pfn != M.Vmalloc.VmallocToPage(KernVmStart + (uint)addr))
            {
                return false;
            }
        }

        return true;
    }
}
