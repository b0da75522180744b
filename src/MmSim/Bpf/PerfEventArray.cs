using MmSim.Kernel;
using MmSim.Vm;

namespace MmSim.Bpf;

/// <summary>
/// A minimal perf event (struct perf_event) for BPF_MAP_TYPE_PERF_EVENT_ARRAY: only whether it can be read locally
/// (an inherited event cannot: perf_event_read_local() → -EOPNOTSUPP).
/// </summary>
public sealed class PerfEvent
{
    /// <summary>attr.inherit.</summary>
    public bool Inherit { get; init; }

    /// <summary>perf_event_read_local(): 0 or -EOPNOTSUPP.</summary>
    public int PerfEventReadLocal() => Inherit ? -(int)Errno.EOPNOTSUPP : 0;
}

/// <summary>perf_fops: the file of a perf event fd.</summary>
public sealed class PerfEventFileOps : FileOperations
{
    public static PerfEventFileOps Instance { get; } = new();

    /// <summary>perf_event_open(2), reduced: a new event file in <paramref name="task"/>'s table; the fd or -errno.</summary>
    public static int PerfEventOpen(TaskStruct task, bool inherit = false)
    {
        ArgumentNullException.ThrowIfNull(task);
        return task.Machine.Vm.AnonInodeGetFd(task, "[perf_event]", Instance, new PerfEvent { Inherit = inherit },
            OpenFlags.O_RDWR | OpenFlags.O_CLOEXEC);
    }
}

/// <summary>
/// BPF_MAP_TYPE_PERF_EVENT_ARRAY (kernel/bpf/arraymap.c): slots hold a bpf_event_entry with a reference on the
/// perf event's file and the map file it was added through; releasing that map file removes its entries unless
/// BPF_F_PRESERVE_ELEMS.
/// </summary>
public sealed class PerfEventArrayMap : FdArrayMap
{
    internal PerfEventArrayMap(BpfSubsystem bpf, MapCreateAttr attr, ArrayLayout layout)
        : base(bpf, attr, layout)
    {
    }

    /// <summary>struct bpf_event_entry.</summary>
    public sealed record BpfEventEntry(PerfEvent Event, VfsFile PerfFile, VfsFile MapFile);

    /// <summary>perf_event_fd_array_get_ptr(): perf_event_get(fd) (EBADF), read-local check (EOPNOTSUPP), the entry.</summary>
    protected override int MapFdGetPtr(VfsFile mapFile, int fd, out object? ptr)
    {
        ptr = null;
        var file = Bpf.Current?.Files?.Lookup(fd);
        if (file is null || file.FOp is not PerfEventFileOps || file.PrivateData is not PerfEvent ev)
        {
            return -(int)Errno.EBADF;
        }

        if (ev.PerfEventReadLocal() == -(int)Errno.EOPNOTSUPP)
        {
            return -(int)Errno.EOPNOTSUPP;
        }

        ptr = new BpfEventEntry(ev, Machine.Vm.GetFile(file), mapFile); // bpf_event_entry_gen()
        return 0;
    }

    /// <summary>perf_event_fd_array_put_ptr(): the entry's perf file reference goes (after RCU in the kernel).</summary>
    protected override void MapFdPutPtr(object ptr) => Machine.Vm.Fput(((BpfEventEntry)ptr).PerfFile);

    /// <summary>perf_event_fd_array_release(map, map_file).</summary>
    public override void MapRelease(VfsFile file)
    {
        if ((MapFlags & BpfF.BPF_F_PRESERVE_ELEMS) != 0)
        {
            return;
        }

        for (uint i = 0; i < MaxEntries; i++)
        {
            if (Slot(i) is BpfEventEntry ee && ee.MapFile == file)
            {
                FdArrayMapDeleteElem(i);
            }
        }
    }

    /// <summary>perf_event_fd_array_map_free(): clear (PRESERVE_ELEMS kept entries until now), then free.</summary>
    public override void MapFree()
    {
        BpfFdArrayMapClear();
        base.MapFree();
    }
}
