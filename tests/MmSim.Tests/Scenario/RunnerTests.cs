using MmSim.Kernel;
using MmSim.Scenario;
using MmSim.Vm;
using Xunit;

namespace MmSim.Tests.Scenario;

public class RunnerTests
{
    /// <summary>A registry with test statements that return each kind of result.</summary>
    private static OpRegistry TestRegistry()
    {
        var r = TestRegistries.Foundation();
        r.Add(new OpSchema(OpScope.Global, "t_value").Arg("v", ArgKind.Expr), ctx => StepResult.Of(ctx.U64("v")));
        r.Add(new OpSchema(OpScope.Global, "t_list").Arg("v", ArgKind.List), ctx => StepResult.OfList(ctx.List("v")));
        r.Add(new OpSchema(OpScope.Global, "t_null"), _ => StepResult.Null);
        r.Add(new OpSchema(OpScope.Global, "t_errno").Arg("e", ArgKind.Expr), ctx => StepResult.FromSyscall(-(long)ctx.U64("e")));
        r.Add(new OpSchema(OpScope.Global, "t_kasan"), ctx =>
        {
            ctx.Machine.Reports.ReportKasan(KasanBugType.SlabUseAfterFree, "t_kasan", "read of freed object");
            return StepResult.Of(0UL);
        });
        r.Add(new OpSchema(OpScope.Global, "t_warn"), ctx =>
        {
            ctx.Machine.Reports.WarnOn(true, "t_warn", "a warning");
            return StepResult.Of(0UL);
        });
        r.Add(new OpSchema(OpScope.Global, "t_both"), ctx =>
        {
            ctx.Machine.Reports.WarnOn(true, "t_both", "a warning");
            ctx.Machine.Reports.ReportKasan(KasanBugType.DoubleFree, "t_both", "double free");
            return StepResult.Of(0UL);
        });
        r.Add(new OpSchema(OpScope.Global, "t_violation"), _ => StepResult.Violations(["x: broken", "y: broken too"]));
        r.Add(new OpSchema(OpScope.Global, "t_error"), ctx => ctx.Error("bad thing"));
        r.Add(new OpSchema(OpScope.Global, "t_throw_scenario").Arg("v", ArgKind.Expr), ctx => throw ctx.Fail("bad value", "v"));
        r.Add(new OpSchema(OpScope.Global, "t_throw"), _ => throw new InvalidOperationException("boom"));
        r.Add(new OpSchema(OpScope.Global, "t_show"), _ => StepResult.Show("line 1\nline 2\n"));
        r.Add(new OpSchema(OpScope.Global, "t_rcu"), ctx =>
        {
            ctx.Machine.Rcu.CallRcu(() => ctx.Machine.Reports.ReportKasan(KasanBugType.SlabUseAfterFree, "rcu_cb", "late"));
            return StepResult.Done;
        });
        r.Add(new OpSchema(OpScope.Global, "t_int").Arg("v", ArgKind.Expr), ctx => StepResult.Of((ulong)ctx.Int("v", 0, 10)));
        r.Add(new OpSchema(OpScope.Global, "t_unimplemented"), _ => StepResult.Done);
        r.Add(new OpSchema(OpScope.Global, "t_args").Arg("p", ArgKind.ProcessRef).Option("prot", ArgKind.Prot)
                .Option("flags", ArgKind.Flags, OpSchemas.MmapFlags).Option("vals", ArgKind.ExprOrList).Option("n", ArgKind.Expr),
            ctx => StepResult.Show($"{ctx.ProcessArg("p").Comm} prot={ctx.U64("prot", 99)} flags={ctx.U64("flags", 99)} " +
                                   $"words={string.Join('+', ctx.Words("flags"))} list={ctx.IsList("vals")}:{string.Join('/', ctx.Has("vals") ? ctx.List("vals") : [])} " +
                                   $"n={ctx.I64("n", 7)}\n"));
        r.Process("read", ctx =>
        {
            ctx.Process.ForceSigFault(Signal.SIGSEGV, SiCode.SEGV_MAPERR, ctx.U64("addr"));
            return StepResult.Of(0UL);
        });
        r.Process("write", ctx =>
        {
            ctx.Process.ForceSigFault(Signal.SIGBUS, SiCode.BUS_ADRERR, ctx.U64("addr"));
            return StepResult.Sig(Signal.SIGBUS);
        });
        r.Process("fork", ctx =>
        {
            ctx.Define(ctx.Name("child"), ctx.Machine.Tasks.Spawn(ctx.Name("child")));
            return StepResult.Done;
        });
        r.Process("exit", ctx =>
        {
            return StepResult.Done;
        });
        r.Process("prog_load", ctx => StepResult.Of(3UL).WithObject(new TestProgram(ctx.List("maps"))));
        r.Program("cast_user", ctx => StepResult.Of(ctx.SubjectAs<TestProgram>().Maps.Sum(m => (long)m) + (long)ctx.U64("addr")));
        // The tree statements are the maple tree layer's own (Scenario/TreeOps.cs).
        TreeOps.Register(r);
        return r;
    }

