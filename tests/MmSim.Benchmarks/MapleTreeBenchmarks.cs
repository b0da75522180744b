using System.Runtime.CompilerServices;
using BenchmarkDotNet.Attributes;
using MmSim.Kernel;
using MmSim.MapleTree;

namespace MmSim.Benchmarks;

/// <summary>
/// The maple tree at 10³, 10⁵ and 10⁶ stored ranges. Benchmark methods are compiled fully optimized at once
/// (each runs only a few dozen times); the tree's code is warmed to tier 1 in the setup. The data set is N allocations of random 1–16 pages made
/// with mtree_alloc_range() over [0, 2³²) in page units (lowest fit, so the ranges are packed from 0 up, as an
/// allocator leaves them). Each benchmark does <see cref="Ops"/> operations per invocation and restores the data
/// set afterwards, so every iteration sees N ranges.
/// </summary>
[MemoryDiagnoser]
[InvocationCount(1)]
[WarmupCount(8)]
[IterationCount(40)]
public class MapleTreeBenchmarks
{
    public const int Ops = 512;
    private const ulong Space = 1UL << 32;

    private readonly ulong[] _sizes = new ulong[Ops];
    private readonly ulong[] _got = new ulong[Ops];
    private readonly int[] _victims = new int[Ops];
    private readonly ulong[] _eraseAt = new ulong[Ops];
    private MapleTree<ulong> _tree = null!;
    private ulong[] _first = [];
    private ulong[] _last = [];
    private SimRandom _rnd = null!;

    [Params(1_000, 100_000, 1_000_000)]
    public int N { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var r = MapleDataSet.NewRandom();
        var set = MapleDataSet.Build(N, r);
        _tree = set.Tree;
        _first = set.First;
        _last = set.Last;
        for (var i = 0; i < Ops; i++)
        {
            _sizes[i] = r.NextBelow(16) + 1;
        }

        _rnd = new SimRandom(7);
        JitWarmup.Run();
    }

    private void PickVictims()
    {
        // Ops distinct stored ranges, chosen afresh for each iteration.
        var taken = new HashSet<int>();
        for (var i = 0; i < Ops; i++)
        {
            int v;
            do
            {
                v = (int)_rnd.NextBelow((ulong)N);
            }
            while (!taken.Add(v));

            _victims[i] = v;
        }
    }

    private void Restore(int[] victims)
    {
        foreach (var v in victims)
        {
            _tree.MtreeInsertRange(_first[v], _last[v], (ulong)v + 1, Gfp.GFP_KERNEL);
        }
    }

    /// <summary>mtree_alloc_range() of 1–16 pages, lowest fit in [0, 2³²): past every full subtree to the end.</summary>
    [Benchmark(OperationsPerInvoke = Ops)]
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Alloc()
    {
        var t = _tree;
        for (var i = 0; i < Ops; i++)
        {
            t.MtreeAllocRange(out _got[i], 0xa110c, _sizes[i], 0, Space - 1, Gfp.GFP_KERNEL);
        }
    }

    [IterationCleanup(Target = nameof(Alloc))]
    public void AllocCleanup()
    {
        foreach (var g in _got)
        {
            _tree.MtreeErase(g);
        }
    }

    /// <summary>
    /// The victims' first indices are gathered here, outside the measurement: reading <c>_first[v]</c> for a random
    /// v inside the loop is a cache and TLB miss of its own in an 8 MB array at N = 10⁶ (~200 ns per erase in the
    /// harness) that has nothing to do with mtree_erase().
    /// </summary>
    [IterationSetup(Target = nameof(Erase))]
    public void EraseSetup()
    {
        PickVictims();
        for (var i = 0; i < Ops; i++)
        {
            _eraseAt[i] = _first[_victims[i]];
        }
    }

    /// <summary>mtree_erase() of random stored ranges.</summary>
    [Benchmark(OperationsPerInvoke = Ops)]
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Erase()
    {
        var t = _tree;
        foreach (var index in _eraseAt)
        {
            t.MtreeErase(index);
        }
    }

    [IterationCleanup(Target = nameof(Erase))]
    public void EraseCleanup() => Restore(_victims);

    [IterationSetup(Target = nameof(ReallocIntoHoles))]
    public void ReallocSetup()
    {
        PickVictims();
        foreach (var v in _victims)
        {
            _tree.MtreeErase(_first[v]);
        }

        for (var i = 0; i < Ops; i++)
        {
            var v = _victims[i];
            _sizes[i] = _last[v] - _first[v] + 1;
        }
    }

