using MmSim.Scenario;
using MmSim.Vm;

namespace MmSim.Check;

/// <summary>
/// The generator of whole-system operation sequences. It runs beside the machine: each step is chosen from what
/// the steps before it returned (the live processes, the addresses mmap gave, the fds), so that most steps reach
/// deep paths, and weighted towards the rare ones (splits, forks of mapped regions, frees of faulted pages,
/// allocation failures, arena mappings inherited by fork). About one argument in ten is hostile, as syzkaller
/// would send it: misaligned and wrapping addresses, lengths of 0 and near 2^64, unknown flag bits, closed and
/// wrong-type fds, keys past max_entries, page counts past the arena, pointers outside it.
/// Only statements whose handlers are registered are generated, so the generator follows the layers as they land.
/// </summary>
internal sealed class Generator
{
    /// <summary>The user address arenas are created at (map_extra) and mapped at.</summary>
    public const ulong ArenaBase = 0x100000000;

    private const ulong Page = 4096;

    private readonly CheckRandom _rng;
    private readonly OpRegistry _registry;
    private readonly List<Proc> _procs = [];
    private readonly List<Region> _regions = [];
    private readonly List<Fd> _fds = [];
    private readonly List<Prog> _progs = [];
    private readonly List<Ptr> _ptrs = [];
    private readonly bool _hasBpf;
    private readonly bool _hasArena;
    private readonly bool _hasMemcgStat;
    private int _names;
    private bool _injected;

    public Generator(CheckRandom rng, OpRegistry registry)
    {
        _rng = rng;
        _registry = registry;
        _hasBpf = Has(OpScope.Process, "map_create") && Has(OpScope.Process, "prog_load");
        _hasArena = _hasBpf && Has(OpScope.Program, "arena_alloc_pages") && Has(OpScope.Program, "arena_free_pages");
        _hasMemcgStat = Has(OpScope.Global, "stat memcg");
    }

    private sealed class Proc(string name)
    {
        public string Name { get; } = name;
    }

    private sealed record Region(string Name, ulong Len, List<string> Procs, Fd? File);

    private sealed record Fd(string Name, string Kind, List<string> Procs)
    {
        public string MapType { get; init; } = "";

        public ulong Entries { get; init; }

        public ulong ValueSize { get; init; }

        public bool Mmapable { get; init; }

        /// <summary>The processes that closed this fd (a hostile step may still name it).</summary>
        public List<string> ClosedBy { get; } = [];
    }

    private sealed record Prog(string Name, string Owner, IReadOnlyList<Fd> Maps);

    private sealed record Ptr(string Name, Prog Prog, Fd Map, ulong Pages);

    private bool Has(OpScope scope, string op) => _registry.FindHandler(scope, op) is not null;

    private string NewName(string prefix) => prefix + (++_names).ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>The steps every sequence starts with: the accounting baselines, then a first process.</summary>
    public IEnumerable<CheckStep> Prologue()
    {
        yield return new CheckStep(null, "fp0", "stat free_pages", [], "ok");
        if (_hasMemcgStat)
        {
            yield return new CheckStep(null, "mc0", "stat memcg", [], "ok");
        }

        yield return Spawn();
    }

    /// <summary>The leak-free teardown: fault injection off, every process exits, lazy vmap areas purged, the accounting is back to its start.</summary>
    public IEnumerable<CheckStep> Teardown() => TeardownFor(_injected, _procs.Select(p => p.Name), _hasMemcgStat);

    /// <summary>
    /// The teardown of a sequence of steps (without its teardown): the processes it spawned or forked and did not
    /// exit all exit. The shrinker rebuilds it for each candidate, so that a shrunk leak still tears everything down.
    /// </summary>
    public static List<CheckStep> TeardownFor(IReadOnlyList<CheckStep> body)
    {
        var procs = new List<string>();
        foreach (var s in body)
        {
            if (s.Op is "spawn" or "fork")
            {
                procs.Add(s.Args[0].Text!);
            }
            else if (s.Op == "exit")
            {
                procs.Remove(s.Subject!);
            }
        }

        return TeardownFor(body.Any(s => s.Op is "inject fail_page_alloc" or "inject failslab"), procs,
            body.Any(s => s.Bind == "mc0")).ToList();
    }

