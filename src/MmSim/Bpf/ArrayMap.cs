using System.Buffers.Binary;
using MmSim.Kernel;
using MmSim.Vm;

namespace MmSim.Bpf;

/// <summary>
/// struct bpf_array and array_map_ops (kernel/bpf/arraymap.c): BPF_MAP_TYPE_ARRAY, and the base of the per-CPU and
/// fd arrays. The array (header and values) lives in simulated kernel memory from bpf_map_area_alloc (kmalloc or
/// vmalloc, __GFP_ACCOUNT); with BPF_F_MMAPABLE it is a page-aligned vmalloc area whose value part starts on a page
/// boundary and is mapped into user space by array_map_mmap.
/// </summary>
public class ArrayMap : BpfMap
{
    /// <summary>
    /// sizeof(struct bpf_array) on x86-64 6.12 as MmSim models it (struct bpf_map, elem_size, index_mask, aux; the
    /// value array follows). An approximation: it only decides kmalloc size classes, never a page count.
    /// </summary>
    public const uint BpfArrayHeaderSize = 320;

    /// <summary>PCPU_MIN_UNIT_SIZE: the largest per-CPU value.</summary>
    public const uint PCPU_MIN_UNIT_SIZE = 32768;

    /// <summary>ARRAY_CREATE_FLAG_MASK.</summary>
    public const uint ARRAY_CREATE_FLAG_MASK = BpfF.BPF_F_NUMA_NODE | BpfF.BPF_F_MMAPABLE | BpfF.BPF_F_ACCESS_MASK
        | BpfF.BPF_F_PRESERVE_ELEMS | BpfF.BPF_F_INNER_MAP;

    protected ArrayMap(BpfSubsystem bpf, MapCreateAttr attr, ArrayLayout layout)
        : base(bpf, attr)
    {
        ArgumentNullException.ThrowIfNull(layout);
        Area = layout.Area;
        ValueBase = layout.ValueBase;
        ElemSize = layout.ElemSize;
        IndexMask = layout.IndexMask;
        BypassSpecV1 = layout.BypassSpecV1;
        AllocSize = layout.AllocSize;
    }

    /// <summary>What bpf_map_area_alloc / bpf_map_area_mmapable_alloc returned (freed by map_free).</summary>
    public ulong Area { get; }

    /// <summary>array->value: the kernel address of element 0.</summary>
    public ulong ValueBase { get; }

    /// <summary>array->elem_size = round_up(value_size, 8).</summary>
    public uint ElemSize { get; }

    /// <summary>array->index_mask = roundup_pow_of_two(max_entries) - 1.</summary>
    public uint IndexMask { get; }

    /// <summary>map->bypass_spec_v1 (the creator was perfmon_capable(): storage not padded to index_mask + 1).</summary>
    public bool BypassSpecV1 { get; }

    /// <summary>The size passed to the area allocator.</summary>
    public ulong AllocSize { get; }

    /// <summary>True for BPF_F_MMAPABLE arrays.</summary>
    public bool IsMmapable => (MapFlags & BpfF.BPF_F_MMAPABLE) != 0;

    public override bool HasMapMmap => MapType == BpfMapType.BPF_MAP_TYPE_ARRAY;

    /// <summary>The layout array_map_alloc computed and allocated.</summary>
    public sealed record ArrayLayout(ulong Area, ulong ValueBase, uint ElemSize, uint IndexMask, bool BypassSpecV1, ulong AllocSize);

