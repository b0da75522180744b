using System.Runtime.CompilerServices;
using BenchmarkDotNet.Attributes;
using MmSim.Kernel;
using MmSim.MapleTree;

namespace MmSim.Benchmarks;

/// <summary>
/// mtree_erase() in steady state: one erase per invocation and thousands of them per iteration, so the figure is
/// the cost of an erase in a long run of erases, as the Load benchmark's is for loads. The older
/// <see cref="MapleTreeBenchmarks.Erase"/> measures 512 erases per iteration right after BenchmarkDotNet's forced
/// full GC; the cold caches the GC leaves behind are then paid by a few hundred erases instead of thousands
/// (docs/perf.md, "Erase in steady state"), which is why these classes also run without the forced GC:
/// <c>Allocated</c> is zero for every method here, so no GC can fall inside an iteration anyway.
/// The data set is <see cref="MapleTreeBenchmarks"/>'s: N random 1–16-page mtree_alloc_range() allocations in
/// [0, 2³²). Each iteration erases <see cref="Victims"/> distinct random ranges (at most N / 16, so the tree keeps
/// its shape and its mix of store types) and the cleanup re-inserts them.
/// </summary>
[MemoryDiagnoser]
[GcForce(false)]
public abstract class MapleEraseBenchmarkBase
{
    private MapleTree<ulong> _tree = null!;
    private ulong[] _first = [];
    private ulong[] _last = [];
    private int[] _victims = [];
    private ulong[] _at = [];
    private int _next;
    private SimRandom _rnd = null!;

    /// <summary>Stored ranges.</summary>
    public abstract int N { get; set; }

    /// <summary>Erases per iteration: the class's InvocationCount.</summary>
    protected abstract int Victims { get; }

    [GlobalSetup]
    public void Setup()
    {
        var set = MapleDataSet.Build(N, MapleDataSet.NewRandom());
        _tree = set.Tree;
        _first = set.First;
        _last = set.Last;
        _victims = new int[Victims];
        _at = new ulong[Victims];
        _rnd = new SimRandom(7);
        JitWarmup.Run();
    }

    /// <summary>Fresh distinct victims; their first indices are gathered here, outside the measurement.</summary>
    [IterationSetup]
    public void PickVictims()
    {
        var taken = new HashSet<int>();
        for (var i = 0; i < _victims.Length; i++)
        {
            int v;
            do
            {
                v = (int)_rnd.NextBelow((ulong)N);
            }
            while (!taken.Add(v));

            _victims[i] = v;
            _at[i] = _first[v];
        }

        _next = 0;
    }

    /// <summary>Put back whatever the iteration erased (nothing for the read-only methods).</summary>
    [IterationCleanup]
    public void Restore()
    {
        foreach (var v in _victims)
        {
            if (_tree.MtreeLoad(_first[v]) == 0)
            {
                _tree.MtreeInsertRange(_first[v], _last[v], (ulong)v + 1, Gfp.GFP_KERNEL);
            }
        }
    }

    /// <summary>The next victim's slot (wrapping, in case the harness invokes more often than asked).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private int NextVictim()
    {
        var i = _next;
        _next = i + 1 == _at.Length ? 0 : i + 1;
        return i;
    }

    /// <summary>mtree_erase() of the next victim.</summary>
    [Benchmark]
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public ulong Erase() => _tree.MtreeErase(_at[NextVictim()]);

    /// <summary>mtree_erase()'s walk alone (the lookup of the range to erase), in the same conditions.</summary>
    [Benchmark]
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public ulong Lookup() => _tree.LookupRange(_at[NextVictim()], out _, out _);

    /// <summary>mtree_load() of the next victim's index, in the same conditions.</summary>
    [Benchmark]
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public ulong Load() => _tree.MtreeLoad(_at[NextVictim()]);
}

/// <summary>Steady-state erases at 10⁵ and 10⁶ ranges: 4,096 per iteration (0.4 % of 10⁶, 4 % of 10⁵).</summary>
[InvocationCount(EraseCount)]
[WarmupCount(6)]
[IterationCount(30)]
public class MapleEraseBenchmarks : MapleEraseBenchmarkBase
{
    public const int EraseCount = 4096;

    [Params(100_000, 1_000_000)]
    public override int N { get; set; }

    protected override int Victims => EraseCount;
}

/// <summary>Steady-state erases at 10³ ranges: 62 (N / 16) per iteration, so the tree keeps its shape.</summary>
[InvocationCount(EraseCount)]
[WarmupCount(10)]
[IterationCount(100)]
public class MapleEraseSmallBenchmarks : MapleEraseBenchmarkBase
{
    public const int EraseCount = 62;

    [Params(1_000)]
    public override int N { get; set; }

    protected override int Victims => EraseCount;
}