    private sealed record TestProgram(IReadOnlyList<ulong> Maps);

    private static readonly OpRegistry s_registry = TestRegistry();

    private static RunOutput Run(string text) => RunOutput.Run(text, s_registry);

    private static string StepLine(string text) => Run(text).OutLines[0];

    [Theory]
    [InlineData("t_value 5", "t.mms:1: t_value 5 => 5 ok")]
    [InlineData("t_value 0xffff", "t.mms:1: t_value 0xffff => 65535 ok")]
    [InlineData("t_value 0x10000", "t.mms:1: t_value 0x10000 => 0x10000 ok")]
    [InlineData("t_value -1", "t.mms:1: t_value -1 => 0xffffffffffffffff ok")]
    [InlineData("t_value 5 => 5", "t.mms:1: t_value 5 => 5 ok")]
    [InlineData("t_value 5 => 2 + 3", "t.mms:1: t_value 5 => 5 ok")]
    [InlineData("t_value 5 => 6", "t.mms:1: t_value 5 => 5 FAIL (expected 6)")]
    [InlineData("t_value 5 => 1 + 1", "t.mms:1: t_value 5 => 5 FAIL (expected 1 + 1 = 2)")]
    [InlineData("t_value 5 => any", "t.mms:1: t_value 5 => 5 ok")]
    [InlineData("t_value 5 => null", "t.mms:1: t_value 5 => 5 FAIL (expected null)")]
    [InlineData("t_value 5 => EINVAL", "t.mms:1: t_value 5 => 5 FAIL (expected EINVAL)")]
    [InlineData("t_value 5 => SIGSEGV", "t.mms:1: t_value 5 => 5 FAIL (expected SIGSEGV)")]
    [InlineData("t_value 5 => KASAN", "t.mms:1: t_value 5 => 5 FAIL (expected KASAN)")]
    [InlineData("t_value 5 => WARN", "t.mms:1: t_value 5 => 5 FAIL (expected WARN)")]
    [InlineData("t_value 5 => 5,5", "t.mms:1: t_value 5 => 5 FAIL (expected 5,5)")]
    [InlineData("t_list 1,2,3", "t.mms:1: t_list 1,2,3 => 1,2,3 ok")]
    [InlineData("t_list 1,2,3 => 1, 2, 3", "t.mms:1: t_list 1,2,3 => 1,2,3 ok")]
    [InlineData("t_list 1,2,3 => 1,2", "t.mms:1: t_list 1,2,3 => 1,2,3 FAIL (expected 1,2)")]
    [InlineData("t_list 1,0x10000 => 3", "t.mms:1: t_list 1,0x10000 => 1,0x10000 FAIL (expected 3)")]
    [InlineData("t_list 7 => 7", "t.mms:1: t_list 7 => 7 ok")]
    [InlineData("t_null", "t.mms:1: t_null => null ok")]
    [InlineData("t_null => null", "t.mms:1: t_null => null ok")]
    [InlineData("t_null => 0", "t.mms:1: t_null => null FAIL (expected 0)")]
    [InlineData("t_errno 22", "t.mms:1: t_errno 22 => EINVAL FAIL (expected ok)")]
    [InlineData("t_errno 22 => EINVAL", "t.mms:1: t_errno 22 => EINVAL ok")]
    [InlineData("t_errno 12 => EINVAL", "t.mms:1: t_errno 12 => ENOMEM FAIL (expected EINVAL)")]
    [InlineData("t_errno 12 => any", "t.mms:1: t_errno 12 => ENOMEM ok")]
    [InlineData("t_errno 0", "t.mms:1: t_errno 0 => 0 ok")]
    [InlineData("t_kasan", "t.mms:1: t_kasan => 0 KASAN FAIL (expected ok)")]
    [InlineData("t_kasan => any", "t.mms:1: t_kasan => 0 KASAN FAIL (expected any)")]
    [InlineData("t_kasan => 0", "t.mms:1: t_kasan => 0 KASAN FAIL (expected 0)")]
    [InlineData("t_kasan => KASAN", "t.mms:1: t_kasan => 0 KASAN ok")]
    [InlineData("t_kasan => WARN", "t.mms:1: t_kasan => 0 KASAN FAIL (expected WARN)")]
    [InlineData("t_warn", "t.mms:1: t_warn => 0 WARN FAIL (expected ok)")]
    [InlineData("t_warn => WARN", "t.mms:1: t_warn => 0 WARN ok")]
    [InlineData("t_warn => KASAN", "t.mms:1: t_warn => 0 WARN FAIL (expected KASAN)")]
    [InlineData("t_both => KASAN", "t.mms:1: t_both => 0 KASAN WARN ok")]
    [InlineData("t_both => WARN", "t.mms:1: t_both => 0 KASAN WARN FAIL (expected WARN)")]
    [InlineData("t_violation", "t.mms:1: t_violation => 2 violations FAIL (expected ok)")]
    [InlineData("t_violation => any", "t.mms:1: t_violation => 2 violations ok")]
    [InlineData("t_rcu", "t.mms:1: t_rcu => KASAN FAIL (expected ok)")]
    [InlineData("t_rcu => KASAN", "t.mms:1: t_rcu => KASAN ok")]
    [InlineData("spawn p", "t.mms:1: spawn p => ok")]
    [InlineData("spawn   p   # comment", "t.mms:1: spawn p => ok")]
    public void Outcomes(string text, string line)
    {
        var machine = text.StartsWith("spawn", StringComparison.Ordinal) ? "" : "spawn zz\n";
        var r = Run(machine + text);
        var expect = machine.Length == 0 ? line : line.Replace("t.mms:1:", "t.mms:2:", StringComparison.Ordinal);
        Assert.Equal(expect, r.OutLines[machine.Length == 0 ? 0 : 1]);
        Assert.Equal(expect.Contains(" ok", StringComparison.Ordinal) && !expect.Contains("FAIL", StringComparison.Ordinal) ? 0 : 1, r.ExitCode);
        Assert.Equal("", r.Err);
    }