    private static IEnumerable<CheckStep> TeardownFor(bool injected, IEnumerable<string> procs, bool memcg)
    {
        if (injected)
        {
            yield return new CheckStep(null, null, "inject off", [], "ok") { Teardown = true };
        }

        foreach (var p in procs.ToList())
        {
            yield return new CheckStep(p, null, "exit", [], "ok") { Teardown = true };
        }

        // vfree() leaves vmap areas on the lazy list (their vmap_area objects hold a slab page) until a purge.
        yield return new CheckStep(null, null, "purge_vmap_area_lazy", [], "ok") { Teardown = true };
        yield return new CheckStep(null, null, "stat free_pages", [], "fp0") { Teardown = true };
        if (memcg)
        {
            yield return new CheckStep(null, null, "stat memcg", [], "mc0") { Teardown = true };
        }
    }

    private CheckStep Spawn()
    {
        var name = NewName("p");
        return new CheckStep(null, null, "spawn", [CheckArg.Word(name)], "ok");
    }

    /// <summary>Learn from a step's result: bind the names it gave values to, forget what it destroyed.</summary>
    public void Observe(CheckStep step, SessionStep r, ScenarioSession session)
    {
        switch (step.Op)
        {
            case "spawn":
                _procs.Add(new Proc(step.Args[0].Text!));
                return;
            case "fork":
                {
                    var child = step.Args[0].Text!;
                    if (session.ObjectOf(child) is TaskStruct)
                    {
                        _procs.Add(new Proc(child));
                        foreach (var reg in _regions.Where(x => x.Procs.Contains(step.Subject!)).ToList())
                        {
                            reg.Procs.Add(child);
                        }

                        foreach (var f in _fds.Where(x => x.Procs.Contains(step.Subject!)).ToList())
                        {
                            f.Procs.Add(child);
                        }
                    }

                    return;
                }

            case "exit":
                _procs.RemoveAll(p => p.Name == step.Subject);
                foreach (var reg in _regions)
                {
                    reg.Procs.Remove(step.Subject!);
                }

                foreach (var f in _fds)
                {
                    f.Procs.Remove(step.Subject!);
                }

                ForgetDeadProgs();
                return;
            case "close":
                Closed(step, r, session);
                return;
            case "inject fail_page_alloc":
            case "inject failslab":
                _injected = true;
                return;
        }

        if (step.Bind is null || session.ValueOf(step.Bind) is null || r.Result is not { Kind: StepKind.Value })
        {
            return;
        }

        switch (step.Op)
        {
            case "mmap":
                {
                    var len = step.Args.First(a => a.Option == "len").Number;
                    var fdArg = step.Args.FirstOrDefault(a => a.Option == "fd");
                    var file = fdArg?.Kind == CheckArgKind.Ref ? LiveFd(step.Subject!, fdArg.Text!, session) : null;
                    _regions.Add(new Region(step.Bind, len, [step.Subject!], file));
                    break;
                }

            case "mremap":
                _regions.Add(new Region(step.Bind, step.Args[2].Number, [step.Subject!], null));
                break;
            case "open_test":
                _fds.Add(new Fd(step.Bind, "test", [step.Subject!]));
                break;
            case "map_create":
                {
                    var type = step.Args.First(a => a.Option == "type").Text!;
                    _fds.Add(new Fd(step.Bind, "map", [step.Subject!])
                    {
                        MapType = type,
                        Entries = step.Args.First(a => a.Option == "entries").Number,
                        ValueSize = step.Args.FirstOrDefault(a => a.Option == "value")?.Number ?? 0,
                        Mmapable = step.Args.Any(a => a.Option == "flags" && (a.Text?.Contains("mmapable", StringComparison.Ordinal) ?? false)),
                    });
                    break;
                }

            case "prog_load":
                {
                    var names = step.Args[0].Text!.Split(',');
                    var maps = names.Select(n => LiveFd(step.Subject!, n, session)).Where(f => f is not null).Select(f => f!).ToList();
                    _progs.Add(new Prog(step.Bind, step.Subject!, maps));
                    _fds.Add(new Fd(step.Bind, "prog", [step.Subject!]));
                    break;
                }

            case "arena_alloc_pages":
                {
                    var prog = _progs.Find(g => g.Name == step.Subject);
                    var map = prog?.Maps.FirstOrDefault(m => m.Name == step.Args[0].Text);
                    if (prog is not null && map is not null && r.Result.Value != 0)
                    {
                        _ptrs.Add(new Ptr(step.Bind, prog, map, step.Args.First(a => a.Option == "count").Number));
                    }

                    break;
                }
        }
    }

