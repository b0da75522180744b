namespace MmSim.Model;

/// <summary>
/// A reference model of mmap-able BPF array maps as user space sees them (Linux 6.12, kernel/bpf/syscall.c and
/// arraymap.c): fds, values, freeze, writable-mapping accounting, vm_ops open/close counts and the memory each map
/// holds. VMAs live in fixed slots (16 pages each) and never merge (VM_DONTEXPAND|VM_MIXEDMAP are VM_SPECIAL).
/// </summary>
public sealed class BpfMapModel
{
    public const long EPERM = 1, EBADF = 9, EACCES = 13, EBUSY = 16, EINVAL = 22, ENOENT = 2, E2BIG = 7;
    public const ulong PAGE = 4096;

    /// <summary>One page of header, then the values (elem_size 8), page aligned.</summary>
    public static ulong MapBytes(uint entries) => PAGE + ValuePages(entries) * PAGE;

    public static ulong ValuePages(uint entries) => ((entries * 8UL) + PAGE - 1) / PAGE;

    public sealed class MapM
    {
        public uint Entries;
        public bool RdonlyProg;
        public bool Frozen;
        public SortedDictionary<uint, ulong> Values = [];
        public long Opens;
        public long Closes;
        public long Mmaps;
        public bool Freed;

        public MapM Clone() => new()
        {
            Entries = Entries,
            RdonlyProg = RdonlyProg,
            Frozen = Frozen,
            Values = new(Values),
            Opens = Opens,
            Closes = Closes,
            Mmaps = Mmaps,
            Freed = Freed,
        };
    }

    /// <summary>A VMA: pages [First, First + Pages) of slot Slot, mapping value page Pgoff on.</summary>
    public sealed record VmaM(int Slot, int First, int Pages, int Map, ulong Pgoff, bool Write, bool MayWrite);

    public sealed class ProcM
    {
        public SortedDictionary<int, int> Fds = [];
        public List<VmaM> Vmas = [];

        public ProcM Clone() => new() { Fds = new(Fds), Vmas = [.. Vmas] };
    }

    public List<MapM> Maps { get; private set; } = [];

    public SortedDictionary<string, ProcM> Procs { get; private set; } = new(StringComparer.Ordinal);

    /// <summary>The last operation's result: a value, or -errno.</summary>
    public long Result { get; set; }

    public int Forks { get; set; }

    public BpfMapModel Clone() => new()
    {
        Maps = Maps.ConvertAll(m => m.Clone()),
        Procs = new(Procs.ToDictionary(p => p.Key, p => p.Value.Clone()), StringComparer.Ordinal),
        Result = Result,
        Forks = Forks,
    };

    /// <summary>VM_MAYWRITE VMAs of a map in every process: what writecnt must be.</summary>
    public long Writecnt(int map) => Procs.Values.Sum(p => p.Vmas.Count(v => v.Map == map && v.MayWrite));

    public int LiveVmas(int map) => Procs.Values.Sum(p => p.Vmas.Count(v => v.Map == map));

    /// <summary>A map is alive while an fd or a VMA refers to its file.</summary>
    public bool Alive(int map) => Procs.Values.Any(p => p.Fds.ContainsValue(map) || p.Vmas.Exists(v => v.Map == map));

    /// <summary>Bytes charged for the maps not yet freed.</summary>
    public ulong MapMemory() => (ulong)Enumerable.Range(0, Maps.Count).Where(i => !Maps[i].Freed)
        .Sum(i => (long)MapBytes(Maps[i].Entries));

    private static int LowestFreeFd(ProcM p)
    {
        var fd = 0;
        while (p.Fds.ContainsKey(fd))
        {
            fd++;
        }

        return fd;
    }

    private static int MapOf(ProcM p, int fd) => p.Fds.TryGetValue(fd, out var m) ? m : -1;

    // Frees maps nobody refers to any more.
    private void Collect()
    {
        for (var i = 0; i < Maps.Count; i++)
        {
            if (!Maps[i].Freed && !Alive(i))
            {
                Maps[i].Freed = true;
            }
        }
    }

    public long Create(ProcM p, uint entries, bool rdonlyProg)
    {
        Maps.Add(new MapM { Entries = entries, RdonlyProg = rdonlyProg });
        var fd = LowestFreeFd(p);
        p.Fds[fd] = Maps.Count - 1;
        return fd;
    }