    [Fact]
    public void ReportsAndViolationsArePrintedIndented()
    {
        var r = Run("t_both => KASAN\nt_violation => any\nt_show");
        Assert.Equal(
            [
                "t.mms:1: t_both => 0 KASAN WARN ok",
                "  BUG: KASAN: double-free in t_both: double free",
                "  WARNING: t_both: a warning",
                "t.mms:2: t_violation => 2 violations ok",
                "  x: broken",
                "  y: broken too",
                "t.mms:3: t_show => ok",
                "line 1",
                "line 2",
                "t.mms: 3 steps, all held",
            ],
            r.OutLines);
    }

    [Fact]
    public void SignalsComeFromTheProcess()
    {
        var r = Run("spawn p\np: read 0x1000 => SIGSEGV\np: read 0x1000\np: write 0 0 => SIGBUS\np: write 0 0 => SIGSEGV");
        Assert.Equal(
            [
                "t.mms:1: spawn p => ok",
                "t.mms:2: p: read 0x1000 => SIGSEGV ok",
                "t.mms:3: p: read 0x1000 => SIGSEGV FAIL (expected ok)",
                "t.mms:4: p: write 0 0 => SIGBUS ok",
                "t.mms:5: p: write 0 0 => SIGBUS FAIL (expected SIGSEGV)",
                "t.mms: 5 steps, 2 failed (lines 3, 5)",
            ],
            r.OutLines);
        Assert.Equal(ExitCodes.Failed, r.ExitCode);
    }