    // A successful close(fd) drops the fd from the closing process: every name it has for that fd number (a name
    // of a closed fd may since stand for a new fd with the same number, and hostile closes name plain numbers).
    private void Closed(CheckStep step, SessionStep r, ScenarioSession session)
    {
        if (r.Result is not { Kind: StepKind.Value or StepKind.Done } || step.Args.Count == 0)
        {
            return;
        }

        var a = step.Args[0];
        ulong? fd = a.Kind switch
        {
            CheckArgKind.Number => a.Number,
            CheckArgKind.Ref => session.ValueOf(a.Text!) is { } v ? unchecked(v + (ulong)a.Offset) : null,
            _ => null,
        };
        if (fd is null)
        {
            return;
        }

        foreach (var f in _fds)
        {
            if (f.Procs.Contains(step.Subject!) && session.ValueOf(f.Name) == fd)
            {
                f.Procs.Remove(step.Subject!);
                f.ClosedBy.Add(step.Subject!);
            }
        }

        ForgetDeadProgs();
    }

    // The open fd of the process that a name stands for now: the name's own, or (a closed fd's name whose number
    // was given out again) the newer fd with that number.
    private Fd? LiveFd(string proc, string name, ScenarioSession session)
    {
        var fd = session.ValueOf(name);
        return _fds.Find(f => f.Name == name && f.Procs.Contains(proc))
            ?? _fds.Find(f => f.Procs.Contains(proc) && session.ValueOf(f.Name) == fd);
    }

    // A program lives while some process holds its fd (bpf_prog_put on the last close frees it, and its
    // program statements no longer resolve): forget the others and the arena pointers they allocated.
    private void ForgetDeadProgs()
    {
        _progs.RemoveAll(g => _fds.Find(f => f.Name == g.Name) is not { Procs.Count: > 0 });
        _ptrs.RemoveAll(x => !_progs.Contains(x.Prog));
    }

    /// <summary>The next step, chosen from the live state.</summary>
    public CheckStep Next()
    {
        if (_procs.Count == 0)
        {
            return Spawn();
        }

        for (var attempt = 0; attempt < 16; attempt++)
        {
            var step = Choose();
            if (step is not null)
            {
                return step;
            }
        }

        return new CheckStep(null, null, "check", [], "ok");
    }

    // Weights of the step kinds (order matters: see Choose).
    private static readonly int[] Weights =
    [
        3,  // 0 spawn
        14, // 1 mmap anonymous
        4,  // 2 open_test
        5,  // 3 mmap of a file (device, map)
        9,  // 4 munmap (partial: splits)
        8,  // 5 mprotect (partial: splits)
        5,  // 6 mremap
        14, // 7 read / write
        6,  // 8 fork
        2,  // 9 exit
        3,  // 10 close
        5,  // 11 fault injection
        6,  // 12 map_create
        6,  // 13 map ops (update, lookup, delete, freeze, get_next_key)
        3,  // 14 prog_load
        20, // 15 arena alloc / free / load / store (and the arena and program they need)
    ];

    private static readonly int TotalWeight = Weights.Sum();

