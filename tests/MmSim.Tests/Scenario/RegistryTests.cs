using MmSim.Scenario;
using Xunit;

namespace MmSim.Tests.Scenario;

public class RegistryTests
{
    /// <summary>Every statement of the contract (docs/scenario-language.md), by scope.</summary>
    public static TheoryData<OpScope, string> ContractStatements => new()
    {
        { OpScope.Global, "machine" }, { OpScope.Global, "spawn" }, { OpScope.Global, "check" },
        { OpScope.Global, "show maps" }, { OpScope.Global, "show buddyinfo" }, { OpScope.Global, "show vmallocinfo" },
        { OpScope.Global, "show meminfo" }, { OpScope.Global, "inject fail_page_alloc" }, { OpScope.Global, "inject failslab" },
        { OpScope.Global, "inject off" }, { OpScope.Global, "stat free_pages" }, { OpScope.Global, "stat vm_open" },
        { OpScope.Global, "stat vm_close" }, { OpScope.Global, "stat writecnt" }, { OpScope.Global, "stat arena_pages" },
        { OpScope.Global, "stat memcg" }, { OpScope.Global, "stat vmas" }, { OpScope.Global, "tree" },
        { OpScope.Process, "mmap" }, { OpScope.Process, "munmap" }, { OpScope.Process, "mprotect" }, { OpScope.Process, "mremap" },
        { OpScope.Process, "read" }, { OpScope.Process, "write" }, { OpScope.Process, "fork" }, { OpScope.Process, "exit" },
        { OpScope.Process, "close" }, { OpScope.Process, "map_create" }, { OpScope.Process, "map_lookup" },
        { OpScope.Process, "map_update" }, { OpScope.Process, "map_delete" }, { OpScope.Process, "map_freeze" },
        { OpScope.Process, "map_get_next_key" }, { OpScope.Process, "prog_load" },
        { OpScope.Program, "arena_alloc_pages" }, { OpScope.Program, "arena_free_pages" }, { OpScope.Program, "load" },
        { OpScope.Program, "store" }, { OpScope.Program, "cast_user" }, { OpScope.Program, "cast_kern" },
        { OpScope.Program, "map_lookup" }, { OpScope.Program, "map_update" },
        { OpScope.Tree, "insert" }, { OpScope.Tree, "store" }, { OpScope.Tree, "erase" }, { OpScope.Tree, "load" },
        { OpScope.Tree, "alloc_range" }, { OpScope.Tree, "alloc_rrange" }, { OpScope.Tree, "empty_area" },
        { OpScope.Tree, "empty_area_rev" },
    };

    [Theory]
    [MemberData(nameof(ContractStatements))]
    public void EveryContractStatementHasASchema(OpScope scope, string name) =>
        Assert.NotNull(OpRegistry.Default.FindSchema(scope, name));

    [Fact]
    public void TheFoundationStatementsAreImplemented()
    {
        string[] implemented =
        [
            "machine", "spawn", "check", "show buddyinfo", "show meminfo", "inject fail_page_alloc", "inject failslab",
            "inject off", "stat free_pages", "alloc_pages", "__free_pages", "kmalloc", "kfree",
        ];
        foreach (var n in implemented)
        {
            Assert.True(OpRegistry.Default.IsImplemented(OpRegistry.Default.FindSchema(OpScope.Global, n)!), n);
        }
    }

    [Fact]
    public void TheTreeStatementsAreImplemented()
    {
        Assert.True(OpRegistry.Default.IsImplemented(OpRegistry.Default.FindSchema(OpScope.Global, "tree")!));
        foreach (var n in (string[])["insert", "store", "erase", "load", "alloc_range", "alloc_rrange", "empty_area", "empty_area_rev"])
        {
            Assert.True(OpRegistry.Default.IsImplemented(OpRegistry.Default.FindSchema(OpScope.Tree, n)!), n);
        }
    }

    [Fact]
    public void SchemaNamesAreUniquePerScope()
    {
        var keys = OpSchemas.All.Select(s => (s.Scope, s.Name)).ToList();
        Assert.Equal(keys.Count, keys.Distinct().Count());
    }

    [Fact]
    public void RegisteringTwiceOrWithoutSchemaThrows()
    {
        var r = new OpRegistry();
        r.Process("mmap", _ => StepResult.Done);
        Assert.Throws<InvalidOperationException>(() => r.Process("mmap", _ => StepResult.Done));
        Assert.Throws<InvalidOperationException>(() => r.Process("madvise", _ => StepResult.Done));
        Assert.Throws<InvalidOperationException>(() => r.Global("mmap", _ => StepResult.Done));
        Assert.Throws<InvalidOperationException>(() => r.Add(new OpSchema(OpScope.Process, "mmap"), _ => StepResult.Done));
    }

    [Fact]
    public void AddingANewStatementMakesItParseAndRun()
    {
        var r = TestRegistries.Foundation();
        r.Add(new OpSchema(OpScope.Process, "madvise").Arg("addr", ArgKind.Expr).Arg("len", ArgKind.Expr)
                .Arg("advice", ArgKind.Word, new WordTable("advice", ("dontneed", 4), ("free", 8))),
            ctx => StepResult.Of(ctx.U64("advice")));
        r.Show("maps", ctx => StepResult.Show($"maps of {ctx.ProcessArg("proc").Comm}\n"));
        var o = RunOutput.Run("spawn p\np: madvise 0 1p free => 8\nshow maps p", r);
        Assert.Equal(ExitCodes.Ok, o.ExitCode);
        Assert.Contains("maps of p", o.OutLines);
        Assert.Equal(ExitCodes.Error, RunOutput.Run("spawn p\np: madvise 0 1p never", r).ExitCode);
        Assert.Equal(ExitCodes.Error, RunOutput.Run("spawn p\np: madvise 0 1p free", TestRegistries.Foundation()).ExitCode);
    }

    [Fact]
    public void UsageLines()
    {
        var s = OpRegistry.Default;
        Assert.Equal("mmap len=E prot=PROT flags=FLAGS [addr=E] [fd=E] [off=E]", s.FindSchema(OpScope.Process, "mmap")!.Usage);
        Assert.Equal("mremap ADDR OLDLEN NEWLEN [flags=maymove|fixed|dontunmap] [new=E]", s.FindSchema(OpScope.Process, "mremap")!.Usage);
        Assert.Equal("map_get_next_key FD [KEY]", s.FindSchema(OpScope.Process, "map_get_next_key")!.Usage);
        Assert.Equal("machine [ram=E] [cpus=E] [memcg=E|unlimited] [seed=E] [kernel=PROFILE]", s.FindSchema(OpScope.Global, "machine")!.Usage);
        Assert.Equal("tree TREE [FLAGS]", s.FindSchema(OpScope.Global, "tree")!.Usage);
    }

    [Fact]
    public void SchemaBuilderRejectsMistakes()
    {
        Assert.Throws<ArgumentException>(() => new OpSchema(OpScope.Global, "x").Arg("a", ArgKind.Expr).Option("a", ArgKind.Expr));
        Assert.Throws<ArgumentException>(() => new OpSchema(OpScope.Global, "x").Arg("a", ArgKind.Expr, optional: true).Arg("b", ArgKind.Expr));
    }
}
