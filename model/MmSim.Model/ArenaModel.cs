namespace MmSim.Model;

/// <summary>One arena VMA of a model process: pages [Start, End) of the arena, sharing vma_list entry Entry.</summary>
public sealed record ArenaVmaM(int Start, int End, int Entry);

/// <summary>A model process: its arena VMAs (sorted), the arena pages it has PTEs for, whether it holds the map fd.</summary>
public sealed class ArenaProcM
{
    public List<ArenaVmaM> Vmas { get; } = [];

    public SortedSet<int> Ptes { get; } = [];

    public bool HasFd { get; set; } = true;

    public bool Covers(int pgoff) => Vmas.Exists(v => pgoff >= v.Start && pgoff < v.End);

    public ArenaProcM Clone()
    {
        var c = new ArenaProcM { HasFd = HasFd };
        c.Vmas.AddRange(Vmas);
        c.Ptes.UnionWith(Ptes);
        return c;
    }
}

/// <summary>
/// The obviously correct model of one bpf_arena bound by map_extra (Linux 6.12): which page offsets hold a page
/// (and its 8-byte words), the arena VMAs of each process with their PTEs, and the vma_list entries' counts.
/// Allocation is first fit from the lowest offset, a hint must be free in full; a user fault maps the existing
/// page, or SIGSEGVs with SEGV_ON_FAULT, or allocates a zero page; free zaps every process. <see cref="Fixed"/>
/// selects 6.12.y (no fork inheritance, no split) over 6.12.0 (both, with refcounted shared entries).
/// </summary>
public sealed class ArenaModel
{
    public const int Pages = 16;
    public const int EINVAL = 22;
    public const int EBADF = 9;

    public ArenaModel(bool segvOnFault, bool fixedProfile)
    {
        SegvOnFault = segvOnFault;
        Fixed = fixedProfile;
    }

    public bool SegvOnFault { get; }

    public bool Fixed { get; }

    /// <summary>Allocated offsets and their non-zero words (word index 0..511).</summary>
    public SortedDictionary<int, Dictionary<int, ulong>> Data { get; private set; } = [];

    public SortedDictionary<string, ArenaProcM> Procs { get; private set; } = new(StringComparer.Ordinal);

    /// <summary>vma_list entries: id → mmap_count (entries at 0 are gone).</summary>
    public SortedDictionary<int, int> Entries { get; private set; } = [];

    public int NextEntry { get; private set; } = 1;

    public int NextProc { get; set; } = 1;

    /// <summary>The last syscall result (0 or a negative errno) or kfunc return (a pgoff, or -1 for NULL).</summary>
    public long Result { get; set; }

    /// <summary>The last access: a value, or a SIGSEGV.</summary>
    public ulong Value { get; set; }

    public bool Segv { get; set; }

    public ArenaModel Clone()
    {
        var c = new ArenaModel(SegvOnFault, Fixed)
        {
            Data = new SortedDictionary<int, Dictionary<int, ulong>>(Data.ToDictionary(kv => kv.Key, kv => new Dictionary<int, ulong>(kv.Value))),
            Procs = new SortedDictionary<string, ArenaProcM>(Procs.ToDictionary(kv => kv.Key, kv => kv.Value.Clone()), StringComparer.Ordinal),
            Entries = new SortedDictionary<int, int>(Entries),
            NextEntry = NextEntry,
            NextProc = NextProc,
        };
        return c;
    }

    /// <summary>mmap(Base, 16 pages, rw, MAP_SHARED|MAP_FIXED, fd): replaces what the process had there.</summary>
    public void Mmap(string proc)
    {
        var p = Procs[proc];
        if (!p.HasFd)
        {
            Result = -EBADF;
            return;
        }

        foreach (var v in p.Vmas)
        {
            Entries[v.Entry]--;
        }

        p.Vmas.Clear();
        p.Ptes.Clear();
        p.Vmas.Add(new ArenaVmaM(0, Pages, NextEntry));
        Entries[NextEntry++] = 1;
        Result = 0;
    }