    private CheckStep? Choose()
    {
        var x = _rng.Next(TotalWeight);
        var kind = 0;
        while (x >= Weights[kind])
        {
            x -= Weights[kind++];
        }

        var p = _rng.Pick(_procs).Name;
        return kind switch
        {
            0 => _procs.Count < 4 ? Spawn() : null,
            1 => MmapAnon(p),
            2 => Has(OpScope.Process, "open_test") ? new CheckStep(p, NewName("f"), "open_test", [CheckArg.Num((ulong)_rng.Range(1, 16), "pages")]) : null,
            3 => MmapFile(p),
            4 => RegionOp(p, "munmap"),
            5 => RegionOp(p, "mprotect"),
            6 => Mremap(p),
            7 => Access(p),
            8 => Fork(),
            9 => _procs.Count > 1 || _rng.Chance(30) ? new CheckStep(p, null, "exit", []) : null,
            10 => Close(p),
            11 => Inject(),
            12 => _hasBpf ? MapCreate(p) : null,
            13 => _hasBpf ? MapOp(p) : null,
            14 => _hasBpf ? ProgLoad(p) : null,
            _ => _hasArena ? ArenaOp(p) : null,
        };
    }

    // ---- values -------------------------------------------------------------------------------------------

    private ulong Pages(int max = 8) => (ulong)(_rng.Chance(85) ? _rng.Range(1, max) : _rng.Range(1, 64)) * Page;

    private static readonly ulong[] HostileLengths = [0, 1, Page - 1, Page + 1, ulong.MaxValue, ulong.MaxValue - Page + 1, 1UL << 47, 1UL << 63];

    private static readonly ulong[] HostileAddrs = [0, 1, Page - 1, 0xfffffffffffff000, ulong.MaxValue, 1UL << 47, (1UL << 47) - Page, 0x10000];

    private ulong Len() => _rng.Chance(8) ? _rng.Pick(HostileLengths) : Pages();

    private CheckArg LenArg(string? option = null) => CheckArg.Num(Len(), option);

    private string Prot() => _rng.Chance(5) ? _rng.Pick(["8", "0x10", "0xff", "0x1000000"]) : _rng.Pick(["none", "r", "rw", "rw", "rx", "rwx"]);

    private Region? RegionOf(string proc)
    {
        if (_regions.Count == 0)
        {
            return null;
        }

        // Mostly a region the process has, the newest ones more often; sometimes any (another process's address).
        var mine = _regions.Where(r => r.Procs.Contains(proc)).ToList();
        if (mine.Count > 0 && _rng.Chance(85))
        {
            return _rng.Chance(50) ? mine[mine.Count - 1 - _rng.Next(Math.Min(3, mine.Count))] : _rng.Pick(mine);
        }

        return _rng.Pick(_regions);
    }

    /// <summary>An address inside (mostly) a known region: its start plus whole pages, or hostile.</summary>
    private CheckArg AddrIn(Region r, string? option = null)
    {
        if (_rng.Chance(7))
        {
            return _rng.Chance(50)
                ? CheckArg.Num(_rng.Pick(HostileAddrs), option)
                : CheckArg.Ref(r.Name, _rng.Pick<long>([1, -1, -(long)Page, (long)r.Len, 1L << 46, 7]), option);
        }

        var pages = (int)Math.Max(1, r.Len / Page);
        var off = _rng.Chance(40) ? 0 : (long)_rng.Next(Math.Min(pages, 64)) * (long)Page;
        return CheckArg.Ref(r.Name, off, option);
    }

    private CheckArg FdArg(string proc, string? option = null)
    {
        var mine = _fds.Where(f => f.Procs.Contains(proc)).ToList();
        if (_rng.Chance(10) || mine.Count == 0)
        {
            // Hostile: an fd this process closed, another process's fd, or a plain number.
            var closed = _fds.Where(f => f.ClosedBy.Contains(proc)).ToList();
            if (closed.Count > 0 && _rng.Chance(50))
            {
                return CheckArg.Ref(_rng.Pick(closed).Name, 0, option);
            }

            return _fds.Count > 0 && _rng.Chance(50)
                ? CheckArg.Ref(_rng.Pick(_fds).Name, 0, option)
                : CheckArg.Num(_rng.Pick<ulong>([0, 1, 2, 63, 1000, ulong.MaxValue]), option);
        }

        return CheckArg.Ref(_rng.Pick(mine).Name, 0, option);
    }

