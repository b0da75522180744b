using BenchmarkDotNet.Attributes;
using MmSim.Kernel;

namespace MmSim.Benchmarks;

/// <summary>
/// The buddy allocator against its floor, a bare int-array free stack. Each invocation does
/// <see cref="Ops"/> alloc+free pairs, so the reported time divided by Ops is the cost of one pair.
/// </summary>
[MemoryDiagnoser]
public class PageAllocBenchmarks
{
    public const int Ops = 1024;

    private Machine _machine = null!;
    private Machine _fresh = null!;
    private int[] _stack = null!;
    private int _top;
    private long[] _held = null!;
    private int[] _orders = null!;

    [GlobalSetup]
    public void Setup()
    {
        _machine = new Machine(new MachineConfig { RamBytes = 1UL << 30 });
        _fresh = new Machine(new MachineConfig { RamBytes = 1UL << 30 });

        // Steady state: a quarter of memory in use, scattered, as after some uptime.
        var rnd = new SimRandom(1);
        var held = new List<long>();
        for (var i = 0; i < 65536; i++)
        {
            held.Add(_machine.PageAlloc.AllocPage(Gfp.GFP_KERNEL));
        }

        for (var i = 0; i < held.Count; i += 2)
        {
            _machine.PageAlloc.FreePages(held[i], 0);
        }

        _stack = new int[262144];
        for (var i = 0; i < _stack.Length; i++)
        {
            _stack[i] = i;
        }

        _top = _stack.Length;
        _held = new long[Ops];
        _orders = new int[Ops];
        for (var i = 0; i < Ops; i++)
        {
            _orders[i] = (int)rnd.NextBelow(4);
        }
    }

    /// <summary>The floor: pop a frame number from an int stack and push it back.</summary>
    [Benchmark(Baseline = true, OperationsPerInvoke = Ops)]
    public int FloorIntStackPair()
    {
        var sum = 0;
        for (var i = 0; i < Ops; i++)
        {
            var f = _stack[--_top];
            sum += f;
            _stack[_top++] = f;
        }

        return sum;
    }

    /// <summary>alloc_page + __free_pages on a machine with scattered free order-0 pages.</summary>
    [Benchmark(OperationsPerInvoke = Ops)]
    public long Order0PairSteadyState()
    {
        long sum = 0;
        var pa = _machine.PageAlloc;
        for (var i = 0; i < Ops; i++)
        {
            var pfn = pa.AllocPage(Gfp.GFP_KERNEL);
            sum += pfn;
            pa.FreePages(pfn, 0);
        }

        return sum;
    }

    /// <summary>alloc_page + __free_pages on a fresh machine: every pair splits and re-merges an order-10 block.</summary>
    [Benchmark(OperationsPerInvoke = Ops)]
    public long Order0PairSplitMerge()
    {
        long sum = 0;
        var pa = _fresh.PageAlloc;
        for (var i = 0; i < Ops; i++)
        {
            var pfn = pa.AllocPage(Gfp.GFP_KERNEL);
            sum += pfn;
            pa.FreePages(pfn, 0);
        }

        return sum;
    }

    /// <summary>Ops allocations of orders 0..3, then Ops frees (per-op cost is time / (2 * Ops)).</summary>
    [Benchmark(OperationsPerInvoke = 2 * Ops)]
    public long MixedOrdersBatch()
    {
        var pa = _machine.PageAlloc;
        for (var i = 0; i < Ops; i++)
        {
            _held[i] = pa.AllocPages(Gfp.GFP_KERNEL, _orders[i]);
        }

        long sum = 0;
        for (var i = Ops - 1; i >= 0; i--)
        {
            sum += _held[i];
            pa.FreePages(_held[i], _orders[i]);
        }

        return sum;
    }

    /// <summary>kmalloc(64) + kfree pairs.</summary>
    [Benchmark(OperationsPerInvoke = Ops)]
    public ulong Kmalloc64Pair()
    {
        ulong sum = 0;
        var slab = _machine.Slab;
        for (var i = 0; i < Ops; i++)
        {
            var p = slab.Kmalloc(64, Gfp.GFP_KERNEL);
            sum += p;
            slab.Kfree(p);
        }

        return sum;
    }
}

/// <summary>Booting a large machine: frame metadata allocation and free-list setup.</summary>
[MemoryDiagnoser]
public class BootBenchmarks
{
    [Params(1, 64)]
    public int RamGiB { get; set; }

    [Benchmark]
    public long Boot()
    {
        var m = new Machine(new MachineConfig { RamBytes = (ulong)RamGiB << 30 });
        return m.PageAlloc.NrFreePages + m.PageAlloc.MetadataHostBytes;
    }
}
