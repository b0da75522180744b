using MmSim.Scenario;

namespace MmSim.Tests.Scenario;

/// <summary>Registries for tests that must not depend on what later layers implement.</summary>
internal static class TestRegistries
{
    /// <summary>The core schemas with only the foundation's handlers (global statements, kernel test ops).</summary>
    public static OpRegistry Foundation()
    {
        var r = new OpRegistry();
        GlobalOps.Register(r);
        KernelTestOps.Register(r);
        return r;
    }
}

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