    // ---- process steps ------------------------------------------------------------------------------------

    private CheckStep MmapAnon(string p)
    {
        var args = new List<CheckArg> { LenArg("len"), CheckArg.Word(Prot(), "prot") };
        var flags = _rng.Chance(70) ? "private|anonymous" : "shared|anonymous";
        if (_rng.Chance(6))
        {
            flags = _rng.Pick(["0x40000022", "anonymous", "private|shared|anonymous", "0x22", "fixed_noreplace|private|anonymous"]);
        }

        var r = RegionOf(p);
        if (r is not null && _rng.Chance(20))
        {
            // Over or next to an existing mapping: MAP_FIXED replaces, a hint moves elsewhere.
            flags += _rng.Chance(60) ? "|fixed" : "";
            args.Add(AddrIn(r, "addr"));
        }
        else if (_rng.Chance(5))
        {
            args.Add(CheckArg.Num(_rng.Pick(HostileAddrs), "addr"));
            flags += _rng.Chance(50) ? "|fixed" : "";
        }

        args.Insert(2, CheckArg.Word(flags, "flags"));
        return new CheckStep(p, NewName("a"), "mmap", args);
    }

    private CheckStep? MmapFile(string p)
    {
        var files = _fds.Where(f => f.Kind != "prog" && f.Procs.Contains(p)).ToList();
        if (files.Count == 0)
        {
            return null;
        }

        var f = _rng.Pick(files);
        if (_rng.Chance(8))
        {
            return new CheckStep(p, NewName("a"), "mmap", [LenArg("len"), CheckArg.Word(Prot(), "prot"), CheckArg.Word("shared", "flags"), FdArg(p, "fd")]);
        }

        if (f.MapType == "arena")
        {
            // An arena is mapped at its map_extra, over its whole size (or a part: the kernel allows less).
            var len = _rng.Chance(80) ? f.Entries * Page : Pages((int)Math.Max(1, f.Entries));
            return new CheckStep(p, NewName("a"), "mmap",
                [CheckArg.Num(ArenaBase, "addr"), CheckArg.Num(len, "len"), CheckArg.Word(_rng.Chance(85) ? "rw" : Prot(), "prot"),
                 CheckArg.Word(_rng.Chance(90) ? "shared" : "private", "flags"), CheckArg.Ref(f.Name, 0, "fd")]);
        }

        var size = f.Kind == "map" ? Math.Max(Page, (f.Entries * Math.Max(1, f.ValueSize) + Page - 1) / Page * Page) : Pages(4);
        var prot = f.Kind == "map" && _rng.Chance(50) ? "r" : Prot();
        var args = new List<CheckArg>
        {
            CheckArg.Num(_rng.Chance(85) ? size : Len(), "len"), CheckArg.Word(prot, "prot"),
            CheckArg.Word(_rng.Chance(85) ? "shared" : "private", "flags"), CheckArg.Ref(f.Name, 0, "fd"),
        };
        if (_rng.Chance(10))
        {
            args.Add(CheckArg.Num(_rng.Pick<ulong>([Page, 1, 2 * Page, 1UL << 40]), "off"));
        }

        return new CheckStep(p, NewName("a"), "mmap", args);
    }

    private CheckStep? RegionOp(string p, string op)
    {
        var r = RegionOf(p);
        if (r is null)
        {
            return null;
        }

        // A part of the region (a split) or the whole of it.
        var pages = Math.Max(1, r.Len / Page);
        var start = _rng.Chance(50) ? 0 : (ulong)_rng.Next((int)Math.Min(pages, 64));
        var len = _rng.Chance(30) ? r.Len - start * Page : (ulong)_rng.Range(1, (int)Math.Max(1, Math.Min(pages - start, 64))) * Page;
        var addr = CheckArg.Ref(r.Name, (long)(start * Page));
        var lenArg = CheckArg.Num(len);
        if (_rng.Chance(10))
        {
            addr = AddrIn(r);
            lenArg = LenArg();
        }

        List<CheckArg> args = [addr, lenArg];
        if (op == "mprotect")
        {
            args.Add(CheckArg.Word(Prot()));
        }

        return new CheckStep(p, null, op, args);
    }

