using MmSim.Kernel;
using MmSim.Vm;

namespace MmSim.Bpf;

/// <summary>
/// struct bpf_map (include/linux/bpf.h): the state the syscall layer keeps for every map, and the per-map
/// callbacks of struct bpf_map_ops as virtual members. A member that is not overridden is the kernel's NULL op
/// (see the Has* properties). Subclasses: the array family (kernel/bpf/arraymap.c) and the arena
/// (kernel/bpf/arena.c).
/// </summary>
public abstract class BpfMap
{
    /// <summary>bpf_map_init_from_attr().</summary>
    protected BpfMap(BpfSubsystem bpf, MapCreateAttr attr)
    {
        ArgumentNullException.ThrowIfNull(bpf);
        ArgumentNullException.ThrowIfNull(attr);
        Bpf = bpf;
        MapType = attr.MapType;
        KeySize = attr.KeySize;
        ValueSize = attr.ValueSize;
        MaxEntries = attr.MaxEntries;
        MapFlags = attr.MapFlags & ~(BpfF.BPF_F_RDONLY | BpfF.BPF_F_WRONLY); // bpf_map_flags_retain_permanent()
        NumaNode = (attr.MapFlags & BpfF.BPF_F_NUMA_NODE) != 0 ? (int)attr.NumaNode : BpfF.NUMA_NO_NODE;
        MapExtra = attr.MapExtra;
    }

    public BpfSubsystem Bpf { get; }

    public Machine Machine => Bpf.Machine;

    /// <summary>map->id (idr; 1, 2, ... in creation order).</summary>
    public uint Id { get; internal set; }

    public BpfMapType MapType { get; }

    public uint KeySize { get; }

    public uint ValueSize { get; }

    public uint MaxEntries { get; }

    /// <summary>map_flags as stored: the creation flags minus BPF_F_RDONLY/BPF_F_WRONLY (those belong to the fd).</summary>
    public uint MapFlags { get; }

    public int NumaNode { get; }

    public ulong MapExtra { get; }

    /// <summary>map->name.</summary>
    public string Name { get; internal set; } = "";

    /// <summary>map->refcnt: fds (through their file), VMAs (through the file they hold), programs.</summary>
    public long Refcnt { get; internal set; }

    /// <summary>map->usercnt: fds and pins; at zero map_release_uref runs.</summary>
    public long Usercnt { get; internal set; }

    /// <summary>map->writecnt: write-active users (writable mappings, and an update in progress).</summary>
    public long Writecnt { get; set; }

    /// <summary>map->frozen.</summary>
    public bool Frozen { get; internal set; }

    /// <summary>True once map_free ran (after the RCU grace period that followed the last reference).</summary>
    public bool Freed { get; internal set; }

    /// <summary>Calls of the vm_ops ->open callback on VMAs of this map's file (the <c>stat vm_open</c> counter).</summary>
    public long VmOpenCalls { get; set; }

    /// <summary>Calls of the vm_ops ->close callback on VMAs of this map's file (the <c>stat vm_close</c> counter).</summary>
    public long VmCloseCalls { get; set; }

    /// <summary>Successful ->mmap calls for this map (so closes = opens + mmaps once everything is unmapped).</summary>
    public long MmapCalls { get; set; }

    /// <summary>Map files (fds' struct file) not yet released; each holds one refcnt and one usercnt.</summary>
    public long OpenFiles { get; internal set; }

    /// <summary>Programs that hold this map in their used_maps (each holds one refcnt).</summary>
    public long ProgRefs { get; internal set; }

    /// <summary>
    /// bpf_map_value_size(map): the size of a value as the syscalls copy it (per-CPU maps: round_up(value_size, 8)
    /// for every possible CPU; fd arrays: a u32).
    /// </summary>
    public virtual uint SysValueSize => ValueSize;

    /// <summary>
    /// The verifier's used-map registration (__add_used_map) for <paramref name="prog"/>, which already holds the
    /// maps registered before this one: 0 to accept, or -errno to fail the load. The arena overrides it (one arena per
    /// program → -EBUSY; user address not set → -EINVAL).
    /// </summary>
    public virtual int CheckProgLoad(BpfProg prog) => 0;

