using MmSim.Bpf;
using MmSim.Kernel;
using MmSim.Scenario;
using MmSim.Tests.Scenario;
using MmSim.Vm;
using Xunit;

namespace MmSim.Tests.Bpf;

/// <summary>
/// Runs tests/scenarios/arena/*.mms (and the contract example) now, against the default registry completed with a
/// stand-in for the bpf(2) statements while the bpf layer has not landed: <c>map_create</c> (arena only),
/// <c>prog_load</c>, <c>stat vm_open</c>, <c>stat vm_close</c>. Once the real ones are registered the stand-in
/// is not used and this runs the files against them.
/// </summary>
public class ArenaScenarioTests
{
    private static readonly Lazy<OpRegistry> s_registry = new(Build);

    private static OpRegistry Build()
    {
        var r = OpRegistry.CreateDefault();
        if (r.FindHandler(OpScope.Process, "map_create") is null)
        {
            BpfStandIn.Register(r);
        }

        return r;
    }

    public static TheoryData<string> Files() =>
        [.. CorpusTests.FileList().Where(f => f.Contains("/arena/", StringComparison.Ordinal) || f.EndsWith("example.pending.mms", StringComparison.Ordinal))];

    [Theory]
    [MemberData(nameof(Files))]
    public void Run(string rel)
    {
        var r = RunOutput.Run(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, rel)), s_registry.Value, rel);
        Assert.True(r.ExitCode == ExitCodes.Ok, $"exit {r.ExitCode}\nstdout:\n{r.Out}\nstderr:\n{r.Err}");
    }

    /// <summary>The stand-in bpf(2) statements.</summary>
    private static class BpfStandIn
    {
        public static void Register(OpRegistry r)
        {
            r.Process("map_create", MapCreate);
            r.Process("prog_load", ProgLoad);
            r.Stat("vm_open", ctx => ArenaScenarioOps.ResolveArena(ctx, "map") is { } a ? StepResult.Of(a.VmOpenCalls) : ctx.Error("no map"));
            r.Stat("vm_close", ctx => ArenaScenarioOps.ResolveArena(ctx, "map") is { } a ? StepResult.Of(a.VmCloseCalls) : ctx.Error("no map"));
        }

        private static StepResult MapCreate(OpContext ctx)
        {
            if (ctx.U64("type") != (ulong)BpfMapType.BPF_MAP_TYPE_ARENA)
            {
                return ctx.Error("the stand-in creates arenas only", "type");
            }

            var h = new ArenaHarness(ctx.Machine);
            return StepResult.FromSyscall(h.Create(ctx.Process, (uint)ctx.U64("entries"), (uint)ctx.U64("flags", 0),
                ctx.U64("extra", 0), out _, (uint)ctx.U64("key", 0), (uint)ctx.U64("value", 0)));
        }

        private static StepResult ProgLoad(OpContext ctx)
        {
            var files = ctx.Process.Files!;
            var prog = new BpfProg(ctx.Machine.Bpf, 1);
            var maps = new List<BpfMap>();
            foreach (var fd in ctx.List("maps"))
            {
                if (files.Lookup((int)fd) is not { PrivateData: BpfMap map })
                {
                    return StepResult.Err(Errno.EBADF);
                }

                maps.Add(map);
                prog.AddUsedMap(fd, map);
            }

            var err = BpfArena.CheckOneArena(maps);
            foreach (var map in maps)
            {
                err = err != 0 ? err : map.CheckProgLoad();
            }

            if (err != 0)
            {
                return StepResult.FromSyscall(err);
            }

            foreach (var map in prog.UsedMaps)
            {
                map.Refcnt++;
            }

            var pfd = ctx.Machine.Vm.AnonInodeGetFd(ctx.Process, "bpf-prog", new ProgFile(), prog, OpenFlags.O_RDWR);
            return StepResult.FromSyscall(pfd).WithObject(prog);
        }

        private sealed class ProgFile : FileOperations
        {
            public override void Release(VfsFile file)
            {
                foreach (var map in ((BpfProg)file.PrivateData!).UsedMaps)
                {
                    if (--map.Refcnt == 0)
                    {
                        map.MapFree();
                        map.Freed = true;
                    }
                }
            }
        }
    }
}
