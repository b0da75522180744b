namespace MmSim.Model;

/// <summary>What backs a model VMA.</summary>
public enum VmBacking
{
    /// <summary>Private anonymous memory.</summary>
    Anon,

    /// <summary>MAP_SHARED|MAP_ANONYMOUS: a shmem file of the mapping's size.</summary>
    Shmem,

    /// <summary>A test device file (vm_ops with open/close/fault; ->mmap sets VM_DONTEXPAND).</summary>
    Device,
}

/// <summary>A VMA of the model: range, flags, object and the anon_vma facts that decide merges.</summary>
public sealed class VmaM
{
    public ulong Start;
    public ulong End;
    public ulong Flags;
    public ulong Pgoff;

    /// <summary>0: private anonymous; otherwise the id of a <see cref="FileM"/>.</summary>
    public int File;

    /// <summary>The mmap lineage of a device VMA (index into that device's lineages, 1-based); 0 otherwise.</summary>
    public int Lineage;

    /// <summary>0: no anon_vma.</summary>
    public int AnonVma;

    /// <summary>Length of the anon_vma chain (1: singular).</summary>
    public int Chain;

    public bool HasClose;
    public int MaySplitErr;

    public ulong Pages => (End - Start) >> 12;

    public VmaM Clone() => (VmaM)MemberwiseClone();

    public override string ToString() => $"[{Start:x}-{End:x}) f={Flags:x} pg={Pgoff:x} file={File} l={Lineage} av={AnonVma}/{Chain}";
}

/// <summary>A process of the model: its VMAs (sorted) and the values of its private pages.</summary>
public sealed class ProcM
{
    public string Name = "";
    public List<VmaM> Vmas = [];

    /// <summary>Value at offset 0 of each privately owned page (an anonymous page or a COW copy), by page address.</summary>
    public SortedDictionary<ulong, ulong> Priv = [];

    public ProcM Clone() => new() { Name = Name, Vmas = Vmas.ConvertAll(v => v.Clone()), Priv = new(Priv) };
}

/// <summary>A file of the model: shmem or a test device, with its page-cache values.</summary>
public sealed class FileM
{
    public int Id;
    public VmBacking Kind;
    public ulong SizePages;
    public int MaySplitErr;
    public SortedDictionary<ulong, ulong> Cache = [];

    /// <summary>Per lineage: (opens, closes). Index 0 is lineage 1.</summary>
    public List<(int Opens, int Closes)> Lineages = [];

    public FileM Clone() => new() { Id = Id, Kind = Kind, SizePages = SizePages, MaySplitErr = MaySplitErr, Cache = new(Cache), Lineages = [.. Lineages] };
}

/// <summary>
/// A reference model of the process layer (Linux 6.12 mm at the level user space sees): VMA lists with the kernel's
/// split and merge rules (anon_vma compatibility, VM_ACCOUNT, close hooks), mmap with MAP_FIXED replacement and the
/// top-down allocator, munmap, mprotect, mremap, fork, exit, and the values user reads see (private pages, COW,
/// shared page caches), plus open/close counts per device lineage. Written independently of src/ as plain list
/// manipulation; every operation works on a deep copy (<see cref="Clone"/>).
/// </summary>
public sealed class VmModel
{
    public const ulong PAGE = 4096;
    public const ulong VM_READ = 0x1, VM_WRITE = 0x2, VM_EXEC = 0x4, VM_SHARED = 0x8;
    public const ulong VM_MAYREAD = 0x10, VM_MAYWRITE = 0x20, VM_MAYEXEC = 0x40, VM_MAYSHARE = 0x80;
    public const ulong VM_PFNMAP = 0x400, VM_IO = 0x4000, VM_DONTEXPAND = 0x40000, VM_ACCOUNT = 0x100000, VM_NORESERVE = 0x200000;
    public const ulong VM_MIXEDMAP = 0x10000000, VM_HUGETLB = 0x400000;
    public const ulong VM_SPECIAL = VM_IO | VM_DONTEXPAND | VM_PFNMAP | VM_MIXEDMAP;
    public const ulong VM_ACCESS = VM_READ | VM_WRITE | VM_EXEC;
    public const ulong TASK_SIZE = (1UL << 47) - PAGE;
    public const ulong MMAP_MIN_ADDR = 65536;
    public const ulong MMAP_BASE = TASK_SIZE - (128UL << 20);

