using MmSim.Kernel;

namespace MmSim.Mm;

/// <summary>
/// The kernel page table (init_mm) for the vmalloc range: kernel virtual page to PFN. Stored like the hardware
/// table's last level: one 512-entry PTE page per 2 MiB of address space that holds a mapping, created on the
/// first mapping in it and dropped when it maps nothing. Lookups allocate nothing.
/// </summary>
internal sealed class VmallocPageTable
{
    private const int PtrsPerPte = 512;
    private const int PmdShift = K.PAGE_SHIFT + 9;

    // Emptied PTE pages kept for reuse (host memory only: an empty PTE page is indistinguishable from none).
    private const int MaxSparePtePages = 16;

    // PMD index -> PTE page; an entry holds pfn + 1 (0 is pte_none).
    private readonly Dictionary<ulong, PtePage> _ptePages = [];
    private readonly Stack<PtePage> _spare = new(MaxSparePtePages);

    /// <summary>Present PTEs.</summary>
    public long NrMapped { get; private set; }

    private sealed class PtePage
    {
        public readonly long[] Entries = new long[PtrsPerPte];
        public int Present;
    }

    /// <summary>The PFN mapped at the page holding <paramref name="addr"/>, or -1 (pte_none).</summary>
    public long Lookup(ulong addr)
    {
        if (!_ptePages.TryGetValue(addr >> PmdShift, out var p))
        {
            return -1;
        }

        return p.Entries[(int)((addr >> K.PAGE_SHIFT) & (PtrsPerPte - 1))] - 1;
    }

    /// <summary>set_pte_at() on an empty PTE; false (nothing changed) when a PTE is already present.</summary>
    public bool Set(ulong addr, long pfn)
    {
        var key = addr >> PmdShift;
        if (!_ptePages.TryGetValue(key, out var p))
        {
            p = _spare.Count > 0 ? _spare.Pop() : new PtePage();
            _ptePages.Add(key, p);
        }

        ref var e = ref p.Entries[(int)((addr >> K.PAGE_SHIFT) & (PtrsPerPte - 1))];
        if (e != 0)
        {
            return false;
        }

        e = pfn + 1;
        p.Present++;
        NrMapped++;
        return true;
    }

    /// <summary>ptep_get_and_clear(): the PFN that was mapped, or -1.</summary>
    public long Clear(ulong addr)
    {
        var key = addr >> PmdShift;
        if (!_ptePages.TryGetValue(key, out var p))
        {
            return -1;
        }

        ref var e = ref p.Entries[(int)((addr >> K.PAGE_SHIFT) & (PtrsPerPte - 1))];
        var old = e - 1;
        if (e != 0)
        {
            e = 0;
            NrMapped--;
            if (--p.Present == 0)
            {
                Drop(key, p);
            }
        }

        return old;
    }

    /// <summary>vunmap_range_noflush(): clear every PTE in [start, end).</summary>
    public void ClearRange(ulong start, ulong end)
    {
        if (end <= start || _ptePages.Count == 0)
        {
            return;
        }

        var firstKey = start >> PmdShift;
        var lastKey = (end - 1) >> PmdShift;
        if (Sparse(firstKey, lastKey))
        {
            foreach (var key in KeysIn(firstKey, lastKey))
            {
                ClearIn(key, start, end);
            }

            return;
        }

        for (var key = firstKey; key <= lastKey; key++)
        {
            ClearIn(key, start, end);
        }
    }

    /// <summary>Visit every present PTE in [start, end) in address order (apply_to_existing_page_range()).</summary>
    public void ForEachPresent(ulong start, ulong end, Action<ulong, long> visit)
    {
        if (end <= start || _ptePages.Count == 0)
        {
            return;
        }

        var firstKey = start >> PmdShift;
        var lastKey = (end - 1) >> PmdShift;
        if (Sparse(firstKey, lastKey))
        {
            foreach (var key in KeysIn(firstKey, lastKey))
            {
                VisitIn(key, start, end, visit);
            }

            return;
        }

        for (var key = firstKey; key <= lastKey; key++)
        {
            VisitIn(key, start, end, visit);
        }
    }

