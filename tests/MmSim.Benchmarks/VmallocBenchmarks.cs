using BenchmarkDotNet.Attributes;
using MmSim.Kernel;

namespace MmSim.Benchmarks;

/// <summary>
/// vmalloc/vfree churn of mixed sizes on a machine that keeps <see cref="Live"/> areas alive, and kernel loads
/// through the vmalloc page table. Each invocation does <see cref="Ops"/> operations, so the reported time is per
/// operation: one vfree plus one vmalloc for the churn benchmarks, one 8-byte load for the load benchmarks.
/// </summary>
[MemoryDiagnoser]
public class VmallocBenchmarks
{
    public const int Ops = 1024;
    public const int Live = 256;

    // 1 to 64 pages, small sizes most common (bytes, not page aligned).
    private static readonly ulong[] Sizes = [100, 4096, 5000, 8192, 12288, 16384, 30000, 65536, 131072, 262144];

    private Machine _machine = null!;
    private ulong[] _live = null!;
    private ulong[] _sizes = null!;
    private int[] _slots = null!;
    private int _next;

    [GlobalSetup]
    public void Setup()
    {
        _machine = new Machine(new MachineConfig { RamBytes = 1UL << 30, Cpus = 2 });
        var rnd = new SimRandom(7);
        _sizes = new ulong[Ops];
        _slots = new int[Ops];
        for (var i = 0; i < Ops; i++)
        {
            _sizes[i] = Sizes[rnd.NextBelow((ulong)Sizes.Length)];
            _slots[i] = (int)rnd.NextBelow(Live);
        }

        _live = new ulong[Live];
        for (var i = 0; i < Live; i++)
        {
            _live[i] = _machine.Vmalloc.Vmalloc(_sizes[i], "bench");
        }
    }

    /// <summary>vfree of a random live area, then vmalloc of a mixed size into its slot (lazy purges included).</summary>
    [Benchmark(OperationsPerInvoke = Ops)]
    public ulong VfreeVmallocChurnMixedSizes()
    {
        var v = _machine.Vmalloc;
        ulong sum = 0;
        for (var i = 0; i < Ops; i++)
        {
            var slot = _slots[i];
            v.Vfree(_live[slot], "bench");
            var a = v.Vmalloc(_sizes[(i + _next) & (Ops - 1)], "bench");
            _live[slot] = a;
            sum += a;
        }

        _next++;
        return sum;
    }

    /// <summary>kvmalloc + kvfree pairs of the same mixed sizes (kmalloc up to 4 MiB, so mostly no vmalloc).</summary>
    [Benchmark(OperationsPerInvoke = Ops)]
    public ulong KvmallocKvfreePairMixedSizes()
    {
        var v = _machine.Vmalloc;
        ulong sum = 0;
        for (var i = 0; i < Ops; i++)
        {
            var a = v.Kvmalloc(_sizes[i], Gfp.GFP_KERNEL, "bench");
            sum += a;
            v.Kvfree(a, "bench");
        }

        return sum;
    }

    /// <summary>An 8-byte kernel load from a vmalloc address (KernelMemory → vmalloc page table → page contents).</summary>
    [Benchmark(OperationsPerInvoke = Ops)]
    public ulong KernelLoadFromVmalloc()
    {
        var km = _machine.KernelMem;
        ulong sum = 0;
        for (var i = 0; i < Ops; i++)
        {
            km.ReadValue(_live[_slots[i]], 8, "bench", out var x);
            sum += x;
        }

        return sum;
    }

    /// <summary>A PROBE_MEM32-style load: the non-reporting vmalloc probe.</summary>
    [Benchmark(OperationsPerInvoke = Ops)]
    public ulong ProbeLoadFromVmalloc()
    {
        var v = _machine.Vmalloc;
        ulong sum = 0;
        for (var i = 0; i < Ops; i++)
        {
            v.ProbeReadValue(_live[_slots[i]], 8, out var x);
            sum += x;
        }

        return sum;
    }
}