    public const long EPERM = -1, ENOMEM = -12, EACCES = -13, EFAULT = -14, EEXIST = -17, EINVAL = -22;
    public const int SIGBUS = 7, SIGSEGV = 11, SEGV_MAPERR = 1, SEGV_ACCERR = 2, BUS_ADRERR = 2;

    public SortedDictionary<string, ProcM> Procs = new(StringComparer.Ordinal);
    public SortedDictionary<int, FileM> Files = [];
    public int NextFile = 1;
    public int NextAnonVma = 1;
    public int NextProc = 1;

    /// <summary>The last syscall's result.</summary>
    public long Result;

    /// <summary>The last access: the value read, or the signal (signo, code, address).</summary>
    public ulong Value;
    public (int Signo, int Code, ulong Addr)? Signal;

    public override string ToString() =>
        string.Join(" ", Procs.Values.Select(p => $"{p.Name}:{p.Vmas.Count}vmas")) + (Signal is { } s ? $" sig{s.Signo}" : $" ret={Result}");

    public VmModel Clone()
    {
        var m = (VmModel)MemberwiseClone();
        m.Procs = new(StringComparer.Ordinal);
        foreach (var (k, v) in Procs)
        {
            m.Procs[k] = v.Clone();
        }

        m.Files = [];
        foreach (var (k, v) in Files)
        {
            m.Files[k] = v.Clone();
        }

        return m;
    }

    /// <summary>A device file (fd in every process).</summary>
    public int AddDevice(ulong sizePages, int maySplitErr)
    {
        var id = NextFile++;
        Files[id] = new FileM { Id = id, Kind = VmBacking.Device, SizePages = sizePages, MaySplitErr = maySplitErr };
        return id;
    }

    public void Spawn(string name) => Procs[name] = new ProcM { Name = name };

    private static ulong PageAlign(ulong x) => unchecked(x + PAGE - 1) & ~(PAGE - 1);

    // ---- lookups -------------------------------------------------------------------------------------------------

    private static VmaM? Lookup(ProcM p, ulong addr) => p.Vmas.Find(v => v.Start <= addr && addr < v.End);

    private static VmaM? FirstIntersecting(ProcM p, ulong start, ulong end) => p.Vmas.Find(v => v.End > start && v.Start < end);

    private static VmaM? PrevOf(ProcM p, ulong addr) => p.Vmas.LastOrDefault(v => v.End <= addr);

    private static VmaM? NextOf(ProcM p, ulong addr) => p.Vmas.Find(v => v.Start >= addr);

    private static void Insert(ProcM p, VmaM v)
    {
        var i = p.Vmas.FindIndex(x => x.Start > v.Start);
        p.Vmas.Insert(i < 0 ? p.Vmas.Count : i, v);
    }

    private void Opened(VmaM v)
    {
        if (v.HasClose)
        {
            var f = Files[v.File];
            var l = f.Lineages[v.Lineage - 1];
            f.Lineages[v.Lineage - 1] = (l.Opens + 1, l.Closes);
        }
    }

    private void Closed(VmaM v)
    {
        if (v.HasClose)
        {
            var f = Files[v.File];
            var l = f.Lineages[v.Lineage - 1];
            f.Lineages[v.Lineage - 1] = (l.Opens, l.Closes + 1);
        }
    }

    // ---- split and merge -----------------------------------------------------------------------------------------

    private long Split(ProcM p, VmaM v, ulong addr)
    {
        if (v.MaySplitErr != 0)
        {
            return v.MaySplitErr;
        }

        var upper = v.Clone();
        upper.Start = addr;
        upper.Pgoff = v.Pgoff + ((addr - v.Start) >> 12);
        v.End = addr;
        Insert(p, upper);
        Opened(upper);
        return 0;
    }

    private static bool MergeableAnon(int a1, int a2, VmaM? v) => ((a1 == 0 || a2 == 0) && (v is null || v.Chain == 1)) || a1 == a2;

    private sealed class Vmg
    {
        public VmaM? Prev, Next;
        public ulong Start, End, Pgoff, Flags;
        public int File, AnonVma;
    }

    private static bool CanLeft(Vmg g) =>
        g.Prev is { } pr && pr.End == g.Start && pr.Flags == g.Flags && pr.File == g.File
        && MergeableAnon(g.AnonVma, pr.AnonVma, pr) && pr.Pgoff + pr.Pages == g.Pgoff;

