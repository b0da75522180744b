using BenchmarkDotNet.Attributes;
using MmSim.Check;

namespace MmSim.Benchmarks;

/// <summary>
/// The checker's throughput: <see cref="Sequences"/> generated sequences (seed 0, default profile, every layer)
/// from fresh machines, with and without the per-step invariant checks (machine.Invariants). The other
/// per-step properties (KASAN, WARN, expectations, errno atomicity) run in both. Divide by
/// <see cref="StepsPerRun"/> (printed by the setup) for the cost of one checked step.
/// </summary>
[MemoryDiagnoser]
public class CheckerBenchmarks
{
    public const int Sequences = 50;

    /// <summary>Steps in one run of <see cref="Sequences"/> sequences (deterministic).</summary>
    public static long StepsPerRun { get; private set; }

    [GlobalSetup]
    public void Setup()
    {
        StepsPerRun = Run(true);
        Console.WriteLine($"// CheckerBenchmarks: {StepsPerRun} steps per run of {Sequences} sequences");
    }

    [Benchmark(Baseline = true)]
    public long StepsAlone() => Run(false);

    [Benchmark]
    public long StepsWithInvariants() => Run(true);

    private static long Run(bool invariants) =>
        new Checker(new CheckOptions { MaxSequences = Sequences, CheckInvariants = invariants, Shrink = false }).Run().Stats.Steps;
}
