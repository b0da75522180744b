using MmSim.Kernel;

namespace MmSim.Bpf;

/// <summary>
/// The BPF layer of a machine (kernel/bpf/syscall.c state): the map type table, the live maps and programs, and
/// the ids. The syscalls are in the other parts of this partial class, one file per concern.
/// </summary>
public sealed partial class BpfSubsystem
{
    private readonly BpfMapOps?[] _mapTypes = new BpfMapOps?[(int)BpfMapType.__MAX_BPF_MAP_TYPE];

    internal BpfSubsystem(Machine machine)
    {
        Machine = machine;
        RegisterArrayMapTypes();
        RegisterArenaMapType();
        machine.Invariants.Register("bpf", CheckInvariants, InvariantsHold);
    }

    public Machine Machine { get; }

    /// <summary>Maps that are allocated and not yet freed, by id (map_idr).</summary>
    public SortedDictionary<uint, BpfMap> Maps { get; } = [];

    /// <summary>The last map id handed out (map_idr is cyclic from 1).</summary>
    internal uint LastMapId { get; set; }

    /// <summary>bpf_map_types[]: add (or replace) the ops of a map type.</summary>
    public void RegisterMapType(BpfMapOps ops)
    {
        ArgumentNullException.ThrowIfNull(ops);
        _mapTypes[(int)ops.MapType] = ops;
    }

    /// <summary>find_and_alloc_map()'s table lookup: null when the type is unknown (-EINVAL).</summary>
    public BpfMapOps? MapOpsOf(BpfMapType type) =>
        (uint)type < (uint)_mapTypes.Length ? _mapTypes[(int)type] : null;

    // The map types built into the simulator, each registered by its own file: the array family (arraymap.c,
    // ArrayMap*.cs) and the arena (arena.c, Arena*.cs).
    partial void RegisterArrayMapTypes();

    partial void RegisterArenaMapType();

    /// <summary>The <c>bpf</c> invariant: map references, each map's own checks, programs' maps (quick path: BpfInvariants.Quick.cs; keep both in step).</summary>
    private void CheckInvariants(List<string> violations)
    {
        foreach (var map in Maps.Values)
        {
            if (map.Refcnt == 0)
            {
                continue; // waiting for its grace period
            }

            if (map.Refcnt != map.OpenFiles + map.ProgRefs)
            {
                violations.Add($"{map}: refcnt {map.Refcnt} but {map.OpenFiles} files and {map.ProgRefs} programs");
            }

            if (map.Usercnt != map.OpenFiles)
            {
                violations.Add($"{map}: usercnt {map.Usercnt} but {map.OpenFiles} files");
            }

            map.CheckInvariants(violations);
        }

        foreach (var prog in Progs.Values)
        {
            foreach (var m in prog.UsedMaps)
            {
                if (m.Freed)
                {
                    violations.Add($"{prog} uses freed {m}");
                }
            }
        }
    }
}
