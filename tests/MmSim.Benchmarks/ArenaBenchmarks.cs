using BenchmarkDotNet.Attributes;
using MmSim.Bpf;
using MmSim.Kernel;
using MmSim.Vm;

namespace MmSim.Benchmarks;

/// <summary>
/// bpf_arena: user fault-in of every page of a full 4 GiB arena (1M pages: arena_vm_fault's maple-tree insert,
/// accounted page allocation, kernel-area mapping, PTE) against the floor of one Dictionary insert per page; and
/// kfunc bpf_arena_alloc_pages + bpf_arena_free_pages throughput. Each benchmark reports the cost of one page.
/// </summary>
[MemoryDiagnoser]
public class ArenaBenchmarks
{
    public const int FullPages = 1 << 20;
    public const int KfuncPairs = 1024;

    private const ulong P = 4096;

    private Machine _m = null!;
    private TaskStruct _t = null!;
    private ulong _addr;
    private int _fd;
    private BpfArena _small = null!;

    [GlobalSetup]
    public void Setup()
    {
        _m = new Machine(new MachineConfig { RamBytes = 5UL << 30 });
        _t = _m.Tasks.Spawn("bench");
        var fd = _m.Bpf.MapCreate(_t, new MapCreateAttr
        {
            MapType = BpfMapType.BPF_MAP_TYPE_ARENA,
            MaxEntries = 64,
            MapFlags = BpfF.BPF_F_MMAPABLE,
            MapExtra = 0x7000_0000_0000,
        });
        _small = (BpfArena)_t.Files!.Lookup((int)fd)!.PrivateData!;
    }

    [IterationSetup(Target = nameof(UserFaultInFullArena))]
    public void CreateFullArena()
    {
        _fd = (int)_m.Bpf.MapCreate(_t, new MapCreateAttr
        {
            MapType = BpfMapType.BPF_MAP_TYPE_ARENA,
            MaxEntries = FullPages,
            MapFlags = BpfF.BPF_F_MMAPABLE,
        });
        _addr = (ulong)_t.Mmap(0, (ulong)FullPages * P, Mman.PROT_READ | Mman.PROT_WRITE, Mman.MAP_SHARED, _fd);
        _m.SyscallExit();
    }

    [IterationCleanup(Target = nameof(UserFaultInFullArena))]
    public void DestroyFullArena()
    {
        _t.Munmap(_addr, (ulong)FullPages * P);
        _t.Close(_fd);
        _m.SyscallExit();
        _m.Vmalloc.PurgeVmapAreaLazy();
    }

    /// <summary>One user read fault in a fresh page of a 4 GiB arena (no page contents are materialized).</summary>
    [Benchmark(OperationsPerInvoke = FullPages)]
    public ulong UserFaultInFullArena()
    {
        ulong sum = 0;
        for (var i = 0UL; i < FullPages; i++)
        {
            sum += _t.UserRead(_addr + (i * P)).Value;
        }

        return sum;
    }

    /// <summary>The floor: one Dictionary insert per page.</summary>
    [Benchmark(OperationsPerInvoke = FullPages, Baseline = true)]
    public int DictionaryInsertFloor()
    {
        var d = new Dictionary<ulong, long>();
        for (var i = 0UL; i < FullPages; i++)
        {
            d[i] = (long)i;
        }

        return d.Count;
    }

    /// <summary>bpf_arena_alloc_pages(1 page, lowest first) and bpf_arena_free_pages of it.</summary>
    [Benchmark(OperationsPerInvoke = KfuncPairs)]
    public ulong KfuncAllocFreePair()
    {
        ulong sum = 0;
        for (var i = 0; i < KfuncPairs; i++)
        {
            var a = BpfArena.BpfArenaAllocPages(_small, 0, 1, -1, 0);
            sum += a;
            BpfArena.BpfArenaFreePages(_small, a, 1);
        }

        return sum;
    }

    /// <summary>bpf_arena_alloc_pages of 16 pages at once and their free (per page).</summary>
    [Benchmark(OperationsPerInvoke = KfuncPairs * 16)]
    public ulong KfuncAllocFree16()
    {
        ulong sum = 0;
        for (var i = 0; i < KfuncPairs; i++)
        {
            var a = BpfArena.BpfArenaAllocPages(_small, 0, 16, -1, 0);
            sum += a;
            BpfArena.BpfArenaFreePages(_small, a, 16);
        }

        return sum;
    }
}
