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

    // PMD index -> PTE page; an entry holds pfn + 1 (0 is pte_none).
    private readonly Dictionary<ulong, PtePage> _ptePages = [];

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
            p = new PtePage();
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
                _ptePages.Remove(key);
            }
        }

        return old;
    }

    /// <summary>vunmap_range_noflush(): clear every PTE in [start, end).</summary>
    public void ClearRange(ulong start, ulong end)
    {
        var addr = start;
        while (addr < end)
        {
            var key = addr >> PmdShift;
            var next = Math.Min(end, (key + 1) << PmdShift);
            if (next <= addr)
            {
                next = end;
            }

            if (_ptePages.ContainsKey(key))
            {
                for (var a = addr; a < next; a += K.PAGE_SIZE)
                {
                    Clear(a);
                }
            }

            addr = next;
        }
    }

    /// <summary>Visit every present PTE in [start, end) in address order (apply_to_existing_page_range()).</summary>
    public void ForEachPresent(ulong start, ulong end, Action<ulong, long> visit)
    {
        var addr = start;
        while (addr < end)
        {
            var key = addr >> PmdShift;
            var next = Math.Min(end, (key + 1) << PmdShift);
            if (next <= addr)
            {
                next = end;
            }

            if (_ptePages.TryGetValue(key, out var p))
            {
                for (var a = addr; a < next; a += K.PAGE_SIZE)
                {
                    var e = p.Entries[(int)((a >> K.PAGE_SHIFT) & (PtrsPerPte - 1))];
                    if (e != 0)
                    {
                        visit(a, e - 1);
                    }
                }
            }

            addr = next;
        }
    }

    /// <summary>Every present PTE, sorted by address (for invariant checks).</summary>
    public IEnumerable<(ulong Addr, long Pfn)> AllPresent()
    {
        foreach (var key in _ptePages.Keys.Order())
        {
            var p = _ptePages[key];
            for (var i = 0; i < PtrsPerPte; i++)
            {
                if (p.Entries[i] != 0)
                {
                    yield return ((key << PmdShift) + ((ulong)i << K.PAGE_SHIFT), p.Entries[i] - 1);
                }
            }
        }
    }
}