    [Fact]
    public void NamesBindValuesAndObjects()
    {
        var r = Run("spawn p\np: g = prog_load maps=10,20\ng: x = cast_user 1 5 => 35\nt_value g + x => 38\np: fork c\nc: read 0 => SIGSEGV\n" +
                    "tree t alloc_range\nt: insert 9 9 9\nt: load 9 => 9\ntree u\nu: load 9 => null\nt_args p prot=rx flags=shared|fixed|0x100 vals=1,2 n=-1\n" +
                    "t_args c vals=4");
        Assert.Equal(ExitCodes.Ok, r.ExitCode);
        Assert.Contains("t.mms:3: g: x = cast_user 1 5 => 35 ok", r.OutLines);
        Assert.Contains("p prot=5 flags=273 words=shared+fixed list=True:1/2 n=-1", r.OutLines);
        Assert.Contains("c prot=99 flags=99 words= list=False:4 n=7", r.OutLines);
    }

    [Fact]
    public void FailedBindingMakesLaterStepsFailNotCrash()
    {
        var r = Run("x = t_errno 12\nt_value x => 1\ny = t_value 3 => 4\nt_value y => 3");
        Assert.Equal(
            [
                "t.mms:1: x = t_errno 12 => ENOMEM FAIL (expected ok)",
                "t.mms:2: t_value x => FAIL (not run: 'x' has no value because t.mms:1 failed)",
                "t.mms:3: y = t_value 3 => 3 FAIL (expected 4)",
                "t.mms:4: t_value y => 3 ok",
                "t.mms: 4 steps, 3 failed (lines 1, 2, 3)",
            ],
            r.OutLines);
        Assert.Equal(ExitCodes.Failed, r.ExitCode);
    }

    [Fact]
    public void AHeldStepWithoutValueLeavesItsNameUnbound()
    {
        var r = Run("x = t_errno 12 => ENOMEM\nt_value x");
        Assert.Equal(ExitCodes.Error, r.ExitCode);
        Assert.Equal("t.mms:2:9: 'x' has no value: t.mms:1 returned ENOMEM", r.ErrLines.Single());
        Assert.Equal("t.mms:2: t_value x => ERROR ('x' has no value: t.mms:1 returned ENOMEM)", r.OutLines[1]);
        Assert.Equal("t.mms: 2 steps, stopped by an error", r.OutLines[2]);
    }

    [Fact]
    public void AListIsNotAValue()
    {
        var r = Run("x = t_list 1,2\nt_value x");
        Assert.Equal(ExitCodes.Error, r.ExitCode);
        Assert.Equal("t.mms:2:9: 'x' holds a list, not a value", r.ErrLines.Single());
        Assert.Equal(ExitCodes.Ok, Run("x = t_list 5\nt_value x => 5").ExitCode);
    }

    [Fact]
    public void AFailedForkLeavesTheChildUnbound()
    {
        var reg = TestRegistries.Foundation();
        reg.Process("fork", _ => StepResult.Err(Errno.ENOMEM));
        var r = RunOutput.Run("spawn p\np: fork c\nc: exit", reg);
        Assert.Equal("t.mms:3: c: exit => FAIL (not run: 'c' has no value because t.mms:2 failed)", r.OutLines[2]);
        Assert.Equal(ExitCodes.Failed, r.ExitCode);
        r = RunOutput.Run("spawn p\np: fork c => ENOMEM\nc: exit", reg);
        Assert.Equal("t.mms:3:1: 'c' has no value: t.mms:2 returned ENOMEM", r.ErrLines.Single());
    }