    private static bool CanRight(Vmg g, bool canLeft)
    {
        if (g.Next is not { } nx || g.End != nx.Start || nx.Flags != g.Flags || nx.File != g.File
            || !MergeableAnon(g.AnonVma, nx.AnonVma, nx) || nx.Pgoff != g.Pgoff + ((g.End - g.Start) >> 12))
        {
            return false;
        }

        return !canLeft || MergeableAnon(g.Prev!.AnonVma, nx.AnonVma, null);
    }

    private static void DupAnon(VmaM dst, VmaM src)
    {
        if (src.AnonVma != 0 && dst.AnonVma == 0)
        {
            dst.AnonVma = src.AnonVma;
            dst.Chain = src.Chain;
        }
    }

    // vma_merge_new_range()
    private static VmaM? MergeNew(ProcM p, Vmg g)
    {
        if ((g.Flags & VM_SPECIAL) != 0 || (g.Prev is null && g.Next is null))
        {
            return null;
        }

        var canLeft = CanLeft(g);
        var canRight = CanRight(g, canLeft);
        VmaM? target = null;
        ulong s = g.Start, e = g.End, pg = g.Pgoff;
        if (canRight)
        {
            e = g.Next!.End;
            target = g.Next;
            pg = g.Next.Pgoff - ((g.End - g.Start) >> 12);
        }

        if (canLeft)
        {
            s = g.Prev!.Start;
            target = g.Prev;
            pg = g.Prev.Pgoff;
            if (canRight && g.Next!.HasClose)
            {
                e = g.End;
            }
        }

        if (target is null)
        {
            return null;
        }

        if (g.Next is { } nx && target != nx && e == nx.End)
        {
            DupAnon(target, nx);
            p.Vmas.Remove(nx);
        }

        target.Start = s;
        target.End = e;
        target.Pgoff = pg;
        return target;
    }

    // vma_merge_existing_range()
    private static VmaM? MergeExisting(ProcM p, VmaM? prev, VmaM vma, ulong start, ulong end, ulong flags)
    {
        var g = new Vmg
        {
            Prev = prev,
            Start = start,
            End = end,
            Flags = flags,
            File = vma.File,
            AnonVma = vma.AnonVma,
            Pgoff = vma.Pgoff + ((start - vma.Start) >> 12),
        };
        var left = start == vma.Start;
        var right = end == vma.End;
        if ((flags & VM_SPECIAL) != 0 || (!left && !right))
        {
            return null;
        }

        var mergeLeft = left && CanLeft(g);
        VmaM? next = null;
        var mergeRight = false;
        if (right)
        {
            next = g.Next = p.Vmas.Find(v => v.Start >= vma.End);
            mergeRight = CanRight(g, mergeLeft);
        }

        if (!mergeLeft && !mergeRight)
        {
            return null;
        }

        var both = mergeLeft && mergeRight;
        var delVma = left && right;
        if (delVma && vma.HasClose)
        {
            return null;
        }

        var delNext = both;
        if (delNext && next!.HasClose)
        {
            delNext = false;
            mergeRight = false;
            both = false;
        }

        if (both)
        {
            prev!.End = next!.End;
            DupAnon(prev, next.AnonVma != 0 ? next : vma);
            p.Vmas.Remove(vma);
            p.Vmas.Remove(next);
            return prev;
        }

        if (mergeLeft)
        {
            prev!.End = end;
            DupAnon(prev, vma);
            if (delVma)
            {
                p.Vmas.Remove(vma);
            }
            else
            {
                vma.Pgoff += (end - vma.Start) >> 12;
                vma.Start = end;
            }

            return prev;
        }

        var pglen = (end - start) >> 12;
        DupAnon(next!, vma);
        if (delVma)
        {
            next!.Start = vma.Start;
            next.Pgoff -= pglen;
            p.Vmas.Remove(vma);
        }
        else
        {
            vma.End = start;
            next!.Start = start;
            next.Pgoff -= pglen;
        }

        return next;
    }

    // ---- munmap ---------------------------------------------------------------------------------------------------

