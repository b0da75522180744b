using MmSim.Kernel;
using MmSim.Scenario;
using MmSim.Vm;
using Xunit;

namespace MmSim.Tests.Scenario;

public class ParserTests
{
    // The core schemas only: diagnostics that list statements must not change when a layer adds extensions.
    private static readonly OpRegistry s_registry = TestRegistries.Foundation();

    internal static ScenarioFile Parse(string text, out DiagnosticBag diags, OpRegistry? registry = null)
    {
        diags = new DiagnosticBag("t.mms");
        return Parser.Parse("t.mms", text, registry ?? s_registry, diags);
    }

    private static ScenarioFile ParseOk(string text)
    {
        var f = Parse(text, out var diags);
        Assert.True(diags.Count == 0, string.Join("\n", diags.Items));
        return f;
    }

    /// <summary>The one diagnostic of the last line, as "LINE:COL: message".</summary>
    private static string Error(string text)
    {
        Parse(text, out var diags);
        var d = Assert.Single(diags.Items);
        return $"{d.Line}:{d.Column}: {d.Message}";
    }

    [Fact]
    public void ProcessStatementWithEverything()
    {
        var f = ParseOk("spawn p\np: m = map_create type=arena entries=16 flags=mmapable|segv_on_fault extra=0x100000000\n" +
                        "p: a = mmap addr=0x100000000 len=16p prot=rw flags=shared fd=m   # comment\n");
        var st = f.Statements[2];
        Assert.Equal(3, st.Line);
        Assert.Equal("p", st.Subject);
        Assert.Equal("a", st.BindName);
        Assert.Equal(OpScope.Process, st.Scope);
        Assert.Equal("mmap", st.Schema.Name);
        Assert.Equal("p: a = mmap addr=0x100000000 len=16p prot=rw flags=shared fd=m", st.Text);
        Assert.False(st.HasOutcome);
        Assert.Equal(OutcomeKind.Ok, st.Outcome.Kind);
        var prot = st.Args.Single(a => a.Spec.Name == "prot");
        Assert.Equal(3UL, prot.Bits);
        var flags = st.Args.Single(a => a.Spec.Name == "flags");
        Assert.Equal(1UL, flags.Bits);
        var fd = st.Args.Single(a => a.Spec.Name == "fd");
        Assert.Equal("m", fd.Expr!.Terms[0].Name);
        var mflags = f.Statements[1].Args.Single(a => a.Spec.Name == "flags");
        Assert.Equal((1UL << 10) | (1UL << 17), mflags.Bits);
        Assert.Equal(["mmapable", "segv_on_fault"], mflags.Flags!.Select(x => x.Word));
    }

    [Theory]
    [InlineData("none", 0UL)]
    [InlineData("r", 1UL)]
    [InlineData("w", 2UL)]
    [InlineData("x", 4UL)]
    [InlineData("rw", 3UL)]
    [InlineData("rx", 5UL)]
    [InlineData("wx", 6UL)]
    [InlineData("rwx", 7UL)]
    [InlineData("0x10", 16UL)]
    public void Protections(string prot, ulong bits)
    {
        var f = ParseOk($"spawn p\np: mprotect 0x1000 1p {prot}");
        Assert.Equal(bits, f.Statements[1].Args[2].Bits);
    }