    /// <summary>array_map_alloc_check(attr).</summary>
    public static int ArrayMapAllocCheck(MapCreateAttr attr)
    {
        ArgumentNullException.ThrowIfNull(attr);
        var percpu = attr.MapType == BpfMapType.BPF_MAP_TYPE_PERCPU_ARRAY;
        var numaNode = (attr.MapFlags & BpfF.BPF_F_NUMA_NODE) != 0 ? (int)attr.NumaNode : BpfF.NUMA_NO_NODE;
        if (attr.MaxEntries == 0 || attr.KeySize != 4 || attr.ValueSize == 0
            || (attr.MapFlags & ~ARRAY_CREATE_FLAG_MASK) != 0
            || !BpfMapFlagsAccessOk(attr.MapFlags)
            || (percpu && numaNode != BpfF.NUMA_NO_NODE))
        {
            return -(int)Errno.EINVAL;
        }

        if (attr.MapType != BpfMapType.BPF_MAP_TYPE_ARRAY && (attr.MapFlags & (BpfF.BPF_F_MMAPABLE | BpfF.BPF_F_INNER_MAP)) != 0)
        {
            return -(int)Errno.EINVAL;
        }

        if (attr.MapType != BpfMapType.BPF_MAP_TYPE_PERF_EVENT_ARRAY && (attr.MapFlags & BpfF.BPF_F_PRESERVE_ELEMS) != 0)
        {
            return -(int)Errno.EINVAL;
        }

        if (attr.ValueSize > int.MaxValue)
        {
            return -(int)Errno.E2BIG; // avoid overflow on round_up(map->value_size)
        }

        if (percpu && RoundUp8(attr.ValueSize) > PCPU_MIN_UNIT_SIZE)
        {
            return -(int)Errno.E2BIG;
        }

        return 0;
    }

    /// <summary>bpf_map_flags_access_ok(): not both BPF_F_RDONLY_PROG and BPF_F_WRONLY_PROG.</summary>
    public static bool BpfMapFlagsAccessOk(uint flags) =>
        (flags & (BpfF.BPF_F_RDONLY_PROG | BpfF.BPF_F_WRONLY_PROG)) != (BpfF.BPF_F_RDONLY_PROG | BpfF.BPF_F_WRONLY_PROG);

    /// <summary>round_up(value_size, 8).</summary>
    public static ulong RoundUp8(ulong v) => (v + 7) & ~7UL;

    /// <summary>
    /// array_map_alloc(attr): the layout (elem_size, index_mask, the E2BIG check of the padded size) and the area;
    /// -ENOMEM when the allocation fails (memcg limit included). <paramref name="ptrSlots"/> adds max_entries
    /// pointers to the header (the per-CPU array's pptrs).
    /// </summary>
    public static int ArrayMapAlloc(BpfSubsystem bpf, MapCreateAttr attr, bool ptrSlots, out ArrayLayout? layout)
    {
        ArgumentNullException.ThrowIfNull(bpf);
        ArgumentNullException.ThrowIfNull(attr);
        layout = null;
        var numaNode = (attr.MapFlags & BpfF.BPF_F_NUMA_NODE) != 0 ? (int)attr.NumaNode : BpfF.NUMA_NO_NODE;
        var current = bpf.Current;
        var bypassSpecV1 = current is null || current.Capable(Capability.CAP_PERFMON) || current.Capable(Capability.CAP_SYS_ADMIN);
        var elemSize = (uint)RoundUp8(attr.ValueSize);
        ulong maxEntries = attr.MaxEntries;

        // index_mask = (1 << fls_long(max_entries - 1)) - 1
        var mask64 = attr.MaxEntries <= 1 ? 0UL : (1UL << (64 - System.Numerics.BitOperations.LeadingZeroCount((ulong)attr.MaxEntries - 1))) - 1;
        var indexMask = (uint)mask64;
        if (!bypassSpecV1)
        {
            maxEntries = (uint)(indexMask + 1UL); // u32 arithmetic in the kernel
            if (maxEntries < attr.MaxEntries)
            {
                return -(int)Errno.E2BIG;
            }
        }

        ulong arraySize = BpfArrayHeaderSize;
        var mmapable = (attr.MapFlags & BpfF.BPF_F_MMAPABLE) != 0;
        if (ptrSlots)
        {
            arraySize += maxEntries * 8;
        }
        else if (mmapable)
        {
            arraySize = K.PageAlign(arraySize) + K.PageAlign(maxEntries * elemSize);
        }
        else
        {
            arraySize += maxEntries * elemSize;
        }

        var area = bpf.Machine.BpfMapArea;
        if (mmapable)
        {
            var data = area.BpfMapAreaMmapableAlloc(arraySize, numaNode, "array_map_alloc");
            if (data == 0)
            {
                return -(int)Errno.ENOMEM;
            }

            // array = data + PAGE_ALIGN(sizeof(struct bpf_array)) - offsetof(struct bpf_array, value)
            layout = new ArrayLayout(data, data + K.PageAlign(BpfArrayHeaderSize), elemSize, indexMask, bypassSpecV1, arraySize);
            return 0;
        }

        var a = area.BpfMapAreaAlloc(arraySize, numaNode, "array_map_alloc");
        if (a == 0)
        {
            return -(int)Errno.ENOMEM;
        }

        layout = new ArrayLayout(a, a + BpfArrayHeaderSize, elemSize, indexMask, bypassSpecV1, arraySize);
        return 0;
    }

