using MmSim.Kernel;
using MmSim.Vm;

namespace MmSim.Bpf;

/// <summary>
/// kernel/bpf/syscall.c: BPF_MAP_LOOKUP_ELEM, BPF_MAP_UPDATE_ELEM, BPF_MAP_DELETE_ELEM, BPF_MAP_GET_NEXT_KEY. Keys and
/// values are the bytes the kernel would copy from (or to) the attr's user pointers; a buffer shorter than the map's
/// key or value size stands for a user pointer whose copy faults (-EFAULT).
/// </summary>
public sealed partial class BpfSubsystem
{
    // __bpf_copy_key(ukey, key_size): key_size 0 needs a NULL key (-EINVAL); a short buffer faults (-EFAULT).
    private static int BpfCopyKey(ReadOnlySpan<byte> ukey, bool ukeyNull, uint keySize)
    {
        if (keySize != 0)
        {
            return ukeyNull || ukey.Length < keySize ? -(int)Errno.EFAULT : 0;
        }

        return ukeyNull ? 0 : -(int)Errno.EINVAL;
    }

    private long Trace(TaskStruct task, string cmd, long ret)
    {
        Tracepoints.sys_bpf(Machine.Log.Bpf, task.Pid, cmd, ret);
        SyscallCount++;
        return ret;
    }

    // fdget(ufd) + __bpf_map_get(f): the file with a reference (the caller fputs it), or -errno.
    private int MapFdGet(TaskStruct task, int fd, out VfsFile? file, out BpfMap? map)
    {
        map = null;
        file = task.Files?.Fget(fd);
        var err = BpfMapGetFromFile(file, out map);
        if (err != 0 && file is not null)
        {
            Machine.Vm.Fput(file);
            file = null;
        }

        return err;
    }

    /// <summary>map_lookup_elem(attr): copy the value of <paramref name="key"/> into <paramref name="value"/>. 0 or -errno.</summary>
    public long MapLookupElem(TaskStruct task, int fd, ReadOnlySpan<byte> key, Span<byte> value, ulong flags = 0)
    {
        ArgumentNullException.ThrowIfNull(task);
        return Trace(task, "BPF_MAP_LOOKUP_ELEM", DoMapLookupElem(task, fd, key, value, flags));
    }

    private int DoMapLookupElem(TaskStruct task, int fd, ReadOnlySpan<byte> key, Span<byte> value, ulong flags)
    {
        if ((flags & ~BpfF.BPF_F_LOCK) != 0)
        {
            return -(int)Errno.EINVAL;
        }

        var err = MapFdGet(task, fd, out var file, out var map);
        if (err != 0)
        {
            return err;
        }

        try
        {
            if ((MapGetSysPerms(map!, file!) & FMode.FMODE_CAN_READ) == 0)
            {
                return -(int)Errno.EPERM;
            }

            if ((flags & BpfF.BPF_F_LOCK) != 0)
            {
                return -(int)Errno.EINVAL; // no BTF record, so no bpf_spin_lock
            }

            err = BpfCopyKey(key, false, map!.KeySize);
            if (err != 0)
            {
                return err;
            }

            var size = (int)map.SysValueSize;
            Span<byte> buf = size <= 256 ? stackalloc byte[size] : new byte[size];
            buf.Clear();
            err = map.MapCopyValue(key, buf, flags);
            if (err != 0)
            {
                return err;
            }

            if (value.Length < size)
            {
                return -(int)Errno.EFAULT; // copy_to_user(uvalue, value, value_size)
            }

            buf.CopyTo(value);
            return 0;
        }
        finally
        {
            Machine.Vm.Fput(file!);
        }
    }

    /// <summary>map_update_elem(attr): BPF_ANY / BPF_NOEXIST / BPF_EXIST. 0 or -errno.</summary>
    public long MapUpdateElem(TaskStruct task, int fd, ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, ulong flags = 0)
    {
        ArgumentNullException.ThrowIfNull(task);
        return Trace(task, "BPF_MAP_UPDATE_ELEM", DoMapUpdateElem(task, fd, key, value, flags));
    }

