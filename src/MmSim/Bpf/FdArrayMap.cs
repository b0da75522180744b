using System.Buffers.Binary;
using MmSim.Kernel;
using MmSim.Vm;

namespace MmSim.Bpf;

/// <summary>
/// The fd arrays of kernel/bpf/arraymap.c (prog, perf_event, cgroup): the value written through the syscall is a
/// file descriptor, turned into a kernel object by map_fd_get_ptr; the slot (array->ptrs[i]) holds a reference on it
/// that map_fd_put_ptr drops. The slot memory is part of the bpf_array allocation; the objects are kept beside it.
/// </summary>
public abstract class FdArrayMap : ArrayMap
{
    private readonly object?[] _ptrs;

    protected FdArrayMap(BpfSubsystem bpf, MapCreateAttr attr, ArrayLayout layout)
        : base(bpf, attr, layout) => _ptrs = new object?[attr.MaxEntries];

    /// <summary>array->ptrs.</summary>
    public IReadOnlyList<object?> Ptrs => _ptrs;

    /// <summary>bpf_map_value_size(): a u32 (fd in, id out).</summary>
    public override uint SysValueSize => 4;

    public override bool HasMapMmap => false;

    /// <summary>fd_array_map_alloc_check(): value_size 4, no RDONLY_PROG/WRONLY_PROG, then array_map_alloc_check.</summary>
    public static int FdArrayMapAllocCheck(MapCreateAttr attr)
    {
        ArgumentNullException.ThrowIfNull(attr);
        if (attr.ValueSize != 4)
        {
            return -(int)Errno.EINVAL;
        }

        if ((attr.MapFlags & (BpfF.BPF_F_RDONLY_PROG | BpfF.BPF_F_WRONLY_PROG)) != 0)
        {
            return -(int)Errno.EINVAL;
        }

        return ArrayMapAllocCheck(attr);
    }

    /// <summary>ops->map_fd_get_ptr(map, map_file, fd): the object with a reference taken, or -errno.</summary>
    protected abstract int MapFdGetPtr(VfsFile mapFile, int fd, out object? ptr);

    /// <summary>ops->map_fd_put_ptr(map, ptr, need_defer).</summary>
    protected abstract void MapFdPutPtr(object ptr);

    /// <summary>ops->map_fd_sys_lookup_elem(ptr): what a syscall lookup returns; null when the op is missing (-ENOTSUPP).</summary>
    protected virtual uint? MapFdSysLookupElem(object ptr) => null;

    /// <summary>The object in slot <paramref name="index"/> (the bpf_tail_call / helper view).</summary>
    public object? Slot(uint index) => index < MaxEntries ? _ptrs[index] : null;

    /// <summary>Fd arrays are not readable by programs through map_lookup_elem (the verifier refuses): NULL.</summary>
    public override long MapLookupElem(ReadOnlySpan<byte> key) => 0;

    /// <summary>bpf_fd_array_map_lookup_elem().</summary>
    public override int MapCopyValue(ReadOnlySpan<byte> key, Span<byte> value, ulong flags)
    {
        if (!HasSysLookup)
        {
            return -(int)Errno.ENOTSUPP; // no ops->map_fd_sys_lookup_elem
        }

        var index = KeyIndex(key);
        var ptr = index < MaxEntries ? _ptrs[index] : null;
        if (ptr is null)
        {
            return -(int)Errno.ENOENT;
        }

        BinaryPrimitives.WriteUInt32LittleEndian(value, MapFdSysLookupElem(ptr) ?? 0);
        return 0;
    }

    /// <summary>Whether the type has map_fd_sys_lookup_elem (prog array: yes; perf event and cgroup arrays: no).</summary>
    protected virtual bool HasSysLookup => false;

    /// <summary>bpf_fd_array_map_update_elem(map, map_file, key, value, flags).</summary>
    public override int MapUpdateValue(VfsFile mapFile, ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, ulong flags)
    {
        var index = KeyIndex(key);
        if (flags != BpfF.BPF_ANY)
        {
            return -(int)Errno.EINVAL;
        }

        if (index >= MaxEntries)
        {
            return -(int)Errno.E2BIG;
        }

        var ufd = (int)BinaryPrimitives.ReadUInt32LittleEndian(value);
        var err = MapFdGetPtr(mapFile, ufd, out var newPtr);
        if (err != 0)
        {
            return err;
        }

        var old = _ptrs[index];
        _ptrs[index] = newPtr;
        if (old is not null)
        {
            MapFdPutPtr(old);
        }

        return 0;
    }

    /// <summary>Fd arrays take fds only through the syscall (program-side updates are refused by the verifier).</summary>
    public override int MapUpdateElem(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, ulong flags) => -(int)Errno.EINVAL;

    /// <summary>fd_array_map_delete_elem() → __fd_array_map_delete_elem(map, key, true).</summary>
    public override int MapDeleteElem(ReadOnlySpan<byte> key) => FdArrayMapDeleteElem(KeyIndex(key));

    /// <summary>__fd_array_map_delete_elem(): E2BIG past the end, ENOENT for an empty slot.</summary>
    protected int FdArrayMapDeleteElem(uint index)
    {
        if (index >= MaxEntries)
        {
            return -(int)Errno.E2BIG;
        }

        var old = _ptrs[index];
        _ptrs[index] = null;
        if (old is null)
        {
            return -(int)Errno.ENOENT;
        }

        MapFdPutPtr(old);
        return 0;
    }

    /// <summary>bpf_fd_array_map_clear(map, need_defer): empty every slot.</summary>
    protected void BpfFdArrayMapClear()
    {
        for (uint i = 0; i < MaxEntries; i++)
        {
            if (_ptrs[i] is not null)
            {
                FdArrayMapDeleteElem(i);
            }
        }
    }

    /// <summary>fd_array_map_free(): every slot must be empty (BUG_ON), then the array.</summary>
    public override void MapFree()
    {
        if (Array.Exists(_ptrs, p => p is not null))
        {
            throw new KernelBugException($"fd_array_map_free: {this} still has entries");
        }

        base.MapFree();
    }

    public override void CheckInvariants(List<string> violations)
    {
    }

    internal override bool InvariantsHold() => true;

    public override IEnumerable<string> ShowDetails()
    {
        var used = _ptrs.Count(p => p is not null);
        yield return $"\tentries used {used}/{MaxEntries}";
    }
}