    [Fact]
    public void ExpressionsAndOutcomes()
    {
        var f = ParseOk("x = stat free_pages\nstat free_pages => x + 2p - 0x10\nstat free_pages => -1\nstat free_pages => 1,2,x\n" +
                        "stat free_pages => EINVAL\nstat free_pages => SIGBUS\nstat free_pages => null\nstat free_pages => KASAN\n" +
                        "stat free_pages => WARN\nstat free_pages => any\nstat free_pages => ok\nstat free_pages => SIGSEGV");
        var o = f.Statements[1].Outcome;
        Assert.Equal(OutcomeKind.Value, o.Kind);
        Assert.Equal("x + 2p - 0x10", o.Text);
        Assert.Equal(3, o.Exprs[0].Terms.Count);
        Assert.True(o.Exprs[0].Terms[2].Negative);
        Assert.Equal(0x10UL, o.Exprs[0].Terms[2].Number);
        Assert.Equal(ulong.MaxValue, f.Statements[2].Outcome.Exprs[0].EvaluateConstant());
        Assert.Equal(OutcomeKind.List, f.Statements[3].Outcome.Kind);
        Assert.Equal(3, f.Statements[3].Outcome.Exprs.Count);
        Assert.Equal(Errno.EINVAL, f.Statements[4].Outcome.Errno);
        Assert.Equal(Signal.SIGBUS, f.Statements[5].Outcome.Signal);
        Assert.Equal(
            [OutcomeKind.Null, OutcomeKind.Kasan, OutcomeKind.Warn, OutcomeKind.Any, OutcomeKind.Ok, OutcomeKind.Signal],
            f.Statements.Skip(6).Select(s => s.Outcome.Kind));
    }

    [Theory]
    [InlineData("1 + 2", 3UL)]
    [InlineData("0x10 - 1", 15UL)]
    [InlineData("-1", ulong.MaxValue)]
    [InlineData("0 - 1", ulong.MaxValue)]
    [InlineData("-0x8000000000000000", 0x8000000000000000UL)]
    [InlineData("0xffffffffffffffff - 1 + 1", ulong.MaxValue)]
    [InlineData("1G - 1", (1UL << 30) - 1)]
    public void ConstantExpressions(string expr, ulong value)
    {
        var f = ParseOk($"stat free_pages => {expr}");
        Assert.Equal(value, f.Statements[0].Outcome.Exprs[0].EvaluateConstant());
    }

    [Theory]
    [InlineData("0xffffffffffffffff + 1")]
    [InlineData("-0x8000000000000000 - 1")]
    [InlineData("0 - 0xffffffffffffffff")]
    public void ExpressionOverflow(string expr)
    {
        var f = ParseOk($"stat free_pages => {expr}");
        var e = Assert.Throws<ScenarioException>(() => f.Statements[0].Outcome.Exprs[0].EvaluateConstant());
        Assert.Equal($"'{expr}' overflows 64 bits", e.Message);
    }

    [Fact]
    public void OptionsAndPositionalsMix()
    {
        var f = ParseOk("tree t alloc_range\nt: alloc_range size=10 7 min=0 max=99");
        var st = f.Statements[1];
        Assert.Equal("entry", st.Args[0].Spec.Name);
        Assert.Equal(["entry", "size", "min", "max"], st.Args.Select(a => a.Spec.Name));
        Assert.Equal("alloc_range", f.Statements[0].Args[1].Word);
    }

    [Fact]
    public void NamesShareOneNamespace()
    {
        var f = ParseOk("spawn p\np: g = prog_load maps=1,2\ng: arena_alloc_pages g count=1\np: close g\np: fork c\nc: exit\ntree t\nt: load 1");
        Assert.Equal(OpScope.Program, f.Statements[2].Scope);
        Assert.Equal(OpScope.Process, f.Statements[5].Scope);
        Assert.Equal(OpScope.Tree, f.Statements[7].Scope);
        Assert.Equal(["c"], f.Statements[4].NewNames);
    }

    [Fact]
    public void MachineStatement()
    {
        var f = ParseOk("# comment first\n\nmachine ram=64M cpus=4 memcg=unlimited seed=0x2a kernel=6.12.0\nspawn p");
        Assert.NotNull(f.Machine);
        Assert.Equal("unlimited", f.Machine!.Args[2].Word);
        Assert.Equal("6.12.0", f.Machine.Args[4].Word);
        Assert.Null(ParseOk("spawn p").Machine);
        Assert.Equal("64M", ParseOk("machine memcg=64M").Machine!.Args[0].Expr!.Text);
    }