    /// <summary>With Ops random ranges freed, mtree_alloc_range() of their sizes: each lands in the lowest hole that fits.</summary>
    [Benchmark(OperationsPerInvoke = Ops)]
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void ReallocIntoHoles()
    {
        var t = _tree;
        for (var i = Ops - 1; i >= 0; i--)
        {
            t.MtreeAllocRange(out _got[i], 0x4e110c, _sizes[i], 0, Space - 1, Gfp.GFP_KERNEL);
        }
    }

    [IterationCleanup(Target = nameof(ReallocIntoHoles))]
    public void ReallocCleanup()
    {
        foreach (var g in _got)
        {
            _tree.MtreeErase(g);
        }

        Restore(_victims);
    }
}

/// <summary>
/// Each iteration here is a single invocation of a few hundred operations, far too little for tiered compilation
/// to promote the code it runs; a small data set would then be measured at tier 0. The setup therefore runs the
/// operations on a scratch tree and waits for the tier-1 code.
/// </summary>
internal static class JitWarmup
{
    public static void Run()
    {
        var r = new SimRandom(99);
        for (var round = 0; round < 4; round++)
        {
            var t = new MapleTree<ulong>(MapleFlags.MT_FLAGS_ALLOC_RANGE);
            var starts = new List<ulong>();
            for (var i = 0; i < 20_000; i++)
            {
                t.MtreeAllocRange(out var s, 1, r.NextBelow(16) + 1, 0, (1UL << 32) - 1, Gfp.GFP_KERNEL);
                starts.Add(s);
            }

            ulong sum = 0;
            for (var i = 0; i < 50_000; i++)
            {
                sum += t.MtreeLoad(r.NextBelow(starts[^1]));
            }

            for (var i = 0; i < starts.Count; i += 2)
            {
                t.MtreeErase(starts[i]);
            }

            for (var i = 0; i < starts.Count; i += 2)
            {
                t.MtreeAllocRange(out _, 2, 1, 0, (1UL << 32) - 1, Gfp.GFP_KERNEL);
            }

            var d = new SortedDictionary<ulong, ulong>();
            var l = new SortedList<ulong, ulong>();
            for (var i = 0; i < 2000; i++)
            {
                d[(ulong)i * 3] = (ulong)i * 3;
                l[(ulong)i * 3] = (ulong)i * 3;
            }

            GC.KeepAlive(sum);
            Thread.Sleep(250);
        }
    }
}

/// <summary>
/// What a .NET user would write without a gap-tracking tree: a SortedDictionary of start → last with a linear
/// first-fit gap scan. Same data set as <see cref="MapleTreeBenchmarks"/>. The scan is O(ranges), so fewer
/// operations are measured per invocation.
/// </summary>
[MemoryDiagnoser]
[InvocationCount(1)]
[WarmupCount(2)]
[IterationCount(8)]
public class MapleBaselineBenchmarks
{
    public const int AllocOps = 8;
    private const ulong Space = 1UL << 32;

    private readonly ulong[] _sizes = new ulong[AllocOps];
    private readonly ulong[] _got = new ulong[AllocOps];
    private SortedDictionary<ulong, ulong> _dict = null!;

    [Params(1_000, 100_000, 1_000_000)]
    public int N { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        // The same ranges mtree_alloc_range() produces: packed from 0.
        var r = MapleDataSet.NewRandom();
        _dict = new SortedDictionary<ulong, ulong>();
        ulong next = 0;
        for (var i = 0; i < N; i++)
        {
            var size = r.NextBelow(16) + 1;
            _dict.Add(next, next + size - 1);
            next += size;
        }

        for (var i = 0; i < AllocOps; i++)
        {
            _sizes[i] = r.NextBelow(16) + 1;
        }

        JitWarmup.Run();
    }

    /// <summary>First fit by walking the sorted ranges from 0 until a gap of the size appears.</summary>
    [Benchmark(OperationsPerInvoke = AllocOps)]
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void LinearScanAlloc()
    {
        for (var i = 0; i < AllocOps; i++)
        {
            var size = _sizes[i];
            ulong cursor = 0;
            foreach (var kv in _dict)
            {
                if (kv.Key - cursor >= size)
                {
                    break;
                }

                cursor = kv.Value + 1;
            }

            if (Space - cursor < size)
            {
                throw new InvalidOperationException("full");
            }

            _dict.Add(cursor, cursor + size - 1);
            _got[i] = cursor;
        }
    }