    [Fact]
    public void AProgramWithoutObjectIsExplained()
    {
        var reg = TestRegistries.Foundation();
        reg.Process("prog_load", _ => StepResult.Of(3UL));
        var r = RunOutput.Run("spawn p\np: g = prog_load maps=1\ng: cast_user 1 2", reg);
        Assert.Equal("t.mms:3:1: 'g' holds a value but no program object: the statement that bound it attached none", r.ErrLines.Single());
    }

    [Fact]
    public void AnExitedProcessCannotAct()
    {
        var reg = TestRegistries.Foundation();
        reg.Process("exit", ctx =>
        {
            ctx.Process.Exited = true;
            return StepResult.Done;
        });
        var r = RunOutput.Run("spawn p\np: exit\np: exit", reg);
        Assert.Equal("t.mms:3:1: process 'p' has exited", r.ErrLines.Single());
    }

    [Theory]
    [InlineData("spawn p\np: mmap len=1p prot=rw flags=private|anonymous", "t.mms:2:4: 'mmap' is not implemented yet")]
    [InlineData("stat memcg", "t.mms:1:1: 'stat memcg' is not implemented yet")]
    [InlineData("show maps p", null)]
    [InlineData("t_error", "t.mms:1:1: bad thing")]
    [InlineData("t_throw_scenario 5", "t.mms:1:18: bad value")]
    [InlineData("t_int 11", "t.mms:1:7: v=11 is out of range (0..10)")]
    [InlineData("t_int -1", "t.mms:1:7: v=-1 is out of range (0..10)")]
    [InlineData("t_value 0xffffffffffffffff + 1", "t.mms:1:9: '0xffffffffffffffff + 1' overflows 64 bits")]
    [InlineData("inject failslab", "t.mms:1:1: 'inject failslab' needs nth=N, or probability=P (with interval=, times=, space=)")]
    [InlineData("inject failslab probability=101", "t.mms:1:17: probability=101 is out of range (0..100)")]
    [InlineData("inject failslab nth=-1", "t.mms:1:17: nth=-1 is out of range (0..2147483647)")]
    [InlineData("inject failslab probability=1 times=-2", "t.mms:1:31: times must be -1 (no limit) or a count")]
    [InlineData("inject failslab probability=1 interval=0", "t.mms:1:31: interval=0 is out of range (1..2147483647)")]
    [InlineData("machine ram=4096", "t.mms:1:13: ram=4096 is out of range: a machine has 64K to 16G of memory")]
    [InlineData("machine ram=17G", "t.mms:1:13: ram=0x440000000 is out of range: a machine has 64K to 16G of memory")]
    [InlineData("machine ram=1M + 1", "t.mms:1:13: ram=0x100001 is not a whole number of pages (4096 bytes)")]
    [InlineData("machine cpus=257", "t.mms:1:14: cpus=257 is out of range (1..256)")]
    [InlineData("machine cpus=-1", "t.mms:1:14: cpus=-1 is out of range (1..256)")]
    [InlineData("machine seed=-0x8000000000000000 - 1", "t.mms:1:14: '-0x8000000000000000 - 1' overflows 64 bits")]
    [InlineData("__free_pages 0 order=11", "t.mms:1:16: order=11 is out of range (0..10)")]
    public void SemanticErrorsStopTheFile(string text, string? message)
    {
        var r = Run(text.StartsWith("show maps", StringComparison.Ordinal) ? "spawn p\n" + text : text);
        Assert.Equal(ExitCodes.Error, r.ExitCode);
        if (message is not null)
        {
            Assert.Equal(message, r.ErrLines.Single());
        }
        else
        {
            Assert.Equal("t.mms:2:1: 'show maps' is not implemented yet", r.ErrLines.Single());
        }

        Assert.EndsWith("stopped by an error", r.OutLines[^1], StringComparison.Ordinal);
    }