    [Fact]
    public void ByteOrderMarkAndCrLf()
    {
        var f = ParseOk("\uFEFFspawn p\r\ncheck\r\n");
        Assert.Equal(2, f.Statements.Count);
        Assert.Equal(1, f.Statements[0].Column);
    }

    [Fact]
    public void Narrations()
    {
        var f = ParseOk("## Title\nspawn p\n## more\n##\n");
        Assert.Equal([(1, "Title"), (3, "more"), (4, "")], f.Narrations.Select(n => (n.Line, n.Text)));
    }

    [Theory]
    // statement forms
    [InlineData("p: mmap len=1", "1:1: unknown process, program or tree 'p'")]
    [InlineData("x = stat free_pages\nx: check", "2:1: 'x' is a value (line 1), not a process, program or tree")]
    [InlineData("spawn p\np:", "2:3: expected an operation, got the end of the line")]
    [InlineData("spawn p\np: 5", "2:4: expected an operation, got 5")]
    [InlineData("= 5", "1:1: expected a statement, got '='")]
    [InlineData("spawn p\np: mmapp len=1", "2:4: unknown process operation 'mmapp' (did you mean 'mmap'?)")]
    [InlineData("chek", "1:1: unknown statement 'chek' (did you mean 'check'?)")]
    [InlineData("frobnicate", "1:1: unknown statement 'frobnicate'")]
    [InlineData("spawn p\np: spawn q", "2:4: 'spawn' is not a process operation: 'spawn' is a statement of its own, without 'p:'")]
    [InlineData("spawn p\np: show maps p", "2:4: 'show' is not a process operation: 'show' is a statement of its own, without 'p:'")]
    [InlineData("mprotect 1 2 r", "1:1: 'mprotect' is not a statement: 'mprotect' is a process operation: write 'P: mprotect ...' with a process P")]
    [InlineData("arena_free_pages 1 2", "1:1: 'arena_free_pages' is not a statement: 'arena_free_pages' is a program operation: write 'G: arena_free_pages ...' with a program G")]
    [InlineData("empty_area", "1:1: 'empty_area' is not a statement: 'empty_area' is a tree operation: write 'T: empty_area ...' with a tree T")]
    [InlineData("spawn p\nspawn q\nmachine", "3:1: 'machine' must come before any other statement")]
    [InlineData("machine\nmachine", "2:1: 'machine' must come before any other statement")]
    [InlineData("show", "1:5: expected what to show (maps, buddyinfo, vmallocinfo, meminfo), got the end of the line")]
    [InlineData("stat foo", "1:6: unknown stat 'foo' (free_pages, vm_open, vm_close, writecnt, arena_pages, memcg, vmas)")]
    [InlineData("show buddyinf", "1:6: unknown show 'buddyinf' (did you mean 'buddyinfo'?) (maps, buddyinfo, vmallocinfo, meminfo)")]
    [InlineData("inject 5", "1:8: expected what to inject (fail_page_alloc, failslab, off), got 5")]
    // binding
    [InlineData("x = spawn p", "1:1: 'spawn' returns no value to bind to 'x'")]
    [InlineData("x = stat free_pages\nx = stat free_pages", "2:1: 'x' is already bound (line 1); a name is bound once per scenario")]
    [InlineData("spawn p\np = stat free_pages", "2:1: 'p' is already bound (line 1); a name is bound once per scenario")]
    [InlineData("spawn ok", "1:7: 'ok' is a reserved word and cannot be a name")]
    [InlineData("EINVAL = stat free_pages", "1:1: 'EINVAL' is a reserved word and cannot be a name")]
    [InlineData("spawn check", "1:7: 'check' is a reserved word and cannot be a name")]
    [InlineData("spawn p\np: fork p", "2:9: 'p' is already bound (line 1); a name is bound once per scenario")]
    [InlineData("spawn p\np: c = fork c", "2:4: 'fork' returns no value to bind to 'c'")]
    [InlineData("x = stat free_pages => x", "1:24: unknown outcome 'x' (ok, any, null, an errno name, SIGSEGV, SIGBUS, KASAN, WARN, a value or a list)")]
    // arguments
    [InlineData("spawn p\np: mmap len=1 prot=rw", "2:22: missing option 'flags=': usage: mmap len=E prot=PROT flags=FLAGS [addr=E] [fd=E] [off=E]")]
    [InlineData("spawn p\np: munmap 1", "2:12: missing LEN: usage: munmap ADDR LEN")]
    [InlineData("spawn p\np: munmap 1 => ok", "2:13: missing LEN: usage: munmap ADDR LEN")]
    [InlineData("spawn p\np: munmap 1 -1", "2:15: missing LEN: usage: munmap ADDR LEN ('1 -1' is one expression: a '+' or '-' after a term always continues it)")]
    [InlineData("spawn p\np: munmap 1 2 3", "2:15: too many arguments at 3: usage: munmap ADDR LEN")]
    [InlineData("check 1", "1:7: unexpected 1: usage: check")]
    [InlineData("spawn p\np: munmap 1 2 len=3", "2:15: unknown option 'len=' ('munmap' takes no options; usage: munmap ADDR LEN)")]
    [InlineData("spawn p\np: read 1 sise=4", "2:11: unknown option 'sise=' (did you mean 'size'?) (options: size=; usage: read ADDR [size=1|2|4|8])")]
    [InlineData("spawn p\np: mmap len=1 len=2 prot=r flags=private", "2:15: option 'len=' given twice")]
    [InlineData("spawn p\np: mmap len= prot=r flags=private", "2:14: expected a value for 'len=', got 'prot='")]
    [InlineData("spawn p\np: mmap prot=r flags=private len=", "2:34: expected a value for 'len=', got the end of the line")]
    [InlineData("spawn p\np: mmap prot=r flags=private len= => ok", "2:35: expected a value for 'len=', got '=>'")]
    [InlineData("spawn p\np: mmap len=1 + prot=r flags=private", "2:17: expected a number or a name after '+', got 'prot='")]
    [InlineData("spawn p\np: read - ", "2:10: expected a number or a name after '-', got the end of the line")]
    [InlineData("spawn p\np: read 1, 2", "2:10: unexpected ',': usage: read ADDR [size=1|2|4|8]")]
    [InlineData("spawn p\np: read 1 | 2", "2:11: unexpected '|': usage: read ADDR [size=1|2|4|8]")]
    [InlineData("spawn p\np: read q", "2:9: unknown name 'q'")]
    [InlineData("spawn p\np: read p", "2:9: 'p' is a process (line 1), not a value")]
    [InlineData("tree t\nstat free_pages => t", "2:20: 't' is a tree (line 1), not a value")]
    [InlineData("spawn p\np: read 6.12", "2:9: invalid number '6.12'")]
    [InlineData("spawn p\np: read 1 size=3", "2:16: 'size=' must be 1, 2, 4 or 8, got 3")]
    [InlineData("spawn p\np: read 1 size=x", "2:16: 'size=' must be 1, 2, 4 or 8, got x")]
    [InlineData("spawn p\np: mmap len=1 prot=wr flags=private", "2:20: invalid protection wr for 'prot=': write none, or r, w, x in that order (r, rw, rx, rwx ...)")]
    [InlineData("spawn p\np: mmap len=1 prot=rwxr flags=private", "2:20: invalid protection rwxr for 'prot=': write none, or r, w, x in that order (r, rw, rx, rwx ...)")]
    [InlineData("spawn p\np: mprotect 1 2 -", "2:18: expected a number or a name after '-', got the end of the line")]
    [InlineData("spawn p\np: mmap len=1 prot=r flags=sharde", "2:28: unknown mmap flag 'sharde' for 'flags=' (did you mean 'shared'?) (one of: shared, private, shared_validate, fixed, anonymous, noreserve, populate, fixed_noreplace)")]
    [InlineData("spawn p\np: mmap len=1 prot=r flags=shared|", "2:35: expected a mmap flag for 'flags=', got the end of the line")]
    [InlineData("spawn p\np: mmap len=1 prot=r flags=shared|-", "2:35: expected a mmap flag for 'flags=' (shared, private, shared_validate, fixed, anonymous, noreserve, populate, fixed_noreplace), got '-'")]
    [InlineData("spawn p\np: map_create type=hash entries=1", "2:20: unknown map type 'hash' for 'type=' (one of: array, prog_array, perf_event_array, percpu_array, cgroup_array, arena)")]
    [InlineData("spawn p\np: map_create type=arra entries=1", "2:20: unknown map type 'arra' for 'type=' (did you mean 'array'?) (one of: array, prog_array, perf_event_array, percpu_array, cgroup_array, arena)")]
    [InlineData("tree t alloc", "1:8: unknown tree flag 'alloc' for FLAGS (one of: alloc_range)")]
    [InlineData("spawn 5", "1:7: expected a new name for PROC, got 5")]
    [InlineData("show maps 5", "1:11: expected a process name for PROC, got 5")]
    [InlineData("show maps q", "1:11: unknown process 'q'")]
    [InlineData("tree t\nstat vmas t", "2:11: 't' is not a process (it is a tree, line 1)")]
    [InlineData("machine kernel=6.13", "1:16: unknown kernel profile '6.13' (known: 6.12.y, 6.12.0)")]
    [InlineData("machine kernel=linux", "1:16: unknown kernel profile 'linux' (known: 6.12.y, 6.12.0)")]
    [InlineData("machine kernel=,", "1:16: expected a kernel profile for 'kernel=', got ','")]
    [InlineData("machine memcg=limited", "1:15: unknown name 'limited'")]
    // outcomes
    [InlineData("check =>", "1:9: expected an outcome after '=>'")]
    [InlineData("check => EFOO", "1:10: unknown errno 'EFOO'")]
    [InlineData("check => EINVALL", "1:10: unknown errno 'EINVALL' (did you mean 'EINVAL'?)")]
    [InlineData("check => sigsegv", "1:10: unknown outcome 'sigsegv' (did you mean 'SIGSEGV'?) (ok, any, null, an errno name, SIGSEGV, SIGBUS, KASAN, WARN, a value or a list)")]
    [InlineData("check => Ok", "1:10: unknown outcome 'Ok' (did you mean 'ok'?) (ok, any, null, an errno name, SIGSEGV, SIGBUS, KASAN, WARN, a value or a list)")]
    [InlineData("check => ok ok", "1:13: unexpected ok after the outcome")]
    [InlineData("check => 5", "1:10: 'check' returns no value: its outcome can be ok, any, an errno, KASAN or WARN")]
    [InlineData("check => null", "1:10: 'check' returns no value: its outcome can be ok, any, an errno, KASAN or WARN")]
    [InlineData("stat free_pages => 1,", "1:22: expected a value for the outcome, got the end of the line")]
    [InlineData("stat free_pages => 1 2", "1:22: unexpected 2 after the outcome")]
    [InlineData("stat free_pages => => 1", "1:20: expected a value for the outcome, got '=>'")]
    [InlineData("stat free_pages => 5 => 1", "1:22: unexpected '=>' after the outcome")]
    public void Diagnostics(string text, string expected) => Assert.Equal(expected, Error(text));

    [Fact]
    public void EveryBadLineIsReportedAndNamesDoNotCascade()
    {
        Parse("spawn p\np: a = mmap len=1 prot=wr flags=private\np: munmap a 1\ntree t alloc_rang\nt: load 1\n$\ncheck", out var diags);
        Assert.Equal(["2:24", "4:8", "6:1"], diags.Items.Select(d => $"{d.Line}:{d.Column}"));
    }

    [Fact]
    public void SuggestFindsCloseWords()
    {
        Assert.Equal(" (did you mean 'mmap'?)", Parser.Suggest("mmpa", ["munmap", "mmap"]));
        Assert.Equal("", Parser.Suggest("xyzzy", ["mmap"]));
        Assert.Equal("", Parser.Suggest("mmap", ["mmap"]));
    }
}