    /// <summary>munmap of pages [start, start + n): 6.12.y refuses any split (-EINVAL, nothing changes).</summary>
    public void Munmap(string proc, int start, int n)
    {
        var p = Procs[proc];
        var end = start + n;
        var hit = p.Vmas.Where(v => v.Start < end && v.End > start).ToList();
        if (Fixed && hit.Exists(v => v.Start < start || v.End > end))
        {
            Result = -EINVAL;
            return;
        }

        foreach (var v in hit)
        {
            p.Vmas.Remove(v);
            var remaining = 0;
            if (v.Start < start)
            {
                p.Vmas.Add(v with { End = start });
                remaining++;
            }

            if (v.End > end)
            {
                p.Vmas.Add(v with { Start = end });
                remaining++;
            }

            Entries[v.Entry] += remaining - 1;
        }

        p.Vmas.Sort((a, b) => a.Start.CompareTo(b.Start));
        p.Ptes.RemoveWhere(pg => pg >= start && pg < end);
        Result = 0;
    }

    /// <summary>fork: 6.12.y children get no arena VMA (VM_DONTCOPY); 6.12.0 children share the entries, without PTEs.</summary>
    public void Fork(string proc, string child)
    {
        var p = Procs[proc];
        var c = new ArenaProcM { HasFd = p.HasFd };
        if (!Fixed)
        {
            foreach (var v in p.Vmas)
            {
                c.Vmas.Add(v);
                Entries[v.Entry]++;
            }
        }

        Procs[child] = c;
        Result = 0;
    }

    public void Exit(string proc)
    {
        foreach (var v in Procs[proc].Vmas)
        {
            Entries[v.Entry]--;
        }

        Procs.Remove(proc);
        Result = 0;
    }

    public void Close(string proc)
    {
        var p = Procs[proc];
        Result = p.HasFd ? 0 : -EBADF;
        p.HasFd = false;
    }

    /// <summary>A user access of word <paramref name="word"/> of page <paramref name="pgoff"/>.</summary>
    public void Access(string proc, int pgoff, int word, bool write, ulong value)
    {
        var p = Procs[proc];
        Segv = false;
        Value = 0;
        if (!p.Covers(pgoff))
        {
            Segv = true;
            return;
        }

        if (!p.Ptes.Contains(pgoff))
        {
            if (!Data.ContainsKey(pgoff))
            {
                if (SegvOnFault)
                {
                    Segv = true;
                    return;
                }

                Data[pgoff] = [];
            }

            p.Ptes.Add(pgoff);
        }

        if (write)
        {
            Data[pgoff][word] = value;
        }
        else
        {
            Value = Data[pgoff].GetValueOrDefault(word);
        }
    }

    /// <summary>bpf_arena_alloc_pages: Result = the first pgoff, or -1 (NULL).</summary>
    public void Alloc(int hint, int cnt)
    {
        Result = -1;
        if (cnt > Pages)
        {
            return;
        }

        var start = -1;
        if (hint >= 0)
        {
            if (hint > Pages - cnt || Enumerable.Range(hint, cnt).Any(Data.ContainsKey))
            {
                return;
            }

            start = hint;
        }
        else
        {
            for (var s = 0; s + cnt <= Pages && start < 0; s++)
            {
                if (!Enumerable.Range(s, cnt).Any(Data.ContainsKey))
                {
                    start = s;
                }
            }

            if (start < 0)
            {
                return;
            }
        }

        for (var i = start; i < start + cnt; i++)
        {
            Data[i] = [];
        }

        Result = start;
    }

    /// <summary>bpf_arena_free_pages: clipped at the end; pages gone from the kernel and from every process.</summary>
    public void Free(int pgoff, int cnt)
    {
        var end = Math.Min(Pages, pgoff + cnt);
        for (var i = pgoff; i < end; i++)
        {
            Data.Remove(i);
            foreach (var p in Procs.Values)
            {
                p.Ptes.Remove(i);
            }
        }

        Result = 0;
    }

    /// <summary>A PROBE_MEM32 load: 0 from an absent page.</summary>
    public void Load(int pgoff, int word) => Value = Data.TryGetValue(pgoff, out var d) ? d.GetValueOrDefault(word) : 0;

    /// <summary>A PROBE_MEM32 store: dropped on an absent page.</summary>
    public void Store(int pgoff, int word, ulong value)
    {
        if (Data.TryGetValue(pgoff, out var d))
        {
            d[word] = value;
        }
    }

    /// <summary>The live vma_list counts, sorted.</summary>
    public List<int> LiveCounts() => Entries.Values.Where(c => c > 0).Order().ToList();
}
