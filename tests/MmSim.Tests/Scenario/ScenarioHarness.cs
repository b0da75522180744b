using MmSim.Scenario;

namespace MmSim.Tests.Scenario;

/// <summary>Runs scenario text in process and keeps what it printed.</summary>
internal sealed record RunOutput(int ExitCode, string Out, string Err, FileRunResult Result)
{
    public string[] OutLines => Out.Split('\n', StringSplitOptions.RemoveEmptyEntries);

    public string[] ErrLines => Err.Split('\n', StringSplitOptions.RemoveEmptyEntries);

    public static RunOutput Run(string text, OpRegistry? registry = null, string path = "t.mms", bool narrate = false)
    {
        using var o = new StringWriter();
        using var e = new StringWriter();
        var runner = new ScenarioRunner(o, e, new RunnerOptions { Registry = registry ?? OpRegistry.Default, Narrate = narrate });
        var r = runner.RunText(path, text);
        return new RunOutput(r.ExitCode, o.ToString(), e.ToString(), r);
    }
}
