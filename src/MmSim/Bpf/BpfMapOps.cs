namespace MmSim.Bpf;

/// <summary>
/// The per-type part of struct bpf_map_ops that runs before a map exists (map_alloc_check, map_alloc). The
/// per-map callbacks (lookup, update, mmap, free ...) are the virtual members of <see cref="BpfMap"/>. One instance
/// per map type is registered with <see cref="BpfSubsystem.RegisterMapType"/>.
/// </summary>
public abstract class BpfMapOps
{
    /// <summary>The map type these ops implement.</summary>
    public abstract BpfMapType MapType { get; }

    /// <summary>Whether the type has a map_alloc_check (arena has none).</summary>
    public virtual bool HasMapAllocCheck => false;

    /// <summary>ops->map_alloc_check(attr): 0 or -errno.</summary>
    public virtual int MapAllocCheck(MapCreateAttr attr) => 0;

    /// <summary>ops->map_alloc(attr): the new map (refcounts not yet set), or -errno with nothing left allocated.</summary>
    public abstract int MapAlloc(BpfSubsystem bpf, MapCreateAttr attr, out BpfMap? map);

    /// <summary>Whether creating this type needs CAP_BPF (map_create step 11: arena does, the array family does not).</summary>
    public virtual bool NeedsCapBpf => false;
}
