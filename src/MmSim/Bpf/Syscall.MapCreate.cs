using MmSim.Kernel;
using MmSim.Vm;

namespace MmSim.Bpf;

/// <summary>kernel/bpf/syscall.c: BPF_MAP_CREATE, map fds and the map's lifetime (refcnt, usercnt, free).</summary>
public sealed partial class BpfSubsystem
{
    /// <summary>The ids handed out (map_idr), so that a freed id is not reused while the map is alive.</summary>
    private readonly SortedSet<uint> _mapIds = [];

    /// <summary>
    /// sysctl kernel.unprivileged_bpf_disabled. CONFIG_BPF_UNPRIV_DEFAULT_OFF=y (the default since v5.13) boots
    /// with 2: map creation needs CAP_BPF. Tasks have every capability unless a test removes some.
    /// </summary>
    public int SysctlUnprivilegedBpfDisabled { get; set; } = 2;

    /// <summary>nr_node_ids: the machine has one NUMA node, node 0.</summary>
    public static int NrNodeIds => 1;

    /// <summary>The task of the syscall in progress ("current"), for the map types that look at its capabilities.</summary>
    public TaskStruct? Current { get; private set; }

    /// <summary>The file operations of every map fd (bpf_map_fops).</summary>
    public BpfMapFileOps MapFops { get; } = new();

    /// <summary>Calls of bpf(2) made so far (the sys_bpf tracepoint counts them too).</summary>
    public long SyscallCount { get; private set; }

    // bpf_get_file_flag(): O_RDONLY, O_WRONLY, O_RDWR or -EINVAL.
    private static int BpfGetFileFlag(uint flags)
    {
        if ((flags & BpfF.BPF_F_RDONLY) != 0 && (flags & BpfF.BPF_F_WRONLY) != 0)
        {
            return -(int)Errno.EINVAL;
        }

        if ((flags & BpfF.BPF_F_RDONLY) != 0)
        {
            return OpenFlags.O_RDONLY;
        }

        if ((flags & BpfF.BPF_F_WRONLY) != 0)
        {
            return OpenFlags.O_WRONLY;
        }

        return OpenFlags.O_RDWR;
    }