    [Fact]
    public void TheRestIsNotRunAfterAnError()
    {
        var r = Run("t_value 1 => 2\nt_error\nt_value 3");
        Assert.Equal(
            ["t.mms:1: t_value 1 => 1 FAIL (expected 2)", "t.mms:2: t_error => ERROR (bad thing)", "t.mms: 2 steps, stopped by an error (1 failed before it)"],
            r.OutLines);
        Assert.Equal(ExitCodes.Error, r.ExitCode);
    }

    [Fact]
    public void AnExceptionIsAnInternalErrorNotACrash()
    {
        var r = Run("t_throw\nt_value 1");
        Assert.Equal(ExitCodes.Internal, r.ExitCode);
        Assert.Equal("t.mms:1:1: internal error: InvalidOperationException: boom", r.ErrLines[0]);
        Assert.Equal("t.mms:1: t_throw => ERROR (internal error)", r.OutLines[0]);
    }

    [Fact]
    public void SyntaxErrorsRunNothing()
    {
        var r = Run("t_value 1\nt_value (2)\nt_value 3 =>");
        Assert.Equal(ExitCodes.Error, r.ExitCode);
        Assert.Equal("", r.Out);
        Assert.Equal(["t.mms:2:9: unexpected character '('", "t.mms:3:13: expected an outcome after '=>'"], r.ErrLines);
    }

    [Fact]
    public void MachineConfiguration()
    {
        var r = RunOutput.Run("machine ram=64K cpus=3 memcg=1M seed=9 kernel=6.12.0\nstat free_pages => 16\nshow meminfo");
        Assert.Equal(ExitCodes.Ok, r.ExitCode);
        Assert.Equal("t.mms:1: machine ram=64K cpus=3 memcg=1M seed=9 kernel=6.12.0 => ok", r.OutLines[0]);
        Assert.Contains("MemTotal:             64 kB", r.OutLines);
    }

    [Fact]
    public void MachineConfigReachesTheMachine()
    {
        var reg = TestRegistries.Foundation();
        reg.Add(new OpSchema(OpScope.Global, "t_config"), ctx => StepResult.Show(
            $"{ctx.Machine.Config.RamBytes} {ctx.Machine.PossibleCpus} {ctx.Machine.Config.MemcgLimit?.ToString() ?? "max"} {ctx.Machine.Config.Seed} {ctx.Machine.Profile.Name}\n"));
        Assert.Contains("65536 3 1048576 9 6.12.0", RunOutput.Run("machine ram=64K cpus=3 memcg=1M seed=9 kernel=6.12.0\nt_config", reg).OutLines);
        Assert.Contains("1073741824 2 max 0 6.12.y", RunOutput.Run("t_config", reg).OutLines);
        Assert.Contains("1073741824 2 max 18446744073709551615 6.12.y", RunOutput.Run("machine memcg=unlimited seed=-1\nt_config", reg).OutLines);
    }

    [Fact]
    public void CheckReportsViolations()
    {
        var reg = TestRegistries.Foundation();
        reg.Add(new OpSchema(OpScope.Global, "t_break"), ctx =>
        {
            ctx.Machine.Invariants.Register("test", v => v.Add("something is off"));
            return StepResult.Done;
        });
        var r = RunOutput.Run("check\nt_break\ncheck\ncheck => any", reg);
        Assert.Equal(
            [
                "t.mms:1: check => ok",
                "t.mms:2: t_break => ok",
                "t.mms:3: check => 1 violation FAIL (expected ok)",
                "  test: something is off",
                "t.mms:4: check => 1 violation ok",
                "  test: something is off",
                "t.mms: 4 steps, 1 failed (line 3)",
            ],
            r.OutLines);
    }