    // vms_gather_munmap_vmas(): split the edges; the VMAs inside [start, end), or an error (splits stay).
    private long Gather(ProcM p, ulong start, ulong end, out List<VmaM> detached)
    {
        detached = [];
        var v = FirstIntersecting(p, start, end)!;
        if (start > v.Start)
        {
            var e = Split(p, v, start);
            if (e != 0)
            {
                return e;
            }
        }

        foreach (var x in p.Vmas.Where(x => x.End > start && x.Start < end).ToList())
        {
            if (x.End > end)
            {
                var e = Split(p, x, end);
                if (e != 0)
                {
                    return e;
                }
            }
        }

        detached = p.Vmas.Where(x => x.End > start && x.Start < end).ToList();
        return 0;
    }

    // Remove the gathered VMAs: PTEs (private values) go, each VMA is closed unless it already was.
    private void Remove(ProcM p, List<VmaM> detached, bool closed)
    {
        foreach (var v in detached)
        {
            p.Vmas.Remove(v);
            foreach (var a in p.Priv.Keys.Where(a => a >= v.Start && a < v.End).ToList())
            {
                p.Priv.Remove(a);
            }

            if (!closed)
            {
                Closed(v);
            }
        }
    }

    public long Munmap(ProcM p, ulong start, ulong len)
    {
        if ((start & (PAGE - 1)) != 0 || start > TASK_SIZE || len > TASK_SIZE - start)
        {
            return EINVAL;
        }

        var end = start + PageAlign(len);
        if (end == start)
        {
            return EINVAL;
        }

        if (FirstIntersecting(p, start, end) is null)
        {
            return 0;
        }

        var e = Gather(p, start, end, out var detached);
        if (e != 0)
        {
            return e;
        }

        Remove(p, detached, false);
        return 0;
    }

    // ---- mmap -----------------------------------------------------------------------------------------------------

    // unmapped_area_topdown() below mmap_base.
    private static long TopDown(ProcM p, ulong len)
    {
        var lo = MMAP_MIN_ADDR;
        var hi = MMAP_BASE - 1;
        for (var i = p.Vmas.Count; i >= 0; i--)
        {
            var gs = i == 0 ? 0 : p.Vmas[i - 1].End;
            var ge = i == p.Vmas.Count ? ulong.MaxValue : p.Vmas[i].Start - 1;
            if (i < p.Vmas.Count && p.Vmas[i].Start == 0)
            {
                continue;
            }

            if (gs > ge || gs > hi)
            {
                continue;
            }

            if (ge < lo)
            {
                break;
            }

            var l = Math.Max(gs, lo);
            var h = Math.Min(ge, hi);
            if (h - l >= len - 1)
            {
                return (long)(h + 1 - len);
            }
        }

        return ENOMEM;
    }

    /// <summary>mmap of <paramref name="kind"/> (device: <paramref name="file"/>), fixed or top-down.</summary>
    public long Mmap(ProcM p, ulong addr, ulong len, ulong prot, VmBacking kind, int file, bool isPrivate, bool isFixed,
        bool noReplace, ulong offPages)
    {
        len = PageAlign(len);
        var vmFlags = (prot & VM_ACCESS) | VM_MAYREAD | VM_MAYWRITE | VM_MAYEXEC;
        if (!isFixed)
        {
            var a = TopDown(p, len);
            if (a < 0)
            {
                return a;
            }

            addr = (ulong)a;
        }

        if (noReplace && FirstIntersecting(p, addr, addr + len) is not null)
        {
            return EEXIST;
        }

        ulong pgoff;
        switch (kind)
        {
            case VmBacking.Anon:
                pgoff = addr >> 12;
                break;
            case VmBacking.Shmem:
                pgoff = 0;
                vmFlags |= VM_SHARED | VM_MAYSHARE;
                break;
            default:
                pgoff = offPages;
                if (!isPrivate)
                {
                    vmFlags |= VM_SHARED | VM_MAYSHARE;
                }

                break;
        }

        var end = addr + len;
        var g = new Vmg { Start = addr, End = end, Flags = vmFlags, Pgoff = pgoff, File = kind == VmBacking.Device ? file : 0 };
        var detached = new List<VmaM>();
        if (FirstIntersecting(p, addr, end) is not null)
        {
            var e = Gather(p, addr, end, out detached);
            if (e != 0)
            {
                return e;
            }
        }

        g.Prev = PrevOf(p, addr);
        g.Next = p.Vmas.Find(v => v.Start >= end);
        if ((vmFlags & (VM_NORESERVE | VM_SHARED | VM_WRITE)) == VM_WRITE)
        {
            vmFlags |= VM_ACCOUNT;
            g.Flags = vmFlags;
        }

        // vms_clean_up_area(): the old VMAs are closed before the new ->mmap.
        foreach (var v in detached)
        {
            Closed(v);
        }

        Remove(p, detached, true);
        if (MergeNew(p, g) is not null)
        {
            return (long)addr;
        }

        var n = new VmaM { Start = addr, End = end, Flags = vmFlags, Pgoff = pgoff };
        if (kind == VmBacking.Device)
        {
            var f = Files[file];
            f.Lineages.Add((0, 0));
            n.File = file;
            n.Lineage = f.Lineages.Count;
            n.HasClose = true;
            n.MaySplitErr = f.MaySplitErr;
            n.Flags |= VM_DONTEXPAND;
        }
        else if (kind == VmBacking.Shmem)
        {
            var id = NextFile++;
            Files[id] = new FileM { Id = id, Kind = VmBacking.Shmem, SizePages = len >> 12 };
            n.File = id;
        }

        Insert(p, n);
        return (long)addr;
    }