    [IterationCleanup(Target = nameof(LinearScanAlloc))]
    public void LinearScanCleanup()
    {
        foreach (var g in _got)
        {
            _dict.Remove(g);
        }
    }
}

/// <summary>
/// Lookups need no restoring, so they run in BenchmarkDotNet's normal mode (many invocations per iteration):
/// mtree_load() and, as the baseline, a SortedList with binary search for the last start at or below the index.
/// Same data set as <see cref="MapleTreeBenchmarks"/>. The indices come from an inline xorshift generator that
/// keeps running across invocations, so no lookup repeats an earlier one and large trees are not measured
/// warm in the cache.
/// </summary>
[MemoryDiagnoser]
public class MapleLoadBenchmarks
{
    public const int LoadOps = 4096;

    private MapleTree<ulong> _tree = null!;
    private SortedList<ulong, ulong> _list = null!;
    private ulong[] _flat = [];
    private ulong _span;
    private ulong _state = 0x9E3779B97F4A7C15UL;

    [Params(1_000, 100_000, 1_000_000)]
    public int N { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var set = MapleDataSet.Build(N, MapleDataSet.NewRandom());
        _tree = set.Tree;
        _list = new SortedList<ulong, ulong>(N);
        for (var i = 0; i < N; i++)
        {
            _list.Add(set.First[i], set.Last[i]);
        }

        _span = set.Last[N - 1] + 1;

        // 24 bytes per range: the tree's own host memory per packed range (23.2 B at 10⁶, docs/perf.md).
        _flat = new ulong[N * 3];
        for (var i = 0; i < _flat.Length; i++)
        {
            _flat[i] = (ulong)i;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ulong Next(ref ulong x)
    {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        return x;
    }

    /// <summary>mtree_load() of random indices inside the populated span.</summary>
    [Benchmark(OperationsPerInvoke = LoadOps)]
    public ulong Load()
    {
        ulong sum = 0;
        var t = _tree;
        var x = _state;
        var span = _span;
        for (var i = 0; i < LoadOps; i++)
        {
            sum += t.MtreeLoad(Next(ref x) % span);
        }

        _state = x;
        return sum;
    }

    /// <summary>
    /// The floor: ONE random read in a flat array as large as the tree (24 bytes per range). No lookup structure
    /// can cost less per random lookup than a single access to memory of its size, so this row's growth from 10³
    /// to 10⁶ is the memory hierarchy's, not any data structure's.
    /// </summary>
    [Benchmark(OperationsPerInvoke = LoadOps)]
    public ulong ArrayRead()
    {
        var flat = _flat;
        var len = (ulong)flat.Length;
        ulong sum = 0;
        var x = _state;
        for (var i = 0; i < LoadOps; i++)
        {
            sum += flat[(int)(Next(ref x) % len)];
        }

        _state = x;
        return sum;
    }

    /// <summary>
    /// The latency floor: the same single random read, but each address depends on the previous read's value, so
    /// no two misses overlap (a tree descent is such a chain, level after level).
    /// </summary>
    [Benchmark(OperationsPerInvoke = LoadOps)]
    public ulong ChainedArrayRead()
    {
        var flat = _flat;
        var len = (ulong)flat.Length;
        ulong v = 0;
        var x = _state;
        for (var i = 0; i < LoadOps; i++)
        {
            v = flat[(int)((v ^ Next(ref x)) % len)];
        }

        _state = x;
        return v;
    }

    /// <summary>Baseline: the range containing an index by binary search over a SortedList.</summary>
    [Benchmark(OperationsPerInvoke = LoadOps)]
    public ulong SortedListLoad()
    {
        var keys = _list.Keys;
        var values = _list.Values;
        ulong sum = 0;
        var x = _state;
        var span = _span;
        for (var i = 0; i < LoadOps; i++)
        {
            var k = Next(ref x) % span;
            int lo = 0, hi = keys.Count - 1, found = -1;
            while (lo <= hi)
            {
                var mid = (lo + hi) >>> 1;
                if (keys[mid] <= k)
                {
                    found = mid;
                    lo = mid + 1;
                }
                else
                {
                    hi = mid - 1;
                }
            }

            if (found >= 0 && values[found] >= k)
            {
                sum += values[found];
            }
        }

        _state = x;
        return sum;
    }
}
