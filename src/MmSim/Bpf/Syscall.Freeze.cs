using MmSim.Kernel;
using MmSim.Vm;

namespace MmSim.Bpf;

/// <summary>kernel/bpf/syscall.c: BPF_MAP_FREEZE.</summary>
public sealed partial class BpfSubsystem
{
    /// <summary>
    /// map_freeze(attr): make the map read-only for the syscall side. 0, or -EBADF/-EINVAL (fd), -EPERM (fd without
    /// FMODE_CAN_WRITE, which includes an already frozen map), -EBUSY (write-active: a writable mapping exists).
    /// </summary>
    public long MapFreeze(TaskStruct task, int fd, bool attrTailNonZero = false)
    {
        ArgumentNullException.ThrowIfNull(task);
        return Trace(task, "BPF_MAP_FREEZE", DoMapFreeze(task, fd, attrTailNonZero));
    }

    private int DoMapFreeze(TaskStruct task, int fd, bool attrTailNonZero)
    {
        if (attrTailNonZero)
        {
            return -(int)Errno.EINVAL; // CHECK_ATTR(BPF_MAP_FREEZE)
        }

        var err = MapFdGet(task, fd, out var file, out var map);
        if (err != 0)
        {
            return err;
        }

        try
        {
            // STRUCT_OPS maps and maps with a BTF record (spin_lock, timer, kptr ...) are not modelled: never -ENOTSUPP.
            if ((MapGetSysPerms(map!, file!) & FMode.FMODE_CAN_WRITE) == 0)
            {
                return -(int)Errno.EPERM;
            }

            // mutex_lock(&map->freeze_mutex)
            if (map!.Writecnt != 0)
            {
                return -(int)Errno.EBUSY; // bpf_map_write_active()
            }

            if (map.Frozen)
            {
                return -(int)Errno.EBUSY;
            }

            map.Frozen = true;
            return 0;
        }
        finally
        {
            Machine.Vm.Fput(file!);
        }
    }
}