    // ---- mprotect -------------------------------------------------------------------------------------------------

    private long MprotectFixup(ProcM p, ref VmaM? prev, VmaM vma, ulong start, ulong end, ulong newflags)
    {
        var old = vma.Flags;
        if (newflags == old)
        {
            prev = vma;
            return 0;
        }

        if ((newflags & VM_WRITE) != 0)
        {
            if ((old & (VM_ACCOUNT | VM_WRITE | VM_HUGETLB | VM_SHARED | VM_NORESERVE)) == 0)
            {
                newflags |= VM_ACCOUNT;
            }
        }
        else if ((old & VM_ACCOUNT) != 0 && vma.File == 0 && vma.AnonVma == 0)
        {
            newflags &= ~VM_ACCOUNT;
        }

        var res = MergeExisting(p, prev, vma, start, end, newflags);
        if (res is null)
        {
            if (vma.Start < start)
            {
                var e = Split(p, vma, start);
                if (e != 0)
                {
                    return e;
                }

                // The original is the upper part; keep working on it.
                vma = p.Vmas.Find(v => v.Start == start)!;
            }

            if (vma.End > end)
            {
                var e = Split(p, vma, end);
                if (e != 0)
                {
                    return e;
                }
            }

            res = vma;
        }

        prev = res;
        res.Flags = newflags;
        return 0;
    }

    public long Mprotect(ProcM p, ulong start, ulong len, ulong prot)
    {
        if ((start & (PAGE - 1)) != 0)
        {
            return EINVAL;
        }

        if (len == 0)
        {
            return 0;
        }

        len = PageAlign(len);
        var end = start + len;
        if (end <= start)
        {
            return ENOMEM;
        }

        if ((prot & ~(VM_ACCESS | 0x8UL)) != 0)
        {
            return EINVAL;
        }

        var vma = FirstIntersecting(p, start, end);
        if (vma is null || vma.Start > start)
        {
            return ENOMEM;
        }

        var prev = start > vma.Start ? vma : PrevOf(p, vma.Start);
        var nstart = start;
        var tmp = vma.Start;
        long err = 0;
        for (var v = vma; v is not null && v.Start < end; v = FirstIntersecting(p, tmp, end))
        {
            if (v.Start != tmp)
            {
                err = ENOMEM;
                break;
            }

            var newflags = (prot & VM_ACCESS) | (v.Flags & ~VM_ACCESS);
            if ((newflags & ~(newflags >> 4) & VM_ACCESS) != 0)
            {
                err = EACCES;
                break;
            }

            tmp = Math.Min(v.End, end);
            err = MprotectFixup(p, ref prev, v, nstart, tmp, newflags);
            if (err != 0)
            {
                break;
            }

            tmp = prev!.End;
            nstart = tmp;
        }

        if (err == 0 && tmp < end)
        {
            err = ENOMEM;
        }

        return err;
    }

    // ---- mremap ---------------------------------------------------------------------------------------------------

    private static long VmaToResize(ProcM p, ulong addr, ulong oldLen, ulong newLen, out VmaM? vma)
    {
        vma = Lookup(p, addr);
        if (vma is null)
        {
            return EFAULT;
        }

        if (oldLen == 0 && (vma.Flags & (VM_SHARED | VM_MAYSHARE)) == 0)
        {
            return EINVAL;
        }

        if (oldLen > vma.End - addr)
        {
            return EFAULT;
        }

        if (newLen == oldLen)
        {
            return 0;
        }

        if ((vma.Flags & (VM_DONTEXPAND | VM_PFNMAP)) != 0)
        {
            return EFAULT;
        }

        return 0;
    }