    /// <summary>The kernel address of element <paramref name="index"/> (array->value + elem_size * (index &amp; index_mask)).</summary>
    public ulong ElemAddr(uint index) => ValueBase + ((ulong)ElemSize * (index & IndexMask));

    /// <summary>The u32 index a 4-byte key holds.</summary>
    protected static uint KeyIndex(ReadOnlySpan<byte> key) => BinaryPrimitives.ReadUInt32LittleEndian(key);

    /// <summary>array_map_lookup_elem(): index ≥ max_entries → NULL.</summary>
    public override long MapLookupElem(ReadOnlySpan<byte> key)
    {
        var index = KeyIndex(key);
        return index >= MaxEntries ? 0 : (long)ElemAddr(index);
    }

    /// <summary>array_map_update_elem(): EINVAL (flags), E2BIG (index), EEXIST (NOEXIST), then copy value_size bytes.</summary>
    public override int MapUpdateElem(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, ulong flags)
    {
        var index = KeyIndex(key);
        if ((flags & ~BpfF.BPF_F_LOCK) > BpfF.BPF_EXIST)
        {
            return -(int)Errno.EINVAL;
        }

        if (index >= MaxEntries)
        {
            return -(int)Errno.E2BIG; // all elements were pre-allocated, cannot insert a new one
        }

        if ((flags & BpfF.BPF_NOEXIST) != 0)
        {
            return -(int)Errno.EEXIST; // all elements already exist
        }

        if ((flags & BpfF.BPF_F_LOCK) != 0)
        {
            return -(int)Errno.EINVAL; // no bpf_spin_lock in the value
        }

        CopyValueToElem(index, value);
        return 0;
    }

    /// <summary>copy_map_value() into element <paramref name="index"/> (this CPU's copy for per-CPU arrays).</summary>
    protected virtual void CopyValueToElem(uint index, ReadOnlySpan<byte> value) =>
        Machine.KernelMem.Write(ElemAddr(index), value[..(int)ValueSize], "array_map_update_elem");

    /// <summary>array_map_delete_elem(): -EINVAL, elements cannot be deleted.</summary>
    public override int MapDeleteElem(ReadOnlySpan<byte> key) => -(int)Errno.EINVAL;

    /// <summary>array_map_get_next_key().</summary>
    public override int MapGetNextKey(ReadOnlySpan<byte> key, Span<byte> nextKey)
    {
        var index = key.IsEmpty ? uint.MaxValue : KeyIndex(key);
        if (index >= MaxEntries)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(nextKey, 0);
            return 0;
        }

        if (index == MaxEntries - 1)
        {
            return -(int)Errno.ENOENT;
        }