    /// <summary>
    /// Present PTEs in [start, end), allocating nothing (invariant checks); with <paramref name="pages"/>,
    /// <paramref name="allLive"/> says whether each maps a valid frame with a reference.
    /// </summary>
    internal long CountPresent(ulong start, ulong end, PageAllocator? pages, out bool allLive)
    {
        allLive = true;
        if (end <= start || _ptePages.Count == 0)
        {
            return 0;
        }

        long n = 0;
        var firstKey = start >> PmdShift;
        var lastKey = (end - 1) >> PmdShift;
        if (Sparse(firstKey, lastKey))
        {
            foreach (var (key, p) in _ptePages)
            {
                if (key >= firstKey && key <= lastKey)
                {
                    n += CountIn(key, p, start, end, pages, ref allLive);
                }
            }

            return n;
        }

        for (var key = firstKey; key <= lastKey; key++)
        {
            if (_ptePages.TryGetValue(key, out var p))
            {
                n += CountIn(key, p, start, end, pages, ref allLive);
            }
        }

        return n;
    }

    private static long CountIn(ulong key, PtePage p, ulong start, ulong end, PageAllocator? pages, ref bool allLive)
    {
        long n = 0;
        var (first, last) = Span(key, start, end);
        for (var i = first; i <= last; i++)
        {
            var e = p.Entries[i];
            if (e != 0)
            {
                n++;
                if (pages is not null && (!pages.IsValidPfn(e - 1) || pages.PageRefCount(e - 1) <= 0))
                {
                    allLive = false;
                }
            }
        }

        return n;
    }

    // A range spanning many more 2 MiB blocks than there are PTE pages is walked through the table's keys.
    private bool Sparse(ulong firstKey, ulong lastKey) => lastKey - firstKey > (ulong)_ptePages.Count * 4;

    private List<ulong> KeysIn(ulong firstKey, ulong lastKey)
    {
        var keys = _ptePages.Keys.Where(k => k >= firstKey && k <= lastKey).ToList();
        keys.Sort();
        return keys;
    }

    // The entry indexes of PTE page key that lie in [start, end).
    private static (int First, int Last) Span(ulong key, ulong start, ulong end)
    {
        var first = key == start >> PmdShift ? (int)((start >> K.PAGE_SHIFT) & (PtrsPerPte - 1)) : 0;
        var last = key == (end - 1) >> PmdShift ? (int)(((end - 1) >> K.PAGE_SHIFT) & (PtrsPerPte - 1)) : PtrsPerPte - 1;
        return (first, last);
    }

    private void ClearIn(ulong key, ulong start, ulong end)
    {
        if (!_ptePages.TryGetValue(key, out var p))
        {
            return;
        }

        var (first, last) = Span(key, start, end);
        for (var i = first; i <= last; i++)
        {
            if (p.Entries[i] != 0)
            {
                p.Entries[i] = 0;
                p.Present--;
                NrMapped--;
            }
        }

        if (p.Present == 0)
        {
            Drop(key, p);
        }
    }

    // An emptied PTE page (every entry is pte_none again) leaves the table; a few are kept for the next mapping.
    private void Drop(ulong key, PtePage p)
    {
        _ptePages.Remove(key);
        if (_spare.Count < MaxSparePtePages)
        {
            _spare.Push(p);
        }
    }

    private void VisitIn(ulong key, ulong start, ulong end, Action<ulong, long> visit)
    {
        if (!_ptePages.TryGetValue(key, out var p))
        {
            return;
        }

        var (first, last) = Span(key, start, end);
        for (var i = first; i <= last; i++)
        {
            var e = p.Entries[i];
            if (e != 0)
            {
                visit((key << PmdShift) + ((ulong)i << K.PAGE_SHIFT), e - 1);
            }
        }
    }
}
