using BenchmarkDotNet.Attributes;
using MmSim.Bpf;
using MmSim.Kernel;
using MmSim.Vm;

namespace MmSim.Benchmarks;

/// <summary>
/// Array maps: element lookup and update through bpf(2) (fd lookup, f_mode check, key copy, value copy through the
/// simulated kernel memory), and the same through a BPF_F_MMAPABLE mapping (user loads and stores that hit
/// present PTEs). Each benchmark reports the cost of one element operation.
/// </summary>
[MemoryDiagnoser]
public class BpfBenchmarks
{
    public const int Ops = 1024;

    private readonly byte[] _key = new byte[4];
    private readonly byte[] _value = new byte[8];
    private Machine _m = null!;
    private TaskStruct _t = null!;
    private int _fd;
    private ulong _addr;

    [GlobalSetup]
    public void Setup()
    {
        _m = new Machine(new MachineConfig { RamBytes = 256UL << 20 });
        _t = _m.Tasks.Spawn("bench");
        _fd = (int)_m.Bpf.MapCreate(_t, new MapCreateAttr
        {
            MapType = BpfMapType.BPF_MAP_TYPE_ARRAY,
            KeySize = 4,
            ValueSize = 8,
            MaxEntries = Ops,
            MapFlags = BpfF.BPF_F_MMAPABLE,
        });
        _addr = (ulong)_t.Mmap(0, Ops * 8, Mman.PROT_READ | Mman.PROT_WRITE, Mman.MAP_SHARED, _fd);
        _m.SyscallExit();
    }

    /// <summary>BPF_MAP_LOOKUP_ELEM of one 8-byte value.</summary>
    [Benchmark(OperationsPerInvoke = Ops)]
    public long SyscallLookup()
    {
        long sum = 0;
        for (uint i = 0; i < Ops; i++)
        {
            BitConverter.TryWriteBytes(_key, i);
            sum += _m.Bpf.MapLookupElem(_t, _fd, _key, _value);
        }

        return sum;
    }

    /// <summary>BPF_MAP_UPDATE_ELEM of one 8-byte value.</summary>
    [Benchmark(OperationsPerInvoke = Ops)]
    public long SyscallUpdate()
    {
        long sum = 0;
        for (uint i = 0; i < Ops; i++)
        {
            BitConverter.TryWriteBytes(_key, i);
            BitConverter.TryWriteBytes(_value, (ulong)i);
            sum += _m.Bpf.MapUpdateElem(_t, _fd, _key, _value);
        }

        return sum;
    }

    /// <summary>A user load of one value through the mapping.</summary>
    [Benchmark(OperationsPerInvoke = Ops)]
    public ulong MappingRead()
    {
        ulong sum = 0;
        for (ulong i = 0; i < Ops; i++)
        {
            sum += _t.UserRead(_addr + (i * 8), 8).Value;
        }

        return sum;
    }

    /// <summary>A user store of one value through the mapping.</summary>
    [Benchmark(OperationsPerInvoke = Ops)]
    public bool MappingWrite()
    {
        var ok = true;
        for (ulong i = 0; i < Ops; i++)
        {
            ok &= _t.UserWrite(_addr + (i * 8), 8, i).Ok;
        }

        return ok;
    }
}