    // bpf_obj_name_cpy(): alnum, '_' or '.', at most BPF_OBJ_NAME_LEN - 1 characters.
    private static int BpfObjNameCpy(string name)
    {
        if (name.Length >= BpfF.BPF_OBJ_NAME_LEN)
        {
            return -(int)Errno.EINVAL;
        }

        foreach (var c in name)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c == '_' || c == '.'))
            {
                return -(int)Errno.EINVAL;
            }
        }

        return name.Length;
    }

    /// <summary>
    /// map_create(attr): BPF_MAP_CREATE on behalf of <paramref name="task"/>. The new fd, or -errno with the checks in
    /// 6.12's order (attr tail, map_extra, access flags, NUMA node, type, map_alloc_check, privileges, map_alloc,
    /// name, fd). A failure leaves nothing allocated.
    /// </summary>
    public long MapCreate(TaskStruct task, MapCreateAttr attr)
    {
        ArgumentNullException.ThrowIfNull(task);
        ArgumentNullException.ThrowIfNull(attr);
        var ret = DoMapCreate(task, attr);
        Tracepoints.sys_bpf(Machine.Log.Bpf, task.Pid, "BPF_MAP_CREATE", ret);
        SyscallCount++;
        return ret;
    }

    private long DoMapCreate(TaskStruct task, MapCreateAttr attr)
    {
        if (attr.TailNonZero)
        {
            return Errno.EINVAL.Neg(); // CHECK_ATTR(BPF_MAP_CREATE)
        }

        // BPF_F_TOKEN_FD is remembered and cleared; tokens are not modelled (no bpffs), so a token fd is -EBADF later.
        var tokenFlag = (attr.MapFlags & BpfF.BPF_F_TOKEN_FD) != 0;
        attr = attr with { MapFlags = attr.MapFlags & ~BpfF.BPF_F_TOKEN_FD };

        if (attr.MapType != BpfMapType.BPF_MAP_TYPE_ARENA && attr.MapExtra != 0)
        {
            return Errno.EINVAL.Neg(); // only bloom filter and arena take map_extra
        }

        var fFlags = BpfGetFileFlag(attr.MapFlags);
        if (fFlags < 0)
        {
            return fFlags;
        }

        var numaNode = (attr.MapFlags & BpfF.BPF_F_NUMA_NODE) != 0 ? (int)attr.NumaNode : BpfF.NUMA_NO_NODE;
        if (numaNode != BpfF.NUMA_NO_NODE && (uint)numaNode >= (uint)NrNodeIds)
        {
            return Errno.EINVAL.Neg();
        }

        var ops = MapOpsOf(attr.MapType);
        if (ops is null)
        {
            return Errno.EINVAL.Neg();
        }

        if (ops.HasMapAllocCheck)
        {
            var err = ops.MapAllocCheck(attr);
            if (err != 0)
            {
                return err;
            }
        }

        if (tokenFlag)
        {
            return Errno.EBADF.Neg(); // bpf_token_get_from_fd(attr->map_token_fd): MmSim has no tokens
        }

        if (SysctlUnprivilegedBpfDisabled != 0 && !task.Capable(Capability.CAP_BPF))
        {
            return Errno.EPERM.Neg();
        }

        if (ops.NeedsCapBpf && !task.Capable(Capability.CAP_BPF))
        {
            return Errno.EPERM.Neg();
        }

        Current = task;
        int allocErr;
        BpfMap? map;
        try
        {
            allocErr = ops.MapAlloc(this, attr, out map);
        }
        finally
        {
            Current = null;
        }

        if (allocErr != 0 || map is null)
        {
            return allocErr != 0 ? allocErr : Errno.ENOMEM.Neg();
        }

        var nameErr = BpfObjNameCpy(attr.MapName);
        if (nameErr < 0)
        {
            map.MapFree(); // free_map: ops->map_free
            return nameErr;
        }

        map.Name = attr.MapName;
        map.Refcnt = 1;
        map.Usercnt = 1;
        BpfMapAllocId(map);
        var fd = BpfMapNewFd(task, map, fFlags | OpenFlags.O_CLOEXEC);
        if (fd < 0)
        {
            BpfMapPutWithUref(map); // the fd was never installed: drop the creation references
            return fd;
        }

        Tracepoints.bpf_map_create(Machine.Log.Bpf, map.Id, map.MapType, map.KeySize, map.ValueSize, map.MaxEntries, map.MapFlags);
        return fd;
    }

    // bpf_map_alloc_id(): idr_alloc_cyclic(&map_idr, map, 1, INT_MAX).
    private void BpfMapAllocId(BpfMap map)
    {
        var id = LastMapId;
        do
        {
            id = id >= int.MaxValue - 1 ? 1 : id + 1;
        }
        while (_mapIds.Contains(id));

        LastMapId = id;
        map.Id = id;
        _mapIds.Add(id);
        Maps[id] = map;
    }

    /// <summary>
    /// bpf_map_new_fd(map, flags): anon_inode_getfd("bpf-map", &amp;bpf_map_fops, map, flags). The file takes over the
    /// caller's refcnt and usercnt; on failure nothing was installed.
    /// </summary>
    internal int BpfMapNewFd(TaskStruct task, BpfMap map, int flags)
    {
        var fd = Machine.Vm.AnonInodeGetFd(task, "bpf-map", MapFops, map, flags);
        if (fd >= 0)
        {
            map.OpenFiles++;
        }

        return fd;
    }

    /// <summary>__bpf_map_get(f): the map behind an fd's file, or -EBADF (no file) / -EINVAL (not a map).</summary>
    internal static int BpfMapGetFromFile(VfsFile? file, out BpfMap? map)
    {
        map = null;
        if (file is null)
        {
            return -(int)Errno.EBADF;
        }

        if (file.FOp is not BpfMapFileOps || file.PrivateData is not BpfMap m)
        {
            return -(int)Errno.EINVAL;
        }

        map = m;
        return 0;
    }

    /// <summary>map_get_sys_perms(map, f): the fd's f_mode, without FMODE_CAN_WRITE once the map is frozen.</summary>
    public static FMode MapGetSysPerms(BpfMap map, VfsFile file)
    {
        ArgumentNullException.ThrowIfNull(map);
        ArgumentNullException.ThrowIfNull(file);
        var mode = file.FMode;
        if (map.Frozen)
        {
            mode &= ~FMode.FMODE_CAN_WRITE;
        }

        return mode;
    }

    /// <summary>bpf_map_inc(map): a reference for a program (or a kernel user); refcnt only.</summary>
    public void BpfMapInc(BpfMap map)
    {
        ArgumentNullException.ThrowIfNull(map);
        Machine.Reports.WarnOnOnce(map.Refcnt <= 0 || map.Freed, "bpf_map_inc", $"{map} has refcnt {map.Refcnt}");
        map.Refcnt++;
    }

    /// <summary>bpf_map_put(map): drop a reference; the last one frees the id and frees the map after a grace period.</summary>
    public void BpfMapPut(BpfMap map)
    {
        ArgumentNullException.ThrowIfNull(map);
        if (map.Refcnt <= 0)
        {
            Machine.Reports.WarnOn(true, "bpf_map_put", $"{map} refcnt underflow");
            return;
        }

        if (--map.Refcnt > 0)
        {
            return;
        }

        // bpf_map_free_id(): the id disappears now; the memory after the deferred free.
        _mapIds.Remove(map.Id);
        Machine.Rcu.CallRcu(() => BpfMapFreeDeferred(map));
    }

    /// <summary>bpf_map_put_uref(map): drop a user reference; the last one runs map_release_uref.</summary>
    public void BpfMapPutUref(BpfMap map)
    {
        ArgumentNullException.ThrowIfNull(map);
        if (map.Usercnt <= 0)
        {
            Machine.Reports.WarnOn(true, "bpf_map_put_uref", $"{map} usercnt underflow");
            return;
        }

        if (--map.Usercnt == 0)
        {
            map.MapReleaseUref();
        }
    }

    /// <summary>bpf_map_put_with_uref(map).</summary>
    public void BpfMapPutWithUref(BpfMap map)
    {
        BpfMapPutUref(map);
        BpfMapPut(map);
    }

    // bpf_map_free_deferred(): ops->map_free, after the grace period (the kernel uses a work item or call_rcu).
    private void BpfMapFreeDeferred(BpfMap map)
    {
        map.MapFree();
        map.Freed = true;
        Maps.Remove(map.Id);
        Tracepoints.bpf_map_free(Machine.Log.Bpf, map.Id, map.MapType);
    }

    /// <summary>bpf_map_release(inode, filp): a map file's last reference went (its fd closed, its last VMA gone).</summary>
    internal void BpfMapRelease(VfsFile file, BpfMap map)
    {
        map.MapRelease(file);
        map.OpenFiles--;
        BpfMapPutWithUref(map);
    }
}