        BinaryPrimitives.WriteUInt32LittleEndian(nextKey, index + 1);
        return 0;
    }

    /// <summary>array_map_mmap(): BPF_F_MMAPABLE, the bounds, then remap_vmalloc_range past the header page(s).</summary>
    public override int MapMmap(VmArea vma)
    {
        ArgumentNullException.ThrowIfNull(vma);
        var pgoff = K.PageAlign(BpfArrayHeaderSize) >> K.PAGE_SHIFT;
        if (!IsMmapable)
        {
            return -(int)Errno.EINVAL;
        }

        var limit = K.PageAlign((ulong)MaxEntries * ElemSize);
        if (vma.VmPgoff > limit >> K.PAGE_SHIFT || (vma.VmPgoff << K.PAGE_SHIFT) + (vma.VmEnd - vma.VmStart) > limit)
        {
            return -(int)Errno.EINVAL;
        }

        return Machine.Vmalloc.RemapVmallocRange(new VmaUserPageInserter(vma), Area, vma.VmPgoff + pgoff);
    }

    /// <summary>array_map_free(): bpf_map_area_free(array) (the page-aligned start for mmapable arrays).</summary>
    public override void MapFree() => Machine.BpfMapArea.BpfMapAreaFree(Area, "array_map_free");

    /// <summary>array_map_mem_usage().</summary>
    public override ulong MapMemUsage()
    {
        ulong entries = MaxEntries;
        ulong usage = BpfArrayHeaderSize;
        if (MapType == BpfMapType.BPF_MAP_TYPE_PERCPU_ARRAY)
        {
            usage += entries * 8;
            usage += entries * ElemSize * (ulong)Machine.PossibleCpus;
        }
        else if (IsMmapable)
        {
            usage = K.PageAlign(usage) + K.PageAlign(entries * ElemSize);
        }
        else
        {
            usage += entries * ElemSize;
        }

        return usage;
    }

    /// <summary>The VMAs (in every live process) that bpf_map_mmap set up for this map and that still exist.</summary>
    public IEnumerable<VmArea> LiveVmas()
    {
        foreach (var t in Machine.Tasks.All)
        {
            if (t.Exited || t.Mm is null)
            {
                continue;
            }

            foreach (var vma in t.Mm.Vmas)
            {
                if (vma.VmFile?.PrivateData == this && vma.VmOps == BpfMapDefaultVmOps.Instance)
                {
                    yield return vma;
                }
            }
        }
    }

    public override void CheckInvariants(List<string> violations)
    {
        ArgumentNullException.ThrowIfNull(violations);
        long mayWrite = 0;
        long live = 0;
        foreach (var vma in LiveVmas())
        {
            live++;
            if ((vma.VmFlags & VmFlags.VM_MAYWRITE) != 0)
            {
                mayWrite++;
            }

            if (Frozen && (vma.VmFlags & VmFlags.VM_WRITE) != 0)
            {
                violations.Add($"{this}: frozen but {vma} is writable");
            }
        }

        if (Writecnt != mayWrite)
        {
            violations.Add($"{this}: writecnt {Writecnt} but {mayWrite} VMAs with VM_MAYWRITE");
        }

        if (VmOpenCalls + MmapCalls - VmCloseCalls != live)
        {
            violations.Add($"{this}: {live} live VMAs but mmaps {MmapCalls} + opens {VmOpenCalls} - closes {VmCloseCalls}");
        }
    }

    /// <summary>
    /// The quick path of <see cref="CheckInvariants"/>: the same counts over the same VMAs (those
    /// <see cref="LiveVmas"/> yields), walking each tree without a snapshot. Keep both in step.
    /// </summary>
    internal override bool InvariantsHold()
    {
        long mayWrite = 0;
        long live = 0;
        foreach (var t in Machine.Tasks.All)
        {
            if (t.Exited || t.Mm is not { } mm)
            {
                continue;
            }

            var w = mm.MmMt.WalkBounded();
            while (w.MoveNext())
            {
                var vma = w.Current;
                if (vma.VmFile?.PrivateData != this || vma.VmOps != BpfMapDefaultVmOps.Instance)
                {
                    continue;
                }

                live++;
                if ((vma.VmFlags & VmFlags.VM_MAYWRITE) != 0)
                {
                    mayWrite++;
                }

                if (Frozen && (vma.VmFlags & VmFlags.VM_WRITE) != 0)
                {
                    return false;
                }
            }

            if (w.Overflowed)
            {
                return false;
            }
        }

        return Writecnt == mayWrite && VmOpenCalls + MmapCalls - VmCloseCalls == live;
    }

    public override IEnumerable<string> ShowDetails()
    {
        yield return $"\telem_size {ElemSize}  index_mask 0x{IndexMask:x}  writecnt {Writecnt}  frozen {(Frozen ? 1 : 0)}";
        if (IsMmapable)
        {
            yield return $"\tvmalloc 0x{Area:x}  value 0x{ValueBase:x}  vm_open {VmOpenCalls}  vm_close {VmCloseCalls}  mmaps {MmapCalls}";
        }
    }
}

