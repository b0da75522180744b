using System.CommandLine;
using MmSim.Cli;
using MmSim.Scenario;
using Xunit;

namespace MmSim.Tests.Scenario;

public class CliTests
{
    private static (int Exit, string Out, string Err) Cli(params string[] args)
    {
        using var o = new StringWriter();
        using var e = new StringWriter();
        var rc = CliApp.Invoke(CliApp.Parse(args), new InvocationConfiguration { Output = o, Error = e });
        return (rc, o.ToString(), e.ToString());
    }

    private static string Corpus(string rel) => Path.Combine(AppContext.BaseDirectory, "scenarios", rel);

    [Fact]
    public void RunPasses()
    {
        var (exit, output, err) = Cli("run", Corpus("foundation/buddyinfo.mms"));
        Assert.Equal(ExitCodes.Ok, exit);
        Assert.Contains("buddyinfo.mms:3: show buddyinfo => ok", output, StringComparison.Ordinal);
        Assert.Equal("", err);
    }

    [Fact]
    public void RunFailsAndErrs()
    {
        Assert.Equal(ExitCodes.Failed, Cli("run", Corpus("foundation/buddyinfo.mms"), Corpus("foundation/expect.fail.mms")).Exit);
        var (exit, _, err) = Cli("run", Corpus("foundation/errors/profile.error.mms"), Corpus("foundation/expect.fail.mms"));
        Assert.Equal(ExitCodes.Error, exit);
        Assert.Contains("unknown kernel profile '6.13.0'", err, StringComparison.Ordinal);
        (exit, _, err) = Cli("run", "/nonexistent/x.mms");
        Assert.Equal(ExitCodes.Error, exit);
        Assert.StartsWith("/nonexistent/x.mms: cannot read the file", err, StringComparison.Ordinal);
    }

    [Fact]
    public void RootExitCodeAgreesWithTheLibrary()
    {
        using var o = new StringWriter();
        using var e = new StringWriter();
        var rc = CliApp.BuildRoot().Parse(["run", Corpus("foundation/expect.fail.mms")]).Invoke(new InvocationConfiguration { Output = o, Error = e });
        Assert.Equal(ExitCodes.Failed, rc);
    }

    [Theory]
    [InlineData("run")]
    [InlineData("frobnicate")]
    [InlineData("run", "--bogus", "x.mms")]
    [InlineData("--log", "loud", "run", "x.mms")]
    [InlineData("check", "--steps", "many")]
    public void CommandLineErrorsExit2(params string[] args)
    {
        var (exit, _, err) = Cli(args);
        Assert.Equal(ExitCodes.Error, exit);
        Assert.NotEqual("", err);
    }

    [Fact]
    public void ResponseFilesAreOff()
    {
        var (exit, _, err) = Cli("run", "@nothing.mms");
        Assert.Equal(ExitCodes.Error, exit);
        Assert.StartsWith("@nothing.mms: cannot read the file", err, StringComparison.Ordinal);
    }

    [Fact]
    public void HelpAndVersion()
    {
        var (exit, output, _) = Cli("--help");
        Assert.Equal(0, exit);
        Assert.Contains("run", output, StringComparison.Ordinal);
        Assert.Contains("demo", output, StringComparison.Ordinal);
        Assert.Contains("--verbose", output, StringComparison.Ordinal);
        (exit, output, _) = Cli("--version");
        Assert.Equal(0, exit);
        Assert.StartsWith("0.1.0", output, StringComparison.Ordinal);
        Assert.Equal(CliApp.Version + "\n", output);
        (exit, output, _) = Cli("run", "--help");
        Assert.Equal(0, exit);
        Assert.Contains("FILE", output, StringComparison.Ordinal);
    }

    [Fact]
    public void CheckRunsItsBudgetAndRejectsBadOptions()
    {
        var outFile = Path.Combine(Path.GetTempPath(), $"mmsim-check-{Environment.ProcessId}.mms");
        var (exit, output, err) = Cli("check", "--seed", "1", "--steps", "300", "--time", "30", "--out", outFile, "--shard", "1/4");
        Assert.Equal(ExitCodes.Ok, exit);
        Assert.Contains("no violation", output, StringComparison.Ordinal);
        Assert.Contains("steps/s", output, StringComparison.Ordinal);
        Assert.Contains("  mmap: ", output, StringComparison.Ordinal);
        Assert.Contains("kernel 6.12.y, seed 1, shard 1/4", err, StringComparison.Ordinal);
        Assert.False(File.Exists(outFile));
        (exit, _, err) = Cli("check", "--kernel", "5.4");
        Assert.Equal(ExitCodes.Error, exit);
        Assert.Contains("unknown kernel profile '5.4'", err, StringComparison.Ordinal);
        (exit, _, err) = Cli("check", "--shard", "4/4");
        Assert.Equal(ExitCodes.Error, exit);
        Assert.Contains("expected I/N", err, StringComparison.Ordinal);
    }

    [Fact]
    public void DemoRunsEverySectionAndPasses()
    {
        var (exit, output, err) = Cli("demo");
        Assert.True(exit == ExitCodes.Ok, output + err);
        Assert.Equal("", err);
        foreach (var s in Demo.Sections())
        {
            Assert.Contains($" {s.Name}: ", output, StringComparison.Ordinal);
        }

        Assert.Contains("# Booting a machine", output, StringComparison.Ordinal);
        Assert.Equal(output, Cli("demo").Out);
    }

    [Fact]
    public void DemoSectionsAndList()
    {
        var (exit, output, _) = Cli("demo", "--list");
        Assert.Equal(0, exit);
        Assert.Contains("boot", output, StringComparison.Ordinal);
        (exit, output, _) = Cli("demo", "boot");
        Assert.Equal(0, exit);
        Assert.Contains("== 1/1 boot: Booting a machine ==", output, StringComparison.Ordinal);
        Assert.DoesNotContain("fault-injection", output, StringComparison.Ordinal);
        var (bad, _, err) = Cli("demo", "nosuch");
        Assert.Equal(ExitCodes.Error, bad);
        Assert.Contains("unknown section 'nosuch'", err, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--verbose")]
    [InlineData("-v")]
    [InlineData("--log", "debug")]
    [InlineData("--log", "none")]
    public void LoggingOptionsAreAcceptedAnywhere(params string[] opts)
    {
        var before = Cli([.. opts, "run", Corpus("foundation/crlf.mms")]);
        var after = Cli(["run", Corpus("foundation/crlf.mms"), .. opts]);
        Assert.Equal(ExitCodes.Ok, before.Exit);
        Assert.Equal(ExitCodes.Ok, after.Exit);

        // Logging goes to stderr only: the transcript is the same.
        Assert.Equal(Cli("run", Corpus("foundation/crlf.mms")).Out, before.Out);
    }
}