    private long MoveVma(ProcM p, VmaM vma, ulong oldAddr, ulong oldLen, ulong newLen, ulong newAddr)
    {
        if (vma.MaySplitErr != 0 && (vma.Start != oldAddr || vma.End != oldAddr + oldLen))
        {
            return vma.MaySplitErr;
        }

        var pgoff = vma.Pgoff + ((oldAddr - vma.Start) >> 12);
        if (vma.File == 0 && vma.AnonVma == 0)
        {
            pgoff = newAddr >> 12;
        }

        var g = new Vmg
        {
            Prev = PrevOf(p, newAddr),
            Next = NextOf(p, newAddr),
            Start = newAddr,
            End = newAddr + newLen,
            Pgoff = pgoff,
            Flags = vma.Flags,
            File = vma.File,
            AnonVma = vma.AnonVma,
        };
        if (MergeNew(p, g) is null)
        {
            var n = vma.Clone();
            n.Start = newAddr;
            n.End = newAddr + newLen;
            n.Pgoff = pgoff;
            Insert(p, n);
            Opened(n);
        }

        foreach (var a in p.Priv.Keys.Where(a => a >= oldAddr && a < oldAddr + oldLen).ToList())
        {
            p.Priv[newAddr + (a - oldAddr)] = p.Priv[a];
            p.Priv.Remove(a);
        }

        Munmap(p, oldAddr, oldLen);
        return (long)newAddr;
    }

    public long Mremap(ProcM p, ulong addr, ulong oldLen, ulong newLen, bool mayMove, bool isFixed, ulong newAddr)
    {
        if ((addr & (PAGE - 1)) != 0 || (isFixed && !mayMove))
        {
            return EINVAL;
        }

        oldLen = PageAlign(oldLen);
        newLen = PageAlign(newLen);
        if (newLen == 0)
        {
            return EINVAL;
        }

        if (Lookup(p, addr) is null)
        {
            return EFAULT;
        }

        long e;
        VmaM? vma;
        if (isFixed)
        {
            if ((newAddr & (PAGE - 1)) != 0 || newLen > TASK_SIZE || newAddr > TASK_SIZE - newLen)
            {
                return EINVAL;
            }

            if (addr + oldLen > newAddr && newAddr + newLen > addr)
            {
                return EINVAL;
            }

            e = Munmap(p, newAddr, newLen);
            if (e != 0)
            {
                return e;
            }

            if (oldLen > newLen)
            {
                e = Munmap(p, addr + newLen, oldLen - newLen);
                if (e != 0)
                {
                    return e;
                }

                oldLen = newLen;
            }

            e = VmaToResize(p, addr, oldLen, newLen, out vma);
            if (e != 0)
            {
                return e;
            }

            return MoveVma(p, vma!, addr, oldLen, newLen, newAddr);
        }

        if (oldLen >= newLen)
        {
            if (oldLen == newLen)
            {
                return (long)addr;
            }

            e = Munmap(p, addr + newLen, oldLen - newLen);
            return e != 0 ? e : (long)addr;
        }

        e = VmaToResize(p, addr, oldLen, newLen, out vma);
        if (e != 0)
        {
            return e;
        }

        if (oldLen == vma!.End - addr)
        {
            var delta = newLen - oldLen;
            if (FirstIntersecting(p, vma.End, vma.End + delta) is null && vma.End + delta <= TASK_SIZE)
            {
                var g = new Vmg
                {
                    Prev = vma,
                    Next = NextOf(p, vma.End),
                    Start = vma.End,
                    End = vma.End + delta,
                    Flags = vma.Flags,
                    File = vma.File,
                    AnonVma = vma.AnonVma,
                    Pgoff = vma.Pgoff + vma.Pages,
                };
                return MergeNew(p, g) is null ? ENOMEM : (long)addr;
            }
        }

        if (!mayMove)
        {
            return ENOMEM;
        }

        var a = TopDown(p, newLen);
        return a < 0 ? a : MoveVma(p, vma, addr, oldLen, newLen, (ulong)a);
    }

