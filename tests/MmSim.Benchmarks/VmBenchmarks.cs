using BenchmarkDotNet.Attributes;
using MmSim.Kernel;
using MmSim.Vm;

namespace MmSim.Benchmarks;

/// <summary>
/// The process layer: mmap/munmap churn in an address space that already holds <see cref="Background"/> VMAs,
/// anonymous write-fault throughput (fault, zero page allocation, PTE) including the zap at munmap, loads that hit
/// present PTEs, and fork + exit of a populated process. Each benchmark reports the cost of one operation.
/// </summary>
[MemoryDiagnoser]
public class VmBenchmarks
{
    public const int Background = 200;
    public const int Churn = 256;
    public const int FaultPages = 1024;

    private const ulong P = 4096;
    private const ulong RW = Mman.PROT_READ | Mman.PROT_WRITE;
    private const ulong PrivAnon = Mman.MAP_PRIVATE | Mman.MAP_ANONYMOUS;

    private Machine _m = null!;
    private TaskStruct _t = null!;
    private ulong _hot;
    private ulong _forkBase;

    [GlobalSetup]
    public void Setup()
    {
        _m = new Machine(new MachineConfig { RamBytes = 1UL << 30 });
        _t = _m.Tasks.Spawn("bench");

        // Alternate protections so the background VMAs do not merge.
        for (var i = 0; i < Background; i++)
        {
            _t.Mmap(0, 2 * P, i % 2 == 0 ? RW : Mman.PROT_READ, PrivAnon);
        }

        _hot = (ulong)_t.Mmap(0, 64 * P, RW, PrivAnon);
        for (ulong a = 0; a < 64 * P; a += P)
        {
            _t.UserWrite(_hot + a, 8, a);
        }

        _forkBase = (ulong)_t.Mmap(0, 256 * P, RW, PrivAnon);
        for (ulong a = 0; a < 256 * P; a += P)
        {
            _t.UserWrite(_forkBase + a, 8, a);
        }

        _m.SyscallExit();
    }

    /// <summary>mmap of 4 anonymous pages (top-down search, merge attempt, tree store) and its munmap.</summary>
    [Benchmark(OperationsPerInvoke = Churn)]
    public long MmapMunmapPair()
    {
        long sum = 0;
        for (var i = 0; i < Churn; i++)
        {
            var a = _t.Mmap(0, 4 * P, Mman.PROT_READ, PrivAnon);
            sum += a;
            _t.Munmap((ulong)a, 4 * P);
            _m.SyscallExit();
        }

        return sum;
    }

    /// <summary>A MAP_FIXED mmap over the middle of a VMA (gather, two splits, close) and the merge back.</summary>
    [Benchmark(OperationsPerInvoke = Churn)]
    public long MprotectSplitMerge()
    {
        long sum = 0;
        for (var i = 0; i < Churn; i++)
        {
            sum += _t.Mprotect(_hot + 8 * P, 4 * P, Mman.PROT_READ);
            sum += _t.Mprotect(_hot + 8 * P, 4 * P, RW);
            _m.SyscallExit();
        }

        return sum;
    }

    /// <summary>One anonymous write fault (page allocation, anon rmap, PTE), amortizing mmap and the munmap zap.</summary>
    [Benchmark(OperationsPerInvoke = FaultPages)]
    public ulong AnonWriteFault()
    {
        var a = (ulong)_t.Mmap(0, FaultPages * P, RW, PrivAnon);
        for (ulong off = 0; off < FaultPages * P; off += P)
        {
            _t.UserWrite(a + off, 8, off);
        }

        _t.Munmap(a, FaultPages * P);
        _m.SyscallExit();
        return a;
    }

    /// <summary>A user load that hits a present PTE (no fault).</summary>
    [Benchmark(OperationsPerInvoke = FaultPages)]
    public ulong LoadHit()
    {
        ulong sum = 0;
        for (var i = 0; i < FaultPages; i++)
        {
            sum += _t.UserRead(_hot + ((ulong)(i & 63) * P), 8).Value;
        }

        return sum;
    }

    /// <summary>fork of a process with ~460 pages in ~200 VMAs (COW copies of the PTEs), then the child's exit.</summary>
    [Benchmark]
    public long ForkExit()
    {
        var r = _t.Fork("child", out var c);
        c!.Exit();
        _m.SyscallExit();
        return r;
    }
}
