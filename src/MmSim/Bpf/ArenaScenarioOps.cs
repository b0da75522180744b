using System.Runtime.CompilerServices;
using System.Text;
using MmSim.Kernel;
using MmSim.Scenario;

namespace MmSim.Bpf;

/// <summary>
/// The arena's scenario statements: the program statements <c>arena_alloc_pages</c>, <c>arena_free_pages</c>,
/// <c>load</c>, <c>store</c>, <c>cast_user</c>, <c>cast_kern</c> (subject: a program bound by prog_load; MAP: one
/// of the map fds it was loaded with), <c>stat arena_pages M</c>, and the view <c>show arena M</c>
/// (binding, allocated offsets, pages faulted into each VMA). M is a map fd number of any process.
/// </summary>
[ScenarioOps]
internal static class ArenaScenarioOps
{
    // Maps seen behind an fd number, per machine: a later statement still finds the map after the fd was closed.
    private static readonly ConditionalWeakTable<Machine, Dictionary<ulong, BpfMap>> Seen = [];

    public static void Register(OpRegistry r)
    {
        r.Program("arena_alloc_pages", ctx => WithArena(ctx, (_, map) => StepResult.Of(BpfArena.BpfArenaAllocPages(map,
            ctx.U64("addr", 0), (uint)ctx.U64("count"), ctx.IntOr("node", BpfF.NUMA_NO_NODE), ctx.U64("flags", 0)))));
        r.Program("arena_free_pages", ctx => WithArena(ctx, (_, map) =>
        {
            BpfArena.BpfArenaFreePages(map, ctx.U64("addr"), (uint)ctx.U64("count"));
            return StepResult.Done;
        }));
        r.Program("load", ctx => WithArena(ctx, (a, _) => StepResult.Of(a.ProbeMem32Load(ctx.U64("addr"), (int)ctx.U64("size", 8)))));
        r.Program("store", ctx => WithArena(ctx, (a, _) =>
        {
            a.ProbeMem32Store(ctx.U64("addr"), (int)ctx.U64("size", 8), ctx.U64("value"));
            return StepResult.Done;
        }));
        r.Program("cast_user", ctx => WithArena(ctx, (a, _) => StepResult.Of(a.CastUser(ctx.U64("addr")))));
        r.Program("cast_kern", ctx => WithArena(ctx, (_, _) => StepResult.Of(BpfArena.CastKern(ctx.U64("addr")))));
        r.Stat("arena_pages", ctx => ResolveArena(ctx, "map") is { } a ? StepResult.Of(a.NrPages) : NotArena(ctx));
        r.Add(new OpSchema(OpScope.Global, "show arena", ResultKind.None).Arg("map", ArgKind.Expr), ctx =>
        {
            if (ResolveArena(ctx, "map") is not { } a)
            {
                return NotArena(ctx);
            }

            var sb = new StringBuilder();
            sb.Append(System.Globalization.CultureInfo.InvariantCulture, $"arena map {a.Id}: max_entries {a.MaxEntries}\n");
            foreach (var line in a.ShowDetails())
            {
                sb.Append(line).Append('\n');
            }

            return StepResult.Show(sb.ToString());
        });
    }

    private static StepResult NotArena(OpContext ctx) => ctx.Error($"{ctx.U64("map")} is not an arena map fd", "map");

    // The program's map for the MAP argument; kfuncs take any map (they check the type), accesses need the arena.
    private static StepResult WithArena(OpContext ctx, Func<BpfArena, BpfMap, StepResult> f)
    {
        var prog = ctx.SubjectAs<BpfProg>();
        var fd = ctx.U64("map");
        if (prog.MapByFd(fd) is not { } map)
        {
            return ctx.Error($"the program was not loaded with map fd {fd}", "map");
        }

        if (map is BpfArena arena)
        {
            return f(arena, map);
        }

        // A kfunc called on a non-arena map returns NULL / does nothing; an arena access needs an arena.
        return ctx.Op is "arena_alloc_pages" ? StepResult.Of(0UL)
            : ctx.Op is "arena_free_pages" ? StepResult.Done
            : ctx.Error($"map fd {fd} is not an arena", "map");
    }

    /// <summary>The arena behind map fd number <paramref name="arg"/> in any process (first in spawn order), or null.</summary>
    internal static BpfArena? ResolveArena(OpContext ctx, string arg)
    {
        var fd = ctx.U64(arg);
        var seen = Seen.GetOrCreateValue(ctx.Machine);
        foreach (var task in ctx.Machine.Tasks.All)
        {
            if (task.Files?.Lookup((int)fd) is { PrivateData: BpfMap map })
            {
                seen[fd] = map;
                return map as BpfArena;
            }
        }

        return seen.GetValueOrDefault(fd) as BpfArena;
    }
}