/// <summary>BPF_MAP_TYPE_ARRAY's map_alloc (array_map_alloc) creating an <see cref="ArrayMap"/>.</summary>
internal sealed class PlainArrayMap(BpfSubsystem bpf, MapCreateAttr attr, ArrayMap.ArrayLayout layout) : ArrayMap(bpf, attr, layout);

/// <summary>array_map_ops / percpu_array_map_ops and the fd arrays' ops: alloc_check and alloc per type.</summary>
internal sealed class ArrayMapOps(BpfMapType type) : BpfMapOps
{
    public override BpfMapType MapType => type;

    public override bool HasMapAllocCheck => true;

    private bool IsFdArray => type is BpfMapType.BPF_MAP_TYPE_PROG_ARRAY or BpfMapType.BPF_MAP_TYPE_PERF_EVENT_ARRAY
        or BpfMapType.BPF_MAP_TYPE_CGROUP_ARRAY;

    // array_map_alloc_check() or fd_array_map_alloc_check().
    public override int MapAllocCheck(MapCreateAttr attr) =>
        IsFdArray ? FdArrayMap.FdArrayMapAllocCheck(attr) : ArrayMap.ArrayMapAllocCheck(attr);

    // array_map_alloc() (+ bpf_array_alloc_percpu(), prog_array_map_alloc()'s aux).
    public override int MapAlloc(BpfSubsystem bpf, MapCreateAttr attr, out BpfMap? map)
    {
        map = null;
        var percpu = type == BpfMapType.BPF_MAP_TYPE_PERCPU_ARRAY;
        var err = ArrayMap.ArrayMapAlloc(bpf, attr, percpu || IsFdArray, out var layout);
        if (err != 0)
        {
            return err;
        }

        switch (type)
        {
            case BpfMapType.BPF_MAP_TYPE_PERCPU_ARRAY:
                {
                    var m = new PercpuArrayMap(bpf, attr, layout!);
                    err = m.BpfArrayAllocPercpu();
                    if (err != 0)
                    {
                        m.MapFree();
                        return err;
                    }

                    map = m;
                    return 0;
                }

            case BpfMapType.BPF_MAP_TYPE_PROG_ARRAY:
                map = new ProgArrayMap(bpf, attr, layout!);
                return 0;
            case BpfMapType.BPF_MAP_TYPE_PERF_EVENT_ARRAY:
                map = new PerfEventArrayMap(bpf, attr, layout!);
                return 0;
            case BpfMapType.BPF_MAP_TYPE_CGROUP_ARRAY:
                map = new CgroupArrayMap(bpf, attr, layout!);
                return 0;
            default:
                map = new PlainArrayMap(bpf, attr, layout!);
                return 0;
        }
    }
}

/// <summary>The array family's registration (bpf_map_types[] entries of arraymap.c).</summary>
public sealed partial class BpfSubsystem
{
    partial void RegisterArrayMapTypes()
    {
        RegisterMapType(new ArrayMapOps(BpfMapType.BPF_MAP_TYPE_ARRAY));
        RegisterMapType(new ArrayMapOps(BpfMapType.BPF_MAP_TYPE_PERCPU_ARRAY));
        RegisterMapType(new ArrayMapOps(BpfMapType.BPF_MAP_TYPE_PROG_ARRAY));
        RegisterMapType(new ArrayMapOps(BpfMapType.BPF_MAP_TYPE_PERF_EVENT_ARRAY));
        RegisterMapType(new ArrayMapOps(BpfMapType.BPF_MAP_TYPE_CGROUP_ARRAY));
    }
}
