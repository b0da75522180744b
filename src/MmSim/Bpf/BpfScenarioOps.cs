using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using MmSim.Scenario;
using MmSim.Vm;

namespace MmSim.Bpf;

/// <summary>
/// The bpf statements of the scenario language: <c>map_create</c>, <c>map_lookup</c>, <c>map_update</c>,
/// <c>map_delete</c>, <c>map_get_next_key</c>, <c>map_freeze</c>, <c>prog_load</c>; program-side <c>map_lookup</c> /
/// <c>map_update</c>; <c>stat vm_open|vm_close|writecnt M</c>, <c>stat memcg</c>; and the extensions
/// <c>show map M</c>, <c>P: E = perf_event_open [inherit=1]</c>, <c>P: C = cgroup_open [v1=1]</c>,
/// <c>G: tail_call MAP INDEX</c>.
/// </summary>
[ScenarioOps]
internal static class BpfScenarioOps
{
    public static void Register(OpRegistry r)
    {
        r.Process("map_create", MapCreate);
        r.Process("map_lookup", MapLookup);
        r.Process("map_update", MapUpdate);
        r.Process("map_delete", ctx => StepResult.FromSyscall(ctx.Machine.Bpf.MapDeleteElem(ctx.Process, Fd(ctx), Key(ctx))));
        r.Process("map_freeze", ctx => StepResult.FromSyscall(ctx.Machine.Bpf.MapFreeze(ctx.Process, Fd(ctx))));
        r.Process("map_get_next_key", MapGetNextKey);
        r.Process("prog_load", ProgLoad);
        r.Program("map_lookup", ProgMapLookup);
        r.Program("map_update", ProgMapUpdate);
        r.Stat("vm_open", ctx => StepResult.Of((ulong)MapArg(ctx).VmOpenCalls));
        r.Stat("vm_close", ctx => StepResult.Of((ulong)MapArg(ctx).VmCloseCalls));
        r.Stat("writecnt", ctx => StepResult.Of((ulong)MapArg(ctx).Writecnt));
        r.Stat("memcg", ctx => StepResult.Of(ctx.Machine.Memcg.Usage));

        r.Add(new OpSchema(OpScope.Global, "show map", ResultKind.None).Arg("map", ArgKind.Expr), ShowMap);
        r.Add(new OpSchema(OpScope.Process, "perf_event_open").Option("inherit", ArgKind.Expr),
            ctx => StepResult.FromSyscall(PerfEventFileOps.PerfEventOpen(ctx.Process, ctx.U64("inherit", 0) != 0)));
        r.Add(new OpSchema(OpScope.Process, "cgroup_open").Option("v1", ArgKind.Expr),
            ctx => StepResult.FromSyscall(CgroupDirFileOps.CgroupOpen(ctx.Process, ctx.U64("v1", 0) != 0)));
        r.Add(new OpSchema(OpScope.Program, "tail_call").Arg("map", ArgKind.Expr).Arg("index", ArgKind.Expr), TailCall);
    }

    private static int Fd(OpContext ctx) => unchecked((int)ctx.U64("fd"));

    private static byte[] Key(OpContext ctx) => Le(ctx.U64("key"), 8);

    private static byte[] Le(ulong v, int size)
    {
        var b = new byte[Math.Max(size, 8)];
        BinaryPrimitives.WriteUInt64LittleEndian(b, v);
        return b;
    }

    // The map behind an fd of the process (to size buffers); null when the fd is not a map.
    private static BpfMap? MapOfFd(TaskStruct task, int fd) => task.Files?.Lookup(fd)?.PrivateData as BpfMap;

    /// <summary>The map a global statement names: the bound object, else the first process whose fd has that number.</summary>
    internal static BpfMap MapArg(OpContext ctx)
    {
        if (ctx.BoundObject<BpfMap>("map") is { } m)
        {
            return m;
        }

        var fd = unchecked((int)ctx.U64("map"));
        foreach (var t in ctx.Machine.Tasks.All)
        {
            if (!t.Exited && MapOfFd(t, fd) is { } map)
            {
                return map;
            }
        }

        throw ctx.Fail($"'{ctx.Statement.Text}': no map is bound to that name or open as fd {fd}", "map");
    }

