using MmSim.Scenario;
using Xunit;

namespace MmSim.Tests.Scenario;

/// <summary>
/// Runs every tests/scenarios/**/*.mms file (copied to the output directory as scenarios/...). The file name says
/// what it must do: <c>*.fail.mms</c> exit 1, <c>*.error.mms</c> exit 2, <c>*.pending.mms</c> parse cleanly and
/// either pass or stop only at "not implemented yet", any other <c>*.mms</c> exit 0. A file <c>X.mms.out</c>
/// (<c>X.mms.err</c>) next to it holds the exact expected stdout (stderr).
/// </summary>
public class CorpusTests
{
    private static string Root => Path.Combine(AppContext.BaseDirectory, "scenarios");

    /// <summary>The corpus files, relative to the output directory ("scenarios/foundation/x.mms"), sorted.</summary>
    public static List<string> FileList() =>
        Directory.EnumerateFiles(Root, "*.mms", SearchOption.AllDirectories)
            .Select(f => Path.GetRelativePath(AppContext.BaseDirectory, f).Replace('\\', '/'))
            .Order(StringComparer.Ordinal)
            .ToList();

    public static TheoryData<string> Files() => [.. FileList()];

    internal static RunOutput RunCorpusFile(string rel) =>
        RunOutput.Run(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, rel)), path: rel);

    [Fact]
    public void TheCorpusIsThere() => Assert.True(FileList().Count >= 10);

    [Theory]
    [MemberData(nameof(Files))]
    public void Run(string rel)
    {
        var r = RunCorpusFile(rel);
        var diag = $"stdout:\n{r.Out}\nstderr:\n{r.Err}";
        if (rel.EndsWith(".pending.mms", StringComparison.Ordinal))
        {
            Assert.True(r.Result.Steps > 0, "a pending file must parse and start running\n" + diag);
            Assert.True(
                r.ExitCode == ExitCodes.Ok ||
                (r.ExitCode == ExitCodes.Error && r.ErrLines.All(l => l.EndsWith("is not implemented yet", StringComparison.Ordinal))),
                diag);
        }
        else
        {
            var expected = rel.EndsWith(".fail.mms", StringComparison.Ordinal) ? ExitCodes.Failed
                : rel.EndsWith(".error.mms", StringComparison.Ordinal) ? ExitCodes.Error
                : ExitCodes.Ok;
            Assert.True(expected == r.ExitCode, $"exit {r.ExitCode}, expected {expected}\n{diag}");
        }

        var full = Path.Combine(AppContext.BaseDirectory, rel);
        if (File.Exists(full + ".out"))
        {
            Assert.Equal(File.ReadAllText(full + ".out"), r.Out);
        }

        if (File.Exists(full + ".err"))
        {
            Assert.Equal(File.ReadAllText(full + ".err"), r.Err);
        }
    }

    [Theory]
    [MemberData(nameof(Files))]
    public void Deterministic(string rel)
    {
        var a = RunCorpusFile(rel);
        var b = RunCorpusFile(rel);
        Assert.Equal(a.Out, b.Out);
        Assert.Equal(a.Err, b.Err);
        Assert.Equal(a.ExitCode, b.ExitCode);
    }
}
