using BenchmarkDotNet.Attributes;
using MmSim.Check;
using MmSim.Kernel;

namespace MmSim.Benchmarks;

/// <summary>
/// One invariant check, its quick path (what <c>mmsim check</c> runs after every step) or its full check (the
/// scenario <c>check</c> statement), on the checker's small states: the machines of the first
/// <see cref="States"/> sequences of seed 0 (default profile, <c>machine ram=8M</c>), each stopped halfway
/// through its random steps. Per operation: one check of every state, divided by <see cref="States"/>.
/// </summary>
public class InvariantBenchmarks
{
    public const int States = 32;

    private readonly List<Machine> _machines = [];

    [Params("page_alloc", "slab", "vmalloc", "vm", "bpf")]
    public string Check { get; set; } = "";

    [Params(true, false)]
    public bool Quick { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var opts = new CheckOptions();
        for (long i = 0; _machines.Count < States; i++)
        {
            var rng = CheckRandom.ForSequence(opts.Seed, i);
            var gen = new Generator(rng, opts.Registry);
            var ex = new SequenceExecutor(opts.MachineLine, opts.Registry, checkInvariants: false);
            var ok = gen.Prologue().All(s => Step(gen, ex, s));
            var half = rng.Range(4, opts.MaxLength) / 2;
            for (var k = 0; ok && k < half; k++)
            {
                ok = Step(gen, ex, gen.Next());
            }

            if (ok)
            {
                _machines.Add(ex.Machine);
            }
        }

        // Every state is sound (else the figures would time a violation report).
        foreach (var m in _machines)
        {
            if (m.Invariants.RunOne(Check, quick: false) != 0 || m.Invariants.RunOne(Check, Quick) != 0)
            {
                throw new InvalidOperationException($"{Check} does not hold on a benchmark state");
            }
        }
    }

    private static bool Step(Generator gen, SequenceExecutor ex, CheckStep s)
    {
        if (ex.Run(s, 0, out var v) == StepVerdict.Invalid || v is not null)
        {
            return false;
        }

        gen.Observe(s, ex.Last!, ex.Session);
        return !ex.Session.Stopped;
    }

    [Benchmark(OperationsPerInvoke = States)]
    public int RunCheck()
    {
        var sum = 0;
        foreach (var m in _machines)
        {
            sum += m.Invariants.RunOne(Check, Quick);
        }

        return sum;
    }
}
