using MmSim.Kernel;

namespace MmSim.Bpf;

/// <summary>
/// BPF_MAP_TYPE_PERCPU_ARRAY (kernel/bpf/arraymap.c): one value per possible CPU for each entry. The per-CPU
/// chunk of an entry (bpf_map_alloc_percpu) is modelled as one accounted kzalloc of elem_size × possible CPUs, CPU
/// c's copy at offset c × elem_size. Programs run on CPU 0.
/// </summary>
public sealed class PercpuArrayMap : ArrayMap
{
    private readonly ulong[] _pptrs;

    internal PercpuArrayMap(BpfSubsystem bpf, MapCreateAttr attr, ArrayLayout layout)
        : base(bpf, attr, layout) => _pptrs = new ulong[attr.MaxEntries];

    private int Cpus => Machine.PossibleCpus;

    /// <summary>round_up(value_size, 8) * num_possible_cpus().</summary>
    public override uint SysValueSize => (uint)(ElemSize * (ulong)Cpus);

    public override bool HasMapMmap => false;

    /// <summary>bpf_array_alloc_percpu(): a chunk per entry; on failure everything is freed (-ENOMEM).</summary>
    internal int BpfArrayAllocPercpu()
    {
        var gfp = Machine.BpfMapArea.BpfMemcgFlags(Gfp.GFP_USER | Gfp.__GFP_NOWARN | Gfp.__GFP_ZERO);
        for (var i = 0; i < _pptrs.Length; i++)
        {
            var p = Machine.Slab.Kmalloc((ulong)ElemSize * (ulong)Cpus, gfp, "bpf_map_alloc_percpu");
            if (p == 0)
            {
                return -(int)Errno.ENOMEM;
            }

            _pptrs[i] = p;
        }

        return 0;
    }

    // this_cpu_ptr(array->pptrs[index & index_mask]) + cpu.
    private ulong CpuPtr(uint index, int cpu) => _pptrs[index & IndexMask] + ((ulong)ElemSize * (ulong)cpu);

    /// <summary>percpu_array_map_lookup_elem(): this CPU's (CPU 0's) copy.</summary>
    public override long MapLookupElem(ReadOnlySpan<byte> key)
    {
        var index = KeyIndex(key);
        return index >= MaxEntries ? 0 : (long)CpuPtr(index, 0);
    }

    protected override void CopyValueToElem(uint index, ReadOnlySpan<byte> value) =>
        Machine.KernelMem.Write(CpuPtr(index, 0), value[..(int)ValueSize], "array_map_update_elem");

    /// <summary>bpf_percpu_array_copy(): every CPU's value at an 8-byte-aligned stride.</summary>
    public override int MapCopyValue(ReadOnlySpan<byte> key, Span<byte> value, ulong flags)
    {
        var index = KeyIndex(key);
        if (index >= MaxEntries)
        {
            return -(int)Errno.ENOENT;
        }

        for (var cpu = 0; cpu < Cpus; cpu++)
        {
            Machine.KernelMem.Read(CpuPtr(index, cpu), value.Slice(cpu * (int)ElemSize, (int)ValueSize), "bpf_percpu_array_copy");
        }

        return 0;
    }

    /// <summary>bpf_percpu_array_update(): flags &gt; BPF_EXIST → EINVAL, index → E2BIG, NOEXIST → EEXIST.</summary>
    public override int MapUpdateValue(Vm.VfsFile mapFile, ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, ulong flags)
    {
        var index = KeyIndex(key);
        if (flags > BpfF.BPF_EXIST)
        {
            return -(int)Errno.EINVAL;
        }

        if (index >= MaxEntries)
        {
            return -(int)Errno.E2BIG;
        }

        if (flags == BpfF.BPF_NOEXIST)
        {
            return -(int)Errno.EEXIST;
        }

        for (var cpu = 0; cpu < Cpus; cpu++)
        {
            Machine.KernelMem.Write(CpuPtr(index, cpu), value.Slice(cpu * (int)ElemSize, (int)ValueSize), "bpf_percpu_array_update");
        }

        return 0;
    }

    /// <summary>array_map_free(): bpf_array_free_percpu() then the array.</summary>
    public override void MapFree()
    {
        foreach (var p in _pptrs)
        {
            if (p != 0)
            {
                Machine.Slab.Kfree(p, "bpf_array_free_percpu");
            }
        }

        base.MapFree();
    }
}
