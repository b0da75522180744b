using System.Runtime.InteropServices;
using MmSim.Kernel;
using MmSim.MapleTree;
using MmSim.Mm;

namespace MmSim.Vm;

/// <summary>The quick path of the vm invariant.</summary>
internal static partial class VmInvariants
{
    /// <summary>
    /// True only when the full check (<see cref="Check"/>) would report nothing: the same conditions without the
    /// messages, allocation-free. Each VMA tree is walked once, by mt_validate's quick path
    /// (<see cref="MapleTree{T}.MtValid{TV}"/>), which hands the VMAs to the VMA checks as it reaches them. PTEs are found by scanning the PTE pages and placed by a
    /// binary search in the VMAs just verified sorted and disjoint (the full check looks each one up in the tree);
    /// only the frames some PTE maps are inspected, and the rest are known unmapped when the frames with a mapcount
    /// are exactly those (no unmapped frame has a mapcount: <see cref="FrameScan.NoneOutside"/>). Keep it in step with the full check.
    /// </summary>
    public static Func<bool> Quick(Machine machine)
    {
        QuickCheck? q = null; // its scratch is allocated on first use: a machine that is never checked pays nothing
        return () => (q ??= new QuickCheck(machine)).Holds();
    }

    private sealed class QuickCheck(Machine machine)
    {
        private readonly int[] _ptes = new int[machine.PageAlloc.TotalPages];
        private readonly List<long> _mapped = [];
        private ulong[]? _marks; // the mapped frames, one bit each; all clear between checks
        private readonly Dictionary<VfsFile, long> _fileRefs = new(ReferenceEqualityComparer.Instance);
        private ulong[] _starts = new ulong[16];
        private ulong[] _ends = new ulong[16];

        public bool Holds()
        {
            if (!FrameScan.Usable)
            {
                return false;
            }

            foreach (var pfn in _mapped)
            {
                _ptes[pfn] = 0;
            }

            _mapped.Clear();
            _fileRefs.Clear();
            var tasks = machine.Tasks.All;
            for (var t = 0; t < tasks.Count; t++)
            {
                var task = tasks[t];
                if (task.Mm is { } mm && !MmHolds(mm))
                {
                    return false;
                }

                if (task.Files is { } files)
                {
                    for (var fd = 0; fd < files.MaxFds; fd++)
                    {
                        if (files.Lookup(fd) is not { } f)
                        {
                            continue;
                        }

                        if (f.Freed)
                        {
                            return false;
                        }

                        CollectionsMarshal.GetValueRefOrAddDefault(_fileRefs, f, out _)++;
                    }
                }
            }

            return PagesHold(machine.PageAlloc) && FilesHold();
        }

        private bool MmHolds(MmStruct mm)
        {
            // One walk of the tree: mt_validate's conditions, and each VMA's checks as the walk reaches it.
            var vmas = new VmaVisitor(this, mm);
            if (!mm.MmMt.Tree.MtValid(ref vmas) || vmas.Count != mm.MapCount || vmas.Pages != mm.TotalVm)
            {
                return false;
            }

            var count = vmas.Count;
            var pa = machine.PageAlloc;
            foreach (var (key, entries) in mm.Pgd.Tables())
            {
                for (var i = 0; i < entries.Length; i++)
                {
                    // Skip a block of 16 entries none of which is valid, read with 8 vector loads.
                    if ((i & (PteScan.Block - 1)) == 0 && PteScan.Usable && i + PteScan.Block <= entries.Length &&
                        !PteScan.AnyValid(entries, i))
                    {
                        i += PteScan.Block - 1;
                        continue;
                    }

                    ref var pte = ref entries[i];
                    if (!pte.IsValid)
                    {
                        continue;
                    }

                    if (!InsideVma(((key << 9) + (ulong)i) << K.PAGE_SHIFT, count))
                    {
                        return false;
                    }

                    if (!pte.IsSpecial && pte.Pfn != PageTable.ZERO_PFN)
                    {
                        if (!pa.IsValidPfn(pte.Pfn))
                        {
                            return false;
                        }

                        if (_ptes[pte.Pfn]++ == 0)
                        {
                            _mapped.Add(pte.Pfn);
                        }
                    }
                }
            }

            return true;
        }