    private static StepResult MapCreate(OpContext ctx)
    {
        var type = (BpfMapType)ctx.U64("type");
        var isFdArray = type is BpfMapType.BPF_MAP_TYPE_PROG_ARRAY or BpfMapType.BPF_MAP_TYPE_PERF_EVENT_ARRAY
            or BpfMapType.BPF_MAP_TYPE_CGROUP_ARRAY;
        var arena = type == BpfMapType.BPF_MAP_TYPE_ARENA;
        if (arena && ctx.Machine.Bpf.MapOpsOf(type) is null)
        {
            // A build without the arena layer: the statement exists in the language but not yet in the simulator.
            return ctx.Error("'map_create type=arena' is not implemented yet", "type");
        }

        var attr = new MapCreateAttr
        {
            MapType = type,
            KeySize = (uint)ctx.U64("key", arena ? 0UL : 4UL),
            ValueSize = (uint)ctx.U64("value", arena ? 0UL : isFdArray ? 4UL : 8UL),
            MaxEntries = (uint)ctx.U64("entries"),
            MapFlags = (uint)ctx.U64("flags", 0),
            MapExtra = ctx.U64("extra", 0),
            NumaNode = (uint)ctx.U64("node", 0),
        };
        var fd = ctx.Machine.Bpf.MapCreate(ctx.Process, attr);
        if (fd < 0)
        {
            return StepResult.FromSyscall(fd);
        }

        var map = MapOfFd(ctx.Process, (int)fd)!;
        return StepResult.Of(fd).WithObject(map);
    }

    // The first min(8, value_size) bytes of each value, little endian (per-CPU maps: one per possible CPU).
    private static StepResult ValueResult(BpfMap map, ReadOnlySpan<byte> value)
    {
        var n = (int)Math.Min(8, map.ValueSize);
        if (map is PercpuArrayMap p)
        {
            var list = new ulong[map.Machine.PossibleCpus];
            for (var cpu = 0; cpu < list.Length; cpu++)
            {
                list[cpu] = ReadLe(value.Slice(cpu * (int)p.ElemSize, n));
            }

            return StepResult.OfList(list);
        }

        return StepResult.Of(ReadLe(value[..Math.Min(n, value.Length)]));
    }

    private static ulong ReadLe(ReadOnlySpan<byte> b)
    {
        Span<byte> v = stackalloc byte[8];
        v.Clear();
        b.CopyTo(v);
        return BinaryPrimitives.ReadUInt64LittleEndian(v);
    }

    // The value buffer of an update: VALUE (or the list) in the first min(8, value_size) bytes of each value.
    private static byte[]? ValueBuffer(OpContext ctx, BpfMap? map, out StepResult? error)
    {
        error = null;
        var size = (int)(map?.SysValueSize ?? 8);
        var buf = new byte[Math.Max(size, 8)];
        if (map is PercpuArrayMap p)
        {
            var values = ctx.List("value");
            var cpus = ctx.Machine.PossibleCpus;
            if (values.Count != 1 && values.Count != cpus)
            {
                error = ctx.Error($"a per-CPU value needs 1 or {cpus} values, not {values.Count}", "value");
                return null;
            }

            var n = (int)Math.Min(8, p.ValueSize);
            for (var cpu = 0; cpu < cpus; cpu++)
            {
                var v = Le(values.Count == 1 ? values[0] : values[cpu], 8);
                v.AsSpan(0, n).CopyTo(buf.AsSpan(cpu * (int)p.ElemSize));
            }

            return buf;
        }

        if (ctx.IsList("value"))
        {
            error = ctx.Error("only per-CPU maps take a list of values", "value");
            return null;
        }

        var one = Le(ctx.U64("value"), 8);
        one.AsSpan(0, (int)Math.Min(8, (uint)size)).CopyTo(buf);
        return buf;
    }

    private static StepResult MapLookup(OpContext ctx)
    {
        var fd = Fd(ctx);
        var map = MapOfFd(ctx.Process, fd);
        var value = new byte[Math.Max(map?.SysValueSize ?? 8, 8)];
        var ret = ctx.Machine.Bpf.MapLookupElem(ctx.Process, fd, Key(ctx), value);
        return ret < 0 ? StepResult.FromSyscall(ret) : ValueResult(map!, value);
    }

