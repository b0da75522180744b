using System.Runtime.CompilerServices;
using MmSim.Kernel;
using MmSim.Scenario;

namespace MmSim.Vm;

/// <summary>
/// The process statements of the scenario language: mmap, munmap, mprotect, mremap, read, write, fork, exit, close,
/// <c>show maps P</c>, <c>stat vmas P</c>; and the extensions for the test device: <c>P: F = open_test [mode=r|w|rw]
/// [pages=N] [vmflags=...] [refuse=split|mremap|mprotect|mmap]</c> (a new <see cref="TestDevice"/> whose vm_ops count
/// open/close) with <c>stat test_open F</c>, <c>stat test_close F</c>, <c>stat test_mmaps F</c>.
/// </summary>
[ScenarioOps]
internal static class VmScenarioOps
{
    private static readonly WordTable OpenModes = new("open mode",
        ("r", OpenFlags.O_RDONLY), ("w", OpenFlags.O_WRONLY), ("rw", OpenFlags.O_RDWR));

    private static readonly WordTable DeviceVmFlags = new("vm flag",
        ("none", 0), ("dontexpand", (ulong)VmFlags.VM_DONTEXPAND), ("dontcopy", (ulong)VmFlags.VM_DONTCOPY),
        ("wipeonfork", (ulong)VmFlags.VM_WIPEONFORK), ("mixedmap", (ulong)VmFlags.VM_MIXEDMAP), ("io", (ulong)VmFlags.VM_IO),
        ("dontdump", (ulong)VmFlags.VM_DONTDUMP));

    private static readonly WordTable Refusals = new("refusal",
        ("split", 1), ("mremap", 2), ("mprotect", 4), ("mmap", 8));

    // The test devices of each machine, by the fd number open_test returned (the latest one wins).
    private static readonly ConditionalWeakTable<Machine, Dictionary<ulong, TestDevice>> Devices = [];

    public static void Register(OpRegistry r)
    {
        r.Process("mmap", ctx => StepResult.FromSyscall(ctx.Process.Mmap(ctx.U64("addr", 0), ctx.U64("len"),
            ctx.U64("prot"), ctx.U64("flags"), (int)ctx.I64("fd", -1), ctx.U64("off", 0))));
        r.Process("munmap", ctx => StepResult.FromSyscall(ctx.Process.Munmap(ctx.U64("addr"), ctx.U64("len"))));
        r.Process("mprotect", ctx => StepResult.FromSyscall(ctx.Process.Mprotect(ctx.U64("addr"), ctx.U64("len"), ctx.U64("prot"))));
        r.Process("mremap", ctx => StepResult.FromSyscall(ctx.Process.Mremap(ctx.U64("addr"), ctx.U64("oldlen"),
            ctx.U64("newlen"), ctx.U64("flags", 0), ctx.U64("new", 0))));
        r.Process("read", ctx => Access(ctx.Process.UserRead(ctx.U64("addr"), (int)ctx.U64("size", 8))));
        r.Process("write", ctx => Access(ctx.Process.UserWrite(ctx.U64("addr"), (int)ctx.U64("size", 8), ctx.U64("value"))));
        r.Process("fork", Fork);
        r.Process("exit", ctx =>
        {
            ctx.Process.Exit();
            return StepResult.Done;
        });
        r.Process("close", ctx => StepResult.FromSyscall(ctx.Process.Close((int)ctx.I64("fd"))));
        r.Show("maps", ctx => StepResult.Show(ProcMaps.Show(ctx.ProcessArg("proc"))));
        r.Stat("vmas", ctx => StepResult.Of((ulong)(ctx.ProcessArg("proc").Mm?.MapCount ?? 0)));

        r.Add(new OpSchema(OpScope.Process, "open_test")
                .Option("mode", ArgKind.Word, OpenModes).Option("pages", ArgKind.Expr)
                .Option("vmflags", ArgKind.Flags, DeviceVmFlags).Option("refuse", ArgKind.Flags, Refusals),
            OpenTest);
        r.Add(new OpSchema(OpScope.Global, "stat test_open").Arg("fd", ArgKind.Expr), ctx => DeviceStat(ctx, d => d.Opens));
        r.Add(new OpSchema(OpScope.Global, "stat test_close").Arg("fd", ArgKind.Expr), ctx => DeviceStat(ctx, d => d.Closes));
        r.Add(new OpSchema(OpScope.Global, "stat test_mmaps").Arg("fd", ArgKind.Expr), ctx => DeviceStat(ctx, d => d.Mmaps));
    }

    // A user access: its value, or the signal (the runner also sees it on the task); an OOM shows as ENOMEM.
    private static StepResult Access(UserAccessResult r) =>
        r.Signal is { } s ? StepResult.Sig(s.Signo) : r.Oom ? StepResult.Err(Errno.ENOMEM) : StepResult.Of(r.Value);

    private static StepResult Fork(OpContext ctx)
    {
        var ret = ctx.Process.Fork(ctx.Name("child"), out var child);
        if (child is null)
        {
            return StepResult.FromSyscall(ret);
        }

        ctx.Define(ctx.Name("child"), child);
        return StepResult.Done;
    }

    private static StepResult OpenTest(OpContext ctx)
    {
        var dev = new TestDevice(ctx.Machine, pages: ctx.U64("pages", 256))
        {
            MmapSetsFlags = ctx.Has("vmflags") ? (VmFlags)ctx.U64("vmflags") : VmFlags.VM_DONTEXPAND,
        };
        var refuse = ctx.U64("refuse", 0);
        if ((refuse & 1) != 0)
        {
            dev.MaySplitError = -(int)Errno.EINVAL;
        }

        if ((refuse & 2) != 0)
        {
            dev.MremapError = -(int)Errno.EINVAL;
        }

        if ((refuse & 4) != 0)
        {
            dev.MprotectError = -(int)Errno.EINVAL;
        }

        if ((refuse & 8) != 0)
        {
            dev.MmapError = -(int)Errno.EINVAL;
        }

        var fd = dev.Open(ctx.Process, (int)ctx.U64("mode", OpenFlags.O_RDWR));
        if (fd >= 0)
        {
            Devices.GetOrCreateValue(ctx.Machine)[(ulong)fd] = dev;
        }

        return StepResult.FromSyscall(fd);
    }

    private static StepResult DeviceStat(OpContext ctx, Func<TestDevice, int> counter)
    {
        var fd = ctx.U64("fd");
        if (!Devices.TryGetValue(ctx.Machine, out var devices) || !devices.TryGetValue(fd, out var dev))
        {
            return ctx.Error($"no test device was opened as fd {fd}", "fd");
        }

        return StepResult.Of((ulong)counter(dev));
    }
}
