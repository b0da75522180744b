using MmSim.Kernel;

namespace MmSim.Scenario;

/// <summary>
/// The schema table: every statement of the core language (docs/scenario-language.md, the contract) plus MmSim's
/// extensions, with the word tables and their kernel values. Later layers implement these statements by
/// registering handlers (<see cref="OpRegistry"/>); a statement that is not in this table is added with its schema
/// through <see cref="OpRegistry.Add"/>.
/// </summary>
public static class OpSchemas
{
    /// <summary>mmap flags (include/uapi/asm-generic/mman-common.h, linux/mman.h).</summary>
    public static readonly WordTable MmapFlags = new("mmap flag",
        ("shared", 0x01), ("private", 0x02), ("shared_validate", 0x03), ("fixed", 0x10), ("anonymous", 0x20),
        ("noreserve", 0x4000), ("populate", 0x8000), ("fixed_noreplace", 0x100000));

    /// <summary>mremap flags (include/uapi/linux/mman.h).</summary>
    public static readonly WordTable MremapFlags = new("mremap flag",
        ("maymove", 1), ("fixed", 2), ("dontunmap", 4));

    /// <summary>BPF_MAP_CREATE map_flags (include/uapi/linux/bpf.h).</summary>
    public static readonly WordTable MapFlags = new("map flag",
        ("no_prealloc", 1UL << 0), ("numa_node", 1UL << 2), ("rdonly", 1UL << 3), ("wronly", 1UL << 4),
        ("rdonly_prog", 1UL << 7), ("wronly_prog", 1UL << 8), ("mmapable", 1UL << 10), ("preserve_elems", 1UL << 11), ("inner_map", 1UL << 12),
        ("segv_on_fault", 1UL << 17), ("no_user_conv", 1UL << 18));

    /// <summary>enum bpf_map_type values of the map types MmSim models.</summary>
    public static readonly WordTable MapTypes = new("map type",
        ("array", 2), ("prog_array", 3), ("perf_event_array", 4), ("percpu_array", 6), ("cgroup_array", 8),
        ("arena", 33));

    /// <summary>BPF_MAP_UPDATE_ELEM flags: BPF_ANY, BPF_NOEXIST, BPF_EXIST, BPF_F_LOCK.</summary>
    public static readonly WordTable UpdateFlags = new("update flag",
        ("any", 0), ("noexist", 1), ("exist", 2), ("lock", 4));

    /// <summary>GFP words for the kernel test statements (alloc_pages).</summary>
    public static readonly WordTable GfpFlags = new("gfp flag",
        ("kernel", (ulong)Gfp.GFP_KERNEL), ("atomic", (ulong)Gfp.GFP_ATOMIC), ("nowait", (ulong)Gfp.GFP_NOWAIT),
        ("account", (ulong)Gfp.__GFP_ACCOUNT), ("zero", (ulong)Gfp.__GFP_ZERO), ("comp", (ulong)Gfp.__GFP_COMP),
        ("nowarn", (ulong)Gfp.__GFP_NOWARN), ("nofail", (ulong)Gfp.__GFP_NOFAIL),
        ("retry_mayfail", (ulong)Gfp.__GFP_RETRY_MAYFAIL), ("noretry", (ulong)Gfp.__GFP_NORETRY));

    /// <summary><c>memcg=unlimited</c>.</summary>
    public static readonly WordTable Unlimited = new("memcg limit", ("unlimited", ulong.MaxValue));

    /// <summary>The tree flag of <c>tree T [alloc_range]</c> (MT_FLAGS_ALLOC_RANGE).</summary>
    public static readonly WordTable TreeFlags = new("tree flag", ("alloc_range", 1));

    /// <summary>Protection words and their PROT_* bits.</summary>
    public const ulong PROT_READ = 1, PROT_WRITE = 2, PROT_EXEC = 4;

    /// <summary>Every schema: the core statements of the contract and MmSim's extensions.</summary>
    public static IReadOnlyList<OpSchema> All { get; } = Build();