    /// <summary>
    /// bpf_map_copy_value(map, key, value, flags) for BPF_MAP_LOOKUP_ELEM: fill <paramref name="value"/>
    /// (<see cref="SysValueSize"/> bytes). The default copies from <see cref="MapLookupElem"/>'s address (NULL → -ENOENT).
    /// </summary>
    public virtual int MapCopyValue(ReadOnlySpan<byte> key, Span<byte> value, ulong flags)
    {
        var ptr = MapLookupElem(key);
        if (ErrnoExtensions.IsErr(ptr))
        {
            return (int)ptr;
        }

        if (ptr == 0)
        {
            return -(int)Errno.ENOENT;
        }

        Machine.KernelMem.Read((ulong)ptr, value[..(int)ValueSize], "bpf_map_copy_value");
        return 0;
    }

    /// <summary>bpf_map_update_value(map, map_file, key, value, flags): the default calls <see cref="MapUpdateElem"/>.</summary>
    public virtual int MapUpdateValue(VfsFile mapFile, ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, ulong flags) =>
        MapUpdateElem(key, value, flags);

    // ----- struct bpf_map_ops, per map -----

    /// <summary>ops->map_lookup_elem: the kernel address of the value, 0 (NULL → -ENOENT), or -errno (ERR_PTR).</summary>
    public virtual long MapLookupElem(ReadOnlySpan<byte> key) => -(int)Errno.EOPNOTSUPP;

    /// <summary>ops->map_update_elem(key, value, flags): 0 or -errno.</summary>
    public virtual int MapUpdateElem(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, ulong flags) => -(int)Errno.EOPNOTSUPP;

    /// <summary>ops->map_delete_elem(key): 0 or -errno.</summary>
    public virtual int MapDeleteElem(ReadOnlySpan<byte> key) => -(int)Errno.EOPNOTSUPP;

    /// <summary>ops->map_get_next_key(key, next_key): an empty <paramref name="key"/> is NULL. 0 or -errno.</summary>
    public virtual int MapGetNextKey(ReadOnlySpan<byte> key, Span<byte> nextKey) => -(int)Errno.EOPNOTSUPP;

    /// <summary>Whether ops->map_mmap exists (bpf_map_mmap returns -ENOTSUPP when it does not).</summary>
    public virtual bool HasMapMmap => false;

    /// <summary>ops->map_mmap(map, vma), called by bpf_map_mmap after the generic checks: 0 or -errno.</summary>
    public virtual int MapMmap(VmArea vma) => -(int)Errno.ENOTSUPP;

    /// <summary>Whether ops->map_get_unmapped_area exists (bpf_get_unmapped_area falls back to the mm's allocator).</summary>
    public virtual bool HasMapGetUnmappedArea => false;

    /// <summary>ops->map_get_unmapped_area(filp, addr, len, pgoff, flags): an address or -errno.</summary>
    public virtual long MapGetUnmappedArea(MmStruct mm, VfsFile file, ulong addr, ulong len, ulong pgoff, ulong flags) =>
        mm.MmGetUnmappedArea(file, addr, len, pgoff, flags);

    /// <summary>ops->map_release(map, file): a map fd's file is being released (perf_event_array drops its entries).</summary>
    public virtual void MapRelease(VfsFile file)
    {
    }

    /// <summary>ops->map_release_uref(map): usercnt reached zero (prog_array clears its slots).</summary>
    public virtual void MapReleaseUref()
    {
    }

    /// <summary>ops->map_free(map): free everything the map allocated (the last reference went, a grace period passed).</summary>
    public abstract void MapFree();

    /// <summary>ops->map_mem_usage(map): bytes, as fdinfo's memlock shows.</summary>
    public abstract ulong MapMemUsage();

    /// <summary>The map's own consistency checks, run by the <c>bpf</c> invariant for every live map.</summary>
    public virtual void CheckInvariants(List<string> violations)
    {
    }

    /// <summary>
    /// The quick path of <see cref="CheckInvariants"/>: true only when it would report nothing. By default it runs
    /// the check; a map type with cheaper means overrides both together.
    /// </summary>
    internal virtual bool InvariantsHold()
    {
        var violations = new List<string>();
        CheckInvariants(violations);
        return violations.Count == 0;
    }

    /// <summary>Extra lines for <c>show map M</c> (after the bpftool-like header).</summary>
    public virtual IEnumerable<string> ShowDetails() => [];

    public override string ToString() => $"map {Id} ({MapType})";
}