    private CheckStep? Mremap(string p)
    {
        var r = RegionOf(p);
        if (r is null)
        {
            return null;
        }

        var newLen = _rng.Chance(8) ? Len() : (ulong)_rng.Range(1, 16) * Page;
        var oldLen = _rng.Chance(8) ? Len() : r.Len;
        var args = new List<CheckArg> { AddrIn(r), CheckArg.Num(oldLen), CheckArg.Num(newLen) };
        switch (_rng.Next(4))
        {
            case 0:
                break;
            case 1:
            case 2:
                args.Add(CheckArg.Word("maymove", "flags"));
                break;
            default:
                var other = RegionOf(p) ?? r;
                args.Add(CheckArg.Word(_rng.Chance(80) ? "maymove|fixed" : "fixed", "flags"));
                args.Add(AddrIn(other, "new"));
                break;
        }

        return new CheckStep(p, NewName("a"), "mremap", args);
    }

    private CheckStep? Access(string p)
    {
        var r = RegionOf(p);
        if (r is null)
        {
            return null;
        }

        var addr = AddrIn(r);
        if (addr.Kind == CheckArgKind.Ref && _rng.Chance(30))
        {
            addr = addr with { Offset = addr.Offset + (long)(8 * (ulong)_rng.Next(512)) };
        }

        var size = _rng.Pick(["8", "8", "4", "2", "1"]);
        List<CheckArg> args = _rng.Chance(50)
            ? [addr]
            : [addr, CheckArg.Num(_rng.Chance(50) ? (ulong)_rng.Range(1, 255) : _rng.NextU64())];
        if (size != "8")
        {
            args.Add(CheckArg.Word(size, "size"));
        }

        return new CheckStep(p, null, args.Count > 1 && args[1].Option is null ? "write" : "read", args);
    }

    private CheckStep? Fork()
    {
        if (_procs.Count >= 5)
        {
            return null;
        }

        // Prefer a process with mappings (forks of mapped regions), above all with an arena mapping.
        var withArena = _procs.Where(pr => _regions.Any(r => r.File?.MapType == "arena" && r.Procs.Contains(pr.Name))).ToList();
        var withMaps = _procs.Where(pr => _regions.Any(r => r.Procs.Contains(pr.Name))).ToList();
        var parent = withArena.Count > 0 && _rng.Chance(70) ? _rng.Pick(withArena)
            : withMaps.Count > 0 && _rng.Chance(80) ? _rng.Pick(withMaps) : _rng.Pick(_procs);
        return new CheckStep(parent.Name, null, "fork", [CheckArg.Word(NewName("p"))]);
    }

    private CheckStep? Close(string p)
    {
        if (_fds.Count == 0 && !_rng.Chance(20))
        {
            return null;
        }

        return new CheckStep(p, null, "close", [FdArg(p)]);
    }

    private CheckStep Inject()
    {
        return _rng.Next(5) switch
        {
            0 or 1 => new CheckStep(null, null, "inject fail_page_alloc", [CheckArg.Num((ulong)_rng.Range(1, 8), "nth")], "ok"),
            2 or 3 => new CheckStep(null, null, "inject failslab", [CheckArg.Num((ulong)_rng.Range(1, 8), "nth")], "ok"),
            _ => new CheckStep(null, null, "inject off", [], "ok"),
        };
    }

    // ---- bpf steps ----------------------------------------------------------------------------------------