    public long Update(ProcM p, int fd, uint key, ulong value)
    {
        var m = MapOf(p, fd);
        if (m < 0)
        {
            return -EBADF;
        }

        if (Maps[m].Frozen)
        {
            return -EPERM;
        }

        if (key >= Maps[m].Entries)
        {
            return -E2BIG;
        }

        Maps[m].Values[key] = value;
        return 0;
    }

    public long Lookup(ProcM p, int fd, uint key)
    {
        var m = MapOf(p, fd);
        if (m < 0)
        {
            return -EBADF;
        }

        return key >= Maps[m].Entries ? -ENOENT : (long)Maps[m].Values.GetValueOrDefault(key);
    }

    public long Freeze(ProcM p, int fd)
    {
        var m = MapOf(p, fd);
        if (m < 0)
        {
            return -EBADF;
        }

        if (Maps[m].Frozen)
        {
            return -EPERM;
        }

        if (Writecnt(m) != 0)
        {
            return -EBUSY;
        }

        Maps[m].Frozen = true;
        return 0;
    }

    public long Close(ProcM p, int fd)
    {
        if (!p.Fds.Remove(fd))
        {
            return -EBADF;
        }

        Collect();
        return 0;
    }

    /// <summary>mmap(slot base, pages, prot, MAP_SHARED|MAP_FIXED, fd, pgoff pages) into an empty slot.</summary>
    public long Mmap(ProcM p, int slot, int fd, int pages, ulong pgoff, bool write)
    {
        var m = MapOf(p, fd);
        if (m < 0)
        {
            return -EBADF;
        }

        var map = Maps[m];
        if (write && map.Frozen)
        {
            return -EPERM;
        }

        if (write && map.RdonlyProg)
        {
            return -EACCES;
        }

        if (pgoff + (ulong)pages > ValuePages(map.Entries))
        {
            return -EINVAL;
        }

        p.Vmas.Add(new VmaM(slot, 0, pages, m, pgoff, write, write));
        map.Mmaps++;
        return 0;
    }

    /// <summary>munmap of pages [first, first + count) of a slot: splits open, removed VMAs close.</summary>
    public long Munmap(ProcM p, int slot, int first, int count)
    {
        var end = first + count;
        var result = new List<VmaM>();
        foreach (var v in p.Vmas)
        {
            var vEnd = v.First + v.Pages;
            if (v.Slot != slot || vEnd <= first || v.First >= end)
            {
                result.Add(v);
                continue;
            }

            var map = Maps[v.Map];
            if (v.First < first)
            {
                map.Opens++; // __split_vma: the new VMA gets ->open
                result.Add(v with { Pages = first - v.First });
            }

            if (vEnd > end)
            {
                map.Opens++;
                result.Add(v with { First = end, Pages = vEnd - end, Pgoff = v.Pgoff + (ulong)(end - v.First) });
            }

            map.Closes++;
        }

        p.Vmas = result;
        Collect();
        return 0;
    }

    /// <summary>mprotect of one whole VMA to r or rw.</summary>
    public static long Mprotect(ProcM p, VmaM v, bool write)
    {
        if (write && !v.MayWrite)
        {
            return -EACCES;
        }

        var i = p.Vmas.IndexOf(v);
        p.Vmas[i] = v with { Write = write };
        return 0;
    }

    /// <summary>A user load or store at element offset <paramref name="elem"/> of a VMA: the value, or -1 for SIGSEGV.</summary>
    public long Access(VmaM v, int elem, bool write, ulong value, out bool segv)
    {
        segv = write && !v.Write;
        var key = (uint)((v.Pgoff * 512) + (ulong)elem);
        var map = Maps[v.Map];
        if (segv)
        {
            return 0;
        }

        if (write)
        {
            map.Values[key] = value;
            return 0;
        }

        return (long)map.Values.GetValueOrDefault(key);
    }

    public void Fork(ProcM parent, string child)
    {
        var c = parent.Clone();
        foreach (var v in c.Vmas)
        {
            Maps[v.Map].Opens++;
        }

        Procs[child] = c;
        Forks++;
    }

    public void Exit(string name)
    {
        var p = Procs[name];
        foreach (var v in p.Vmas)
        {
            Maps[v.Map].Closes++;
        }

        Procs.Remove(name);
        Collect();
    }

    public override string ToString() =>
        string.Join(" ", Procs.Select(p => $"{p.Key}[fds={string.Join(",", p.Value.Fds.Keys)} vmas={p.Value.Vmas.Count}]"))
        + $" maps={Maps.Count(m => !m.Freed)}";
}
