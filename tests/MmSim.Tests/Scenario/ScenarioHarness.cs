using MmSim.Scenario;

namespace MmSim.Tests.Scenario;

/// <summary>Runs scenario text in process and keeps what it printed.</summary>
internal sealed record RunOutput(int ExitCode, string Out, string Err, FileRunResult Result)
{
    public string[] OutLines => Out.Split('\n', StringSplitOptions.RemoveEmptyEntries);

    public string[] ErrLines => Err.Split('\n', StringSplitOptions.RemoveEmptyEntries);

    /// <summary>
    /// The foundation's statements only (machine, spawn, check, show/stat/inject of the page allocator, the kernel test
    /// statements): what the runner tests override and what must stay "not implemented" in them, whatever later
    /// layers register in the default registry.
    /// </summary>
    public static OpRegistry Foundation()
    {
        var r = new OpRegistry();
        GlobalOps.Register(r);
        KernelTestOps.Register(r);
        return r;
    }

    public static RunOutput Run(string text, OpRegistry? registry = null, string path = "t.mms", bool narrate = false)
    {
        using var o = new StringWriter();
        using var e = new StringWriter();
        var runner = new ScenarioRunner(o, e, new RunnerOptions { Registry = registry ?? OpRegistry.Default, Narrate = narrate });
        var r = runner.RunText(path, text);
        return new RunOutput(r.ExitCode, o.ToString(), e.ToString(), r);
    }
}