    // ---- fork, exit -----------------------------------------------------------------------------------------------

    public void Fork(ProcM parent, string child)
    {
        var c = new ProcM { Name = child, Priv = new(parent.Priv) };
        foreach (var v in parent.Vmas)
        {
            var n = v.Clone();
            if (v.AnonVma != 0)
            {
                n.AnonVma = NextAnonVma++;
                n.Chain = v.Chain + 1;
            }

            c.Vmas.Add(n);
            Opened(n);
        }

        Procs[child] = c;
    }

    public void Exit(ProcM p)
    {
        foreach (var v in p.Vmas)
        {
            Closed(v);
        }

        Procs.Remove(p.Name);
    }

    // ---- user accesses --------------------------------------------------------------------------------------------

    private static bool AnonCompatible(VmaM a, VmaM b) =>
        a.End == b.Start && a.File == b.File && ((a.Flags ^ b.Flags) & ~VM_ACCESS) == 0
        && b.Pgoff == a.Pgoff + ((b.Start - a.Start) >> 12);

    // anon_vma_prepare(): reuse a compatible neighbour's (singular) anon_vma, else a new one.
    private void AnonVmaPrepare(ProcM p, VmaM v)
    {
        if (v.AnonVma != 0)
        {
            return;
        }

        var next = p.Vmas.Find(x => x.Start == v.End);
        if (next is not null && AnonCompatible(v, next) && next.AnonVma != 0 && next.Chain == 1)
        {
            v.AnonVma = next.AnonVma;
        }
        else
        {
            var prev = PrevOf(p, v.Start);
            v.AnonVma = prev is not null && AnonCompatible(prev, v) && prev.AnonVma != 0 && prev.Chain == 1
                ? prev.AnonVma
                : NextAnonVma++;
        }

        v.Chain = 1;
    }

    private void Sig(int signo, int code, ulong addr) => Signal = (signo, code, addr);

    /// <summary>A user load of 8 bytes at a page's offset 0: <see cref="Value"/> or <see cref="Signal"/>.</summary>
    public void Read(ProcM p, ulong addr)
    {
        Signal = null;
        Value = 0;
        var v = Lookup(p, addr);
        if (v is null)
        {
            Sig(SIGSEGV, SEGV_MAPERR, addr);
            return;
        }

        if ((v.Flags & VM_ACCESS) == 0)
        {
            Sig(SIGSEGV, SEGV_ACCERR, addr);
            return;
        }

        var page = addr & ~(PAGE - 1);
        if ((v.Flags & VM_SHARED) == 0 && p.Priv.TryGetValue(page, out var priv))
        {
            Value = priv;
            return;
        }

        if (v.File == 0)
        {
            return;
        }

        var f = Files[v.File];
        var pgoff = v.Pgoff + ((page - v.Start) >> 12);
        if (pgoff >= f.SizePages)
        {
            Sig(SIGBUS, BUS_ADRERR, addr);
            return;
        }

        Value = f.Cache.GetValueOrDefault(pgoff);
    }

    /// <summary>A user store of 8 bytes at a page's offset 0.</summary>
    public void Write(ProcM p, ulong addr, ulong value)
    {
        Signal = null;
        Value = 0;
        var v = Lookup(p, addr);
        if (v is null)
        {
            Sig(SIGSEGV, SEGV_MAPERR, addr);
            return;
        }

        if ((v.Flags & VM_WRITE) == 0)
        {
            Sig(SIGSEGV, SEGV_ACCERR, addr);
            return;
        }

        var page = addr & ~(PAGE - 1);
        if ((v.Flags & VM_SHARED) == 0)
        {
            // do_anonymous_page() / do_cow_fault() / wp_page_copy() prepare the anon_vma before asking the file.
            AnonVmaPrepare(p, v);
            if (!p.Priv.ContainsKey(page) && v.File != 0 && v.Pgoff + ((page - v.Start) >> 12) >= Files[v.File].SizePages)
            {
                Sig(SIGBUS, BUS_ADRERR, addr);
                return;
            }

            p.Priv[page] = value;
            return;
        }

        var f = Files[v.File];
        var pgoff = v.Pgoff + ((page - v.Start) >> 12);
        if (pgoff >= f.SizePages)
        {
            Sig(SIGBUS, BUS_ADRERR, addr);
            return;
        }

        f.Cache[pgoff] = value;
    }
}