    [Fact]
    public void SyscallExitEndsAGracePeriodAfterEveryStep()
    {
        var reg = TestRegistries.Foundation();
        var ran = new List<int>();
        reg.Add(new OpSchema(OpScope.Global, "t_defer").Arg("n", ArgKind.Expr), ctx =>
        {
            var n = ctx.Int("n");
            ctx.Machine.Rcu.CallRcu(() => ran.Add(n));
            Assert.Equal(n - 1, ran.Count);
            return StepResult.Done;
        });
        Assert.Equal(ExitCodes.Ok, RunOutput.Run("t_defer 1\nt_defer 2\nt_defer 3", reg).ExitCode);
        Assert.Equal([1, 2, 3], ran);
    }

    [Fact]
    public void Narration()
    {
        var r = RunOutput.Run("## Title\nspawn p\n## between\n##\ncheck\n## the end", narrate: true);
        Assert.Equal(["# Title", "t.mms:2: spawn p => ok", "# between", "#", "t.mms:5: check => ok", "# the end", "t.mms: 2 steps, all held"], r.OutLines);
        Assert.DoesNotContain("# Title", RunOutput.Run("## Title\nspawn p").OutLines);
    }

    [Fact]
    public void MissingFileIsADiagnostic()
    {
        using var o = new StringWriter();
        using var e = new StringWriter();
        var runner = new ScenarioRunner(o, e);
        var path = Path.Combine(Path.GetTempPath(), "mmsim-no-such-file-" + Guid.NewGuid() + ".mms");
        Assert.Equal(ExitCodes.Error, runner.Run([path]));
        Assert.StartsWith(path + ": cannot read the file: ", e.ToString(), StringComparison.Ordinal);
        Assert.Equal(ExitCodes.Error, runner.Run([Path.GetTempPath()]));
    }

    [Fact]
    public void SeveralFilesTakeTheWorstExitCode()
    {
        var dir = Directory.CreateTempSubdirectory("mmsim-runner-");
        try
        {
            System.IO.File.WriteAllText(Path.Combine(dir.FullName, "a.mms"), "check\n");
            System.IO.File.WriteAllText(Path.Combine(dir.FullName, "b.mms"), "stat free_pages => 1\n");
            System.IO.File.WriteAllText(Path.Combine(dir.FullName, "c.mms"), "stat free_pages => 256K\n");
            using var o = new StringWriter();
            using var e = new StringWriter();
            var runner = new ScenarioRunner(o, e);
            string F(string n) => Path.Combine(dir.FullName, n);
            Assert.Equal(ExitCodes.Ok, runner.Run([F("a.mms"), F("c.mms")]));
            Assert.Equal(ExitCodes.Failed, runner.Run([F("a.mms"), F("b.mms"), F("c.mms")]));
            Assert.Equal(ExitCodes.Error, runner.Run([F("b.mms"), F("missing.mms"), F("a.mms")]));
            Assert.Contains(F("c.mms") + ": 1 step, all held", o.ToString(), StringComparison.Ordinal);
        }
        finally
        {
            dir.Delete(true);
        }
    }

    [Fact]
    public void EachFileGetsAFreshMachine()
    {
        var file = "a = alloc_pages => 0\nstat free_pages => 256K - 1\n";
        using var o = new StringWriter();
        using var e = new StringWriter();
        var runner = new ScenarioRunner(o, e);
        Assert.Equal(ExitCodes.Ok, runner.RunText("x.mms", file).ExitCode);
        Assert.Equal(ExitCodes.Ok, runner.RunText("x.mms", file).ExitCode);
    }

    [Fact]
    public void ValueFormatRule()
    {
        Assert.Equal("0", ValueFormat.Number(0));
        Assert.Equal("65535", ValueFormat.Number(0xffff));
        Assert.Equal("0x10000", ValueFormat.Number(0x10000));
        Assert.Equal("0x7f0000001000", ValueFormat.Number(0x7f0000001000));
        Assert.Equal("-1", ValueFormat.Signed(ulong.MaxValue));
        Assert.Equal("0xffffffffffff0000", ValueFormat.Signed(0xffffffffffff0000));
        Assert.Equal("1,0x10000", ValueFormat.List([1, 0x10000]));
    }
}
