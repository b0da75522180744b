using MmSim.Kernel;
using MmSim.Vm;

namespace MmSim.Bpf;

/// <summary>A minimal cgroup (struct cgroup) for BPF_MAP_TYPE_CGROUP_ARRAY: a reference count and v1/v2.</summary>
public sealed class Cgroup
{
    /// <summary>cgroup_on_dfl(): a cgroup v2 (default hierarchy) directory.</summary>
    public bool OnDfl { get; init; } = true;

    /// <summary>css references (the open directory file holds one, each array slot one).</summary>
    public long Refcnt { get; internal set; }
}

/// <summary>The file operations of an open cgroup directory (kernfs).</summary>
public sealed class CgroupDirFileOps : FileOperations
{
    public static CgroupDirFileOps Instance { get; } = new();

    /// <summary>open(2) of a cgroup directory, reduced: the fd or -errno.</summary>
    public static int CgroupOpen(TaskStruct task, bool v1 = false)
    {
        ArgumentNullException.ThrowIfNull(task);
        var cgrp = new Cgroup { OnDfl = !v1, Refcnt = 1 };
        return task.Machine.Vm.AnonInodeGetFd(task, "[cgroup]", Instance, cgrp, OpenFlags.O_RDONLY | OpenFlags.O_CLOEXEC);
    }

    public override bool ReferencesOnlyFromFdsAndVmas => true;

    /// <summary>The directory's reference on the cgroup goes with the file.</summary>
    public override void Release(VfsFile file)
    {
        ArgumentNullException.ThrowIfNull(file);
        ((Cgroup)file.PrivateData!).Refcnt--;
    }
}

/// <summary>
/// BPF_MAP_TYPE_CGROUP_ARRAY (kernel/bpf/arraymap.c): slots hold cgroup references (cgroup_get_from_fd: a bad fd,
/// a non-cgroup file or a v1 cgroup → -EBADF); they are released when the map is freed.
/// </summary>
public sealed class CgroupArrayMap : FdArrayMap
{
    internal CgroupArrayMap(BpfSubsystem bpf, MapCreateAttr attr, ArrayLayout layout)
        : base(bpf, attr, layout)
    {
    }

    /// <summary>cgroup_fd_array_get_ptr() → cgroup_get_from_fd().</summary>
    protected override int MapFdGetPtr(VfsFile mapFile, int fd, out object? ptr)
    {
        ptr = null;
        var file = Bpf.Current?.Files?.Lookup(fd);
        if (file is null || file.FOp is not CgroupDirFileOps || file.PrivateData is not Cgroup cgrp || !cgrp.OnDfl)
        {
            return -(int)Errno.EBADF;
        }

        cgrp.Refcnt++;
        ptr = cgrp;
        return 0;
    }

    /// <summary>cgroup_fd_array_put_ptr(): cgroup_put().</summary>
    protected override void MapFdPutPtr(object ptr) => ((Cgroup)ptr).Refcnt--;

    /// <summary>cgroup_fd_array_free(): clear, then free.</summary>
    public override void MapFree()
    {
        BpfFdArrayMapClear();
        base.MapFree();
    }
}
