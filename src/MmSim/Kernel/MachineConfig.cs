using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace MmSim.Kernel;

/// <summary>What a <see cref="Machine"/> is built from: the scenario language's <c>machine</c> statement.</summary>
public sealed record MachineConfig
{
    /// <summary>Simulated physical memory in bytes (rounded down to whole pages).</summary>
    public ulong RamBytes { get; init; } = 1UL << 30;

    /// <summary>Possible CPUs (num_possible_cpus()): per-CPU maps hold one value per CPU.</summary>
    public int Cpus { get; init; } = 2;

    /// <summary>memory.max of the one cgroup every process runs in; null is "max" (unlimited).</summary>
    public ulong? MemcgLimit { get; init; }

    /// <summary>Seed of the machine's only random source.</summary>
    public ulong Seed { get; init; }

    public KernelProfile Profile { get; init; } = KernelProfile.Default;

    /// <summary>Where tracepoints are logged; the null factory makes every tracepoint free.</summary>
    public ILoggerFactory LoggerFactory { get; init; } = NullLoggerFactory.Instance;
}