    private static StepResult MapUpdate(OpContext ctx)
    {
        var fd = Fd(ctx);
        var map = MapOfFd(ctx.Process, fd);
        var value = ValueBuffer(ctx, map, out var error);
        if (value is null)
        {
            return error!;
        }

        return StepResult.FromSyscall(ctx.Machine.Bpf.MapUpdateElem(ctx.Process, fd, Key(ctx), value, ctx.U64("flags", 0)));
    }

    private static StepResult MapGetNextKey(OpContext ctx)
    {
        var next = new byte[8];
        var hasKey = ctx.Has("key");
        var ret = ctx.Machine.Bpf.MapGetNextKey(ctx.Process, Fd(ctx), hasKey ? Key(ctx) : default, !hasKey, next);
        return ret < 0 ? StepResult.FromSyscall(ret) : StepResult.Of(BinaryPrimitives.ReadUInt32LittleEndian(next));
    }

    private static StepResult ProgLoad(OpContext ctx)
    {
        var fds = ctx.List("maps").Select(v => unchecked((int)v)).ToArray();
        var ret = ctx.Machine.Bpf.ProgLoad(ctx.Process, fds, out var prog);
        return ret < 0 ? StepResult.FromSyscall(ret) : StepResult.Of(ret).WithObject(prog!);
    }

    // A program statement's MAP: one of the fds it was loaded with, or a bound map object.
    private static BpfMap ProgMap(OpContext ctx, BpfProg prog)
    {
        if (prog.MapByFd(ctx.U64("map")) is { } m)
        {
            return m;
        }

        return ctx.BoundObject<BpfMap>("map") ?? throw ctx.Fail("the program was not loaded with that map", "map");
    }

    private static StepResult ProgMapLookup(OpContext ctx)
    {
        var prog = ctx.SubjectAs<BpfProg>();
        var map = ProgMap(ctx, prog);
        var value = new byte[Math.Max(map.ValueSize, 8)];
        var err = BpfSubsystem.ProgMapLookup(prog, map, Key(ctx), value);
        if (err != 0)
        {
            return StepResult.FromSyscall(err);
        }

        return StepResult.Of(ReadLe(value.AsSpan(0, (int)Math.Min(8, map.ValueSize))));
    }

    private static StepResult ProgMapUpdate(OpContext ctx)
    {
        var prog = ctx.SubjectAs<BpfProg>();
        var map = ProgMap(ctx, prog);
        if (ctx.IsList("value"))
        {
            return ctx.Error("a program updates one value (this CPU's)", "value");
        }

        var value = new byte[Math.Max(map.ValueSize, 8)];
        Le(ctx.U64("value"), 8).AsSpan(0, (int)Math.Min(8, map.ValueSize)).CopyTo(value);
        return StepResult.FromSyscall(BpfSubsystem.ProgMapUpdate(prog, map, Key(ctx), value, ctx.U64("flags", 0)));
    }

    private static StepResult TailCall(OpContext ctx)
    {
        var prog = ctx.SubjectAs<BpfProg>();
        var map = ProgMap(ctx, prog);
        return StepResult.Of((ulong)BpfSubsystem.RunTailCallChain(prog, map, (uint)ctx.U64("index")));
    }

    private static StepResult ShowMap(OpContext ctx) => StepResult.Show(BpftoolMapShow(MapArg(ctx)));

    /// <summary>A bpftool-like <c>map show</c> of one map, plus the simulator's details.</summary>
    internal static string BpftoolMapShow(BpfMap map)
    {
        var sb = new StringBuilder();
        var type = map.MapType.ToString()["BPF_MAP_TYPE_".Length..].ToLowerInvariant();
        sb.Append(CultureInfo.InvariantCulture, $"{map.Id}: {type}  name {(map.Name.Length == 0 ? "-" : map.Name)}  flags 0x{map.MapFlags:x}{(map.Frozen ? "  frozen" : "")}\n");
        sb.Append(CultureInfo.InvariantCulture, $"\tkey {map.KeySize}B  value {map.ValueSize}B  max_entries {map.MaxEntries}  memlock {map.MapMemUsage()}B\n");
        sb.Append(CultureInfo.InvariantCulture, $"\trefcnt {map.Refcnt}  usercnt {map.Usercnt}  files {map.OpenFiles}  progs {map.ProgRefs}\n");
        foreach (var line in map.ShowDetails())
        {
            sb.Append(line).Append('\n');
        }

        return sb.ToString();
    }
}
