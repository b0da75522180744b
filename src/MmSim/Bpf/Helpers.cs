using MmSim.Kernel;

namespace MmSim.Bpf;

/// <summary>
/// Program-side helpers (kernel/bpf/helpers.c) as a loaded program calls them, in kernel context: no fd, no
/// f_mode, no freeze check. The verifier's refusals show as the errno the load would have failed with.
/// </summary>
public sealed partial class BpfSubsystem
{
    /// <summary>
    /// bpf_map_lookup_elem() then a read of the value (value_size bytes; per-CPU maps: this CPU's copy). -EACCES for a
    /// BPF_F_WRONLY_PROG map ("read from map forbidden"), -EINVAL for fd arrays (no lookup helper for them),
    /// -ENOENT when the helper returns NULL.
    /// </summary>
    public static int ProgMapLookup(BpfProg prog, BpfMap map, ReadOnlySpan<byte> key, Span<byte> value)
    {
        ArgumentNullException.ThrowIfNull(prog);
        ArgumentNullException.ThrowIfNull(map);
        if (!prog.UsedMaps.Contains(map))
        {
            return -(int)Errno.EINVAL;
        }

        if (map is FdArrayMap)
        {
            return -(int)Errno.EINVAL; // check_map_func_compatibility()
        }

        if ((map.MapFlags & BpfF.BPF_F_WRONLY_PROG) != 0)
        {
            return -(int)Errno.EACCES; // check_map_access_type(): read from map forbidden
        }

        if (key.Length < map.KeySize || value.Length < map.ValueSize)
        {
            return -(int)Errno.EFAULT;
        }

        var ptr = map.MapLookupElem(key);
        if (ErrnoExtensions.IsErr(ptr))
        {
            return (int)ptr;
        }

        if (ptr == 0)
        {
            return -(int)Errno.ENOENT;
        }

        map.Machine.KernelMem.Read((ulong)ptr, value[..(int)map.ValueSize], "bpf_map_lookup_elem");
        return 0;
    }

    /// <summary>
    /// bpf_map_update_elem() from a program: -EACCES for a BPF_F_RDONLY_PROG map (record_func_map: write into map
    /// forbidden), -EINVAL for fd arrays; then the map's update (frozen maps stay writable for programs).
    /// </summary>
    public static int ProgMapUpdate(BpfProg prog, BpfMap map, ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, ulong flags)
    {
        ArgumentNullException.ThrowIfNull(prog);
        ArgumentNullException.ThrowIfNull(map);
        if (!prog.UsedMaps.Contains(map))
        {
            return -(int)Errno.EINVAL;
        }

        if (map is FdArrayMap)
        {
            return -(int)Errno.EINVAL;
        }

        if ((map.MapFlags & BpfF.BPF_F_RDONLY_PROG) != 0)
        {
            return -(int)Errno.EACCES;
        }

        if (key.Length < map.KeySize || value.Length < map.ValueSize)
        {
            return -(int)Errno.EFAULT;
        }

        return map.MapUpdateElem(key, value, flags);
    }

    /// <summary>
    /// Runs <paramref name="prog"/> as a program whose first instruction is bpf_tail_call(ctx, map, index), where every
    /// program reached does the same: the number of tail calls that jumped (at most MAX_TAIL_CALL_CNT).
    /// </summary>
    public static int RunTailCallChain(BpfProg prog, BpfMap map, uint index)
    {
        ArgumentNullException.ThrowIfNull(prog);
        ArgumentNullException.ThrowIfNull(map);
        var cnt = 0;
        var jumps = 0;
        while (BpfTailCall(map, index, ref cnt) is not null)
        {
            jumps++;
        }

        return jumps;
    }
}