        // The checks of one VMA of the tree (the full check's loop over mm.MmMt.Ranges()); its bounds go to
        // _starts/_ends[index] for the PTE placement.
        private bool VmaHolds(MmStruct mm, ulong first, ulong last, VmArea? entry, int index, ulong prevEnd)
        {
            if (entry is not { } vma || vma.Freed || first != vma.VmStart || last != vma.VmEnd - 1 ||
                vma.VmStart >= vma.VmEnd || !K.PageAligned(vma.VmStart) || !K.PageAligned(vma.VmEnd) ||
                vma.VmEnd > K.TASK_SIZE || (index > 0 && vma.VmStart < prevEnd) || vma.VmMm != mm || vma.Detached)
            {
                return false;
            }

            if (vma.VmFile is { } f)
            {
                if (f.Freed)
                {
                    return false;
                }

                CollectionsMarshal.GetValueRefOrAddDefault(_fileRefs, f, out _)++;
            }

            if (index == _starts.Length)
            {
                Array.Resize(ref _starts, index * 2);
                Array.Resize(ref _ends, index * 2);
            }

            _starts[index] = vma.VmStart;
            _ends[index] = vma.VmEnd;
            return true;
        }

        private struct VmaVisitor(QuickCheck q, MmStruct mm) : IMapleRangeVisitor<VmArea?>
        {
            public int Count;
            public ulong Pages;
            private ulong _prevEnd;

            public bool Visit(ulong first, ulong last, VmArea? entry)
            {
                if (!q.VmaHolds(mm, first, last, entry, Count, _prevEnd))
                {
                    return false;
                }

                Count++;
                _prevEnd = entry!.VmEnd;
                Pages += entry.Pages;
                return true;
            }
        }

        // Whether addr lies in one of the first count VMAs (sorted, disjoint).
        private bool InsideVma(ulong addr, int count)
        {
            int lo = 0, hi = count - 1;
            while (lo <= hi)
            {
                var mid = (lo + hi) >>> 1;
                if (addr < _starts[mid])
                {
                    hi = mid - 1;
                }
                else if (addr >= _ends[mid])
                {
                    lo = mid + 1;
                }
                else
                {
                    return true;
                }
            }

            return false;
        }

        private bool PagesHold(PageAllocator pa)
        {
            foreach (var pfn in _mapped)
            {
                var n = _ptes[pfn];
                ref var f = ref pa.Frame(pfn);
                if (f.Has(PageFlags.Buddy) || f.Mapcount != n)
                {
                    return false;
                }

                var refs = pa.PageRefCount(pfn);
                if (refs <= 0 || (f.Has(PageFlags.Anon) ? refs != n : refs < n + 1))
                {
                    return false;
                }
            }

            // Every mapped frame has mapcount n > 0: no other frame may have one (the full check counts them).
            var marks = _marks ??= new ulong[(pa.TotalPages + 63) >> 6];
            foreach (var pfn in _mapped)
            {
                marks[pfn >> 6] |= 1UL << (int)(pfn & 63);
            }

            var none = FrameScan.NoneOutside(FrameScan.Frames(pa), marks, FrameScan.MapcountMask);
            foreach (var pfn in _mapped)
            {
                marks[pfn >> 6] = 0;
            }

            return none;
        }

        private bool FilesHold()
        {
            foreach (var (f, refs) in _fileRefs)
            {
                if (f.FCount < refs || (f.FOp.ReferencesOnlyFromFdsAndVmas && f.FCount != refs))
                {
                    return false;
                }
            }

            return true;
        }
    }
}
