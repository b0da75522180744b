namespace MmSim.Bpf;

/// <summary>
/// struct bpf_prog, reduced to what the simulator needs: a loaded program that holds a reference on each map it
/// uses (used_maps) and runs helpers and kfuncs in kernel context. There is no bytecode: scenario program
/// statements and the property checker call the helpers directly, as the program would.
/// </summary>
public sealed class BpfProg
{
    private readonly List<BpfMap> _usedMaps = [];
    private readonly Dictionary<ulong, BpfMap> _mapsByFd = [];

    internal BpfProg(BpfSubsystem bpf, uint id)
    {
        Bpf = bpf;
        Id = id;
    }

    public BpfSubsystem Bpf { get; }

    /// <summary>prog->aux->id.</summary>
    public uint Id { get; }

    /// <summary>prog->aux->refcnt: the fd's file, prog_array slots.</summary>
    public long Refcnt { get; internal set; }

    /// <summary>prog->aux->used_maps, in load order.</summary>
    public IReadOnlyList<BpfMap> UsedMaps => _usedMaps;

    /// <summary>The map that was passed to prog_load as fd <paramref name="fd"/> (the loading process's number), or null.</summary>
    public BpfMap? MapByFd(ulong fd) => _mapsByFd.GetValueOrDefault(fd);

    /// <summary>The arena this program uses, or null (the verifier allows one per program).</summary>
    public BpfMap? Arena => _usedMaps.FirstOrDefault(m => m.MapType == BpfMapType.BPF_MAP_TYPE_ARENA);

    internal void AddUsedMap(ulong fd, BpfMap map)
    {
        if (!_usedMaps.Contains(map))
        {
            _usedMaps.Add(map);
        }

        _mapsByFd[fd] = map;
    }

    internal void ClearUsedMaps()
    {
        _usedMaps.Clear();
        _mapsByFd.Clear();
    }

    public override string ToString() => $"prog {Id}";
}