    private int DoMapUpdateElem(TaskStruct task, int fd, ReadOnlySpan<byte> key, ReadOnlySpan<byte> value, ulong flags)
    {
        var err = MapFdGet(task, fd, out var file, out var map);
        if (err != 0)
        {
            return err;
        }

        map!.Writecnt++; // bpf_map_write_active_inc()
        try
        {
            if ((MapGetSysPerms(map, file!) & FMode.FMODE_CAN_WRITE) == 0)
            {
                return -(int)Errno.EPERM;
            }

            if ((flags & BpfF.BPF_F_LOCK) != 0)
            {
                return -(int)Errno.EINVAL;
            }

            err = BpfCopyKey(key, false, map.KeySize);
            if (err != 0)
            {
                return err;
            }

            if (value.Length < map.SysValueSize)
            {
                return -(int)Errno.EFAULT; // kvmemdup_bpfptr(uvalue, value_size)
            }

            Current = task;
            return map.MapUpdateValue(file!, key, value[..(int)map.SysValueSize], flags);
        }
        finally
        {
            Current = null;
            map.Writecnt--; // bpf_map_write_active_dec()
            Machine.Vm.Fput(file!);
        }
    }

    /// <summary>map_delete_elem(attr). 0 or -errno.</summary>
    public long MapDeleteElem(TaskStruct task, int fd, ReadOnlySpan<byte> key)
    {
        ArgumentNullException.ThrowIfNull(task);
        return Trace(task, "BPF_MAP_DELETE_ELEM", DoMapDeleteElem(task, fd, key));
    }

    private int DoMapDeleteElem(TaskStruct task, int fd, ReadOnlySpan<byte> key)
    {
        var err = MapFdGet(task, fd, out var file, out var map);
        if (err != 0)
        {
            return err;
        }

        map!.Writecnt++;
        try
        {
            if ((MapGetSysPerms(map, file!) & FMode.FMODE_CAN_WRITE) == 0)
            {
                return -(int)Errno.EPERM;
            }

            err = BpfCopyKey(key, false, map.KeySize);
            return err != 0 ? err : map.MapDeleteElem(key);
        }
        finally
        {
            map.Writecnt--;
            Machine.Vm.Fput(file!);
        }
    }

    /// <summary>
    /// map_get_next_key(attr): <paramref name="keyIsNull"/> passes a NULL key (the first key). 0 with
    /// <paramref name="nextKey"/> filled, or -errno.
    /// </summary>
    public long MapGetNextKey(TaskStruct task, int fd, ReadOnlySpan<byte> key, bool keyIsNull, Span<byte> nextKey)
    {
        ArgumentNullException.ThrowIfNull(task);
        return Trace(task, "BPF_MAP_GET_NEXT_KEY", DoMapGetNextKey(task, fd, key, keyIsNull, nextKey));
    }

    private int DoMapGetNextKey(TaskStruct task, int fd, ReadOnlySpan<byte> key, bool keyIsNull, Span<byte> nextKey)
    {
        var err = MapFdGet(task, fd, out var file, out var map);
        if (err != 0)
        {
            return err;
        }

        try
        {
            if ((MapGetSysPerms(map!, file!) & FMode.FMODE_CAN_READ) == 0)
            {
                return -(int)Errno.EPERM;
            }

            if (!keyIsNull)
            {
                err = BpfCopyKey(key, false, map!.KeySize);
                if (err != 0)
                {
                    return err;
                }
            }

            var next = new byte[map!.KeySize];
            err = map.MapGetNextKey(keyIsNull ? default : key, next);
            if (err != 0)
            {
                return err;
            }

            if (nextKey.Length < next.Length)
            {
                return -(int)Errno.EFAULT;
            }

            next.CopyTo(nextKey);
            return 0;
        }
        finally
        {
            Machine.Vm.Fput(file!);
        }
    }
}