    private CheckStep MapCreate(string p, bool arena = false)
    {
        var type = arena || (_hasArena && _rng.Chance(40)) ? "arena"
            : _rng.Pick(["array", "array", "array", "percpu_array", "prog_array", "perf_event_array", "cgroup_array"]);
        var args = new List<CheckArg> { CheckArg.Word(type, "type") };
        if (type == "arena")
        {
            args.Add(CheckArg.Num(_rng.Chance(90) ? (ulong)_rng.Pick([1, 2, 4, 8, 16]) : _rng.Pick<ulong>([0, 1UL << 20, 1UL << 32]), "entries"));
            args.Add(CheckArg.Word(_rng.Chance(90) ? _rng.Pick(["mmapable", "mmapable", "mmapable|segv_on_fault"]) : _rng.Pick(["0x80000000", "rdonly", "mmapable|rdonly_prog"]), "flags"));
            args.Add(CheckArg.Num(_rng.Chance(90) ? ArenaBase : _rng.Pick<ulong>([0, 0x1001, 1UL << 47]), "extra"));
        }
        else
        {
            var value = type is "prog_array" or "perf_event_array" or "cgroup_array" ? 4UL : _rng.Pick<ulong>([4, 8, 8, 16, 64, 4096]);
            args.Add(CheckArg.Num(_rng.Chance(95) ? 4 : _rng.Pick<ulong>([0, 8, 3]), "key"));
            args.Add(CheckArg.Num(_rng.Chance(95) ? value : _rng.Pick<ulong>([0, 1UL << 31, 3]), "value"));
            args.Add(CheckArg.Num(_rng.Chance(95) ? (ulong)_rng.Range(1, 16) : _rng.Pick<ulong>([0, 1UL << 32, 1UL << 31]), "entries"));
            if (type == "array" && _rng.Chance(60))
            {
                args.Add(CheckArg.Word(_rng.Pick(["mmapable", "mmapable", "mmapable|rdonly_prog", "rdonly", "wronly", "0x40000000"]), "flags"));
            }
        }

        return new CheckStep(p, NewName("m"), "map_create", args);
    }

    private CheckArg KeyArg(Fd? map) =>
        CheckArg.Num(map is null || _rng.Chance(10) ? _rng.Pick<ulong>([0, 1, 1UL << 31, ulong.MaxValue, 1000]) : (ulong)_rng.Next((int)Math.Min(map.Entries + 1, 64)));

    private CheckStep? MapOp(string p)
    {
        var maps = _fds.Where(f => f.Kind == "map" && f.Procs.Contains(p)).ToList();
        if (maps.Count == 0)
        {
            return null;
        }

        var m = _rng.Pick(maps);
        var fd = _rng.Chance(90) ? CheckArg.Ref(m.Name) : FdArg(p);
        return _rng.Next(6) switch
        {
            0 or 1 => Has(OpScope.Process, "map_update")
                ? new CheckStep(p, null, "map_update", [fd, KeyArg(m), CheckArg.Num(_rng.NextU64() & 0xffff),
                    CheckArg.Word(_rng.Chance(70) ? "any" : _rng.Pick(["noexist", "exist", "lock", "0x100"]), "flags")])
                : null,
            2 => Has(OpScope.Process, "map_lookup") ? new CheckStep(p, null, "map_lookup", [fd, KeyArg(m)]) : null,
            3 => Has(OpScope.Process, "map_delete") ? new CheckStep(p, null, "map_delete", [fd, KeyArg(m)]) : null,
            4 => Has(OpScope.Process, "map_freeze") ? new CheckStep(p, null, "map_freeze", [fd]) : null,
            _ => Has(OpScope.Process, "map_get_next_key") ? new CheckStep(p, null, "map_get_next_key", [fd, KeyArg(m)]) : null,
        };
    }

    private CheckStep? ProgLoad(string p)
    {
        var maps = _fds.Where(f => f.Kind == "map" && f.Procs.Contains(p)).ToList();
        if (maps.Count == 0)
        {
            return null;
        }

        // Mostly the arenas (a program that allocates from them), sometimes two maps.
        var arenas = maps.Where(m => m.MapType == "arena").ToList();
        var first = arenas.Count > 0 && _rng.Chance(80) ? _rng.Pick(arenas) : _rng.Pick(maps);
        var names = first.Name;
        var closed = _fds.Where(f => f.Kind == "map" && f.ClosedBy.Contains(p)).ToList();
        if (closed.Count > 0 && _rng.Chance(8))
        {
            // Hostile: a map fd this process closed.
            names = _rng.Pick(closed).Name;
        }
        if (maps.Count > 1 && _rng.Chance(20))
        {
            var second = _rng.Pick(maps);
            if (second != first)
            {
                names += "," + second.Name;
            }
        }

        return new CheckStep(p, NewName("g"), "prog_load", [CheckArg.Word(names, "maps")]);
    }

