using Microsoft.Extensions.Logging;

namespace MmSim.Scenario;

/// <summary>The scenario runner's log messages (category mmsim.scenario).</summary>
internal static partial class ScenarioLog
{
    [LoggerMessage(Level = LogLevel.Debug, Message = "scenario step {File}:{Line}: {Text}")]
    public static partial void Step(ILogger logger, string file, int line, string text);

    [LoggerMessage(Level = LogLevel.Debug, Message = "scenario {File}: machine ram={Ram} cpus={Cpus} memcg={Memcg} seed={Seed} kernel={Kernel}")]
    public static partial void MachineBuilt(ILogger logger, string file, ulong ram, int cpus, string memcg, ulong seed, string kernel);
}