    private static List<OpSchema> Build()
    {
        const ArgKind E = ArgKind.Expr;
        var g = OpScope.Global;
        var p = OpScope.Process;
        var prog = OpScope.Program;
        var t = OpScope.Tree;
        var none = ResultKind.None;
        return
        [
            // Global statements.
            new OpSchema(g, "machine", none)
                .Option("ram", E).Option("cpus", E).Option("memcg", ArgKind.ExprOrWord, Unlimited)
                .Option("seed", E).Option("kernel", ArgKind.Profile),
            new OpSchema(g, "spawn", none).Arg("proc", ArgKind.NewProcess),
            new OpSchema(g, "check", none),
            new OpSchema(g, "tree", none).Arg("tree", ArgKind.NewTree).Arg("flags", ArgKind.Word, TreeFlags, optional: true),
            new OpSchema(g, "show maps", none).Arg("proc", ArgKind.ProcessRef),
            new OpSchema(g, "show buddyinfo", none),
            new OpSchema(g, "show vmallocinfo", none),
            new OpSchema(g, "show meminfo", none),
            Inject("fail_page_alloc"),
            Inject("failslab"),
            new OpSchema(g, "inject off", none),
            new OpSchema(g, "stat free_pages"),
            new OpSchema(g, "stat vm_open").Arg("map", E),
            new OpSchema(g, "stat vm_close").Arg("map", E),
            new OpSchema(g, "stat writecnt").Arg("map", E),
            new OpSchema(g, "stat arena_pages").Arg("map", E),
            new OpSchema(g, "stat memcg"),
            new OpSchema(g, "stat vmas").Arg("proc", ArgKind.ProcessRef),

            // Extensions: kernel-internal page and slab allocation, as a test module would call it.
            new OpSchema(g, "alloc_pages").Option("order", E).Option("gfp", ArgKind.Flags, GfpFlags),
            new OpSchema(g, "__free_pages").Arg("pfn", E).Option("order", E),
            new OpSchema(g, "kmalloc").Option("size", E, required: true).Option("gfp", ArgKind.Flags, GfpFlags),
            new OpSchema(g, "kfree", none).Arg("ptr", E),

            // Process statements.
            new OpSchema(p, "mmap")
                .Option("len", E, required: true).Option("prot", ArgKind.Prot, required: true)
                .Option("flags", ArgKind.Flags, MmapFlags, required: true)
                .Option("addr", E).Option("fd", E).Option("off", E),
            new OpSchema(p, "munmap").Arg("addr", E).Arg("len", E),
            new OpSchema(p, "mprotect").Arg("addr", E).Arg("len", E).Arg("prot", ArgKind.Prot),
            new OpSchema(p, "mremap").Arg("addr", E).Arg("oldlen", E).Arg("newlen", E)
                .Option("flags", ArgKind.Flags, MremapFlags).Option("new", E),
            new OpSchema(p, "read").Arg("addr", E).Option("size", ArgKind.Size),
            new OpSchema(p, "write").Arg("addr", E).Arg("value", E).Option("size", ArgKind.Size),
            new OpSchema(p, "fork", none).Arg("child", ArgKind.NewProcess),
            new OpSchema(p, "exit", none),
            new OpSchema(p, "close").Arg("fd", E),
            new OpSchema(p, "map_create")
                .Option("type", ArgKind.Word, MapTypes, required: true, allowNumber: true)
                .Option("key", E).Option("value", E).Option("entries", E, required: true)
                .Option("flags", ArgKind.Flags, MapFlags).Option("extra", E).Option("node", E),
            new OpSchema(p, "map_lookup").Arg("fd", E).Arg("key", E),
            new OpSchema(p, "map_update").Arg("fd", E).Arg("key", E).Arg("value", ArgKind.ExprOrList)
                .Option("flags", ArgKind.Flags, UpdateFlags),
            new OpSchema(p, "map_delete").Arg("fd", E).Arg("key", E),
            new OpSchema(p, "map_freeze").Arg("fd", E),
            new OpSchema(p, "map_get_next_key").Arg("fd", E).Arg("key", E, optional: true),
            new OpSchema(p, "prog_load", ResultKind.Program).Option("maps", ArgKind.List, required: true),

            // Program statements (kernel context).
            new OpSchema(prog, "arena_alloc_pages").Arg("map", E)
                .Option("count", E, required: true).Option("addr", E).Option("node", E).Option("flags", E),
            new OpSchema(prog, "arena_free_pages").Arg("map", E).Arg("addr", E).Option("count", E, required: true),
            new OpSchema(prog, "load").Arg("map", E).Arg("addr", E).Option("size", ArgKind.Size),
            new OpSchema(prog, "store").Arg("map", E).Arg("addr", E).Arg("value", E).Option("size", ArgKind.Size),
            new OpSchema(prog, "cast_user").Arg("map", E).Arg("addr", E),
            new OpSchema(prog, "cast_kern").Arg("map", E).Arg("addr", E),
            new OpSchema(prog, "map_lookup").Arg("map", E).Arg("key", E),
            new OpSchema(prog, "map_update").Arg("map", E).Arg("key", E).Arg("value", ArgKind.ExprOrList)
                .Option("flags", ArgKind.Flags, UpdateFlags),

            // Tree statements.
            new OpSchema(t, "insert").Arg("first", E).Arg("last", E).Arg("entry", E),
            new OpSchema(t, "store").Arg("first", E).Arg("last", E).Arg("entry", E),
            new OpSchema(t, "erase").Arg("index", E),
            new OpSchema(t, "load").Arg("index", E),
            new OpSchema(t, "alloc_range").Arg("entry", E)
                .Option("size", E, required: true).Option("min", E, required: true).Option("max", E, required: true),
            new OpSchema(t, "alloc_rrange").Arg("entry", E)
                .Option("size", E, required: true).Option("min", E, required: true).Option("max", E, required: true),
            new OpSchema(t, "empty_area")
                .Option("min", E, required: true).Option("max", E, required: true).Option("size", E, required: true),
            new OpSchema(t, "empty_area_rev")
                .Option("min", E, required: true).Option("max", E, required: true).Option("size", E, required: true),
        ];
    }

    private static OpSchema Inject(string what) =>
        new OpSchema(OpScope.Global, "inject " + what, ResultKind.None)
            .Option("nth", ArgKind.Expr).Option("probability", ArgKind.Expr).Option("interval", ArgKind.Expr)
            .Option("times", ArgKind.Expr).Option("space", ArgKind.Expr);
}