    private CheckStep? ArenaOp(string p)
    {
        var progs = _progs.Where(g => g.Maps.Any(m => m.MapType == "arena")).ToList();
        if (progs.Count == 0)
        {
            // No program uses an arena yet: build towards one (an arena, then a program loaded with it), so that
            // program-side accesses are a normal share of the steps rather than a rare path.
            var arenas = _fds.Where(f => f.MapType == "arena" && f.Procs.Contains(p)).ToList();
            return arenas.Count > 0
                ? new CheckStep(p, NewName("g"), "prog_load", [CheckArg.Word(_rng.Pick(arenas).Name, "maps")])
                : MapCreate(p, arena: true);
        }

        var g = _rng.Pick(progs);
        var arena = _rng.Pick(g.Maps.Where(m => m.MapType == "arena").ToList());
        var ptrs = _ptrs.Where(x => x.Prog == g).ToList();
        var kind = _rng.Next(10);
        if ((ptrs.Count == 0 && kind < 6) || kind < 3)
        {
            var count = _rng.Chance(90) ? (ulong)_rng.Range(1, (int)Math.Clamp(arena.Entries, 1, 4)) : _rng.Pick<ulong>([0, arena.Entries + 1, 1UL << 32]);
            var args = new List<CheckArg> { CheckArg.Ref(arena.Name), CheckArg.Num(count, "count") };
            if (_rng.Chance(15))
            {
                args.Add(CheckArg.Num(_rng.Chance(70) ? ArenaBase + (ulong)_rng.Next((int)Math.Max(1, arena.Entries)) * Page : _rng.Pick(HostileAddrs), "addr"));
            }

            return new CheckStep(g.Name, NewName("x"), "arena_alloc_pages", args);
        }

        // An address: in a page allocated through the program (mostly), anywhere in the arena (an absent page: the
        // access faults and is fixed up), or hostile (PROBE_MEM32 uses the low 32 bits).
        var ptr = ptrs.Count > 0 ? _rng.Pick(ptrs) : null;
        var at = ptr is not null && _rng.Chance(85)
            ? CheckArg.Ref(ptr.Name, (long)(Page * (ulong)_rng.Next((int)ptr.Pages) + (_rng.Chance(20) ? 8 * (ulong)_rng.Next(512) : 0)))
            : _rng.Chance(70) ? CheckArg.Num(ArenaBase + (ulong)_rng.Next((int)Math.Clamp(arena.Entries, 1, 64)) * Page)
            : CheckArg.Num(_rng.Pick(HostileAddrs));
        if (kind < 5 && ptr is not null)
        {
            return new CheckStep(g.Name, null, "arena_free_pages",
                [CheckArg.Ref(arena.Name), at, CheckArg.Num(_rng.Chance(90) ? (ulong)_rng.Range(1, (int)ptr.Pages) : _rng.Pick<ulong>([0, 1UL << 32]), "count")]);
        }

        var size = _rng.Chance(75) ? null : CheckArg.Word(_rng.Pick(["1", "2", "4"]), "size");
        if (kind < 8)
        {
            return Has(OpScope.Program, "load")
                ? new CheckStep(g.Name, null, "load", size is null ? [CheckArg.Ref(arena.Name), at] : [CheckArg.Ref(arena.Name), at, size])
                : null;
        }

        var value = CheckArg.Num(_rng.Chance(70) ? (ulong)_rng.Range(1, 255) : _rng.NextU64());
        return Has(OpScope.Program, "store")
            ? new CheckStep(g.Name, null, "store", size is null ? [CheckArg.Ref(arena.Name), at, value] : [CheckArg.Ref(arena.Name), at, value, size])
            : null;
    }
}
