using MmSim.Kernel;
using MmSim.Vm;

namespace MmSim.Bpf;

/// <summary>
/// BPF_MAP_TYPE_PROG_ARRAY (kernel/bpf/arraymap.c prog_array_map_ops): slots hold program references; a syscall
/// lookup returns the program id; when the last user reference (fd) goes, every slot is cleared
/// (prog_array_map_clear, a work item in the kernel, run at once here). bpf_tail_call is in <see cref="BpfSubsystem"/>.
/// </summary>
public sealed class ProgArrayMap : FdArrayMap
{
    internal ProgArrayMap(BpfSubsystem bpf, MapCreateAttr attr, ArrayLayout layout)
        : base(bpf, attr, layout)
    {
    }

    protected override bool HasSysLookup => true;

    /// <summary>prog_fd_array_get_ptr(): bpf_prog_get(fd) (EBADF / EINVAL), compatibility (always, one program type).</summary>
    protected override int MapFdGetPtr(VfsFile mapFile, int fd, out object? ptr)
    {
        ptr = null;
        var current = Bpf.Current;
        var err = BpfSubsystem.BpfProgGet(current, fd, out var prog);
        if (err != 0)
        {
            return err;
        }

        ptr = prog;
        return 0;
    }

    /// <summary>prog_fd_array_put_ptr(): bpf_prog_put().</summary>
    protected override void MapFdPutPtr(object ptr) => Bpf.BpfProgPut((BpfProg)ptr);

    /// <summary>prog_fd_array_sys_lookup_elem(): prog->aux->id.</summary>
    protected override uint? MapFdSysLookupElem(object ptr) => ((BpfProg)ptr).Id;

    /// <summary>prog_array_map_clear() (from map_release_uref).</summary>
    public override void MapReleaseUref() => BpfFdArrayMapClear();
}

/// <summary>BPF programs: bpf_prog_get/put, BPF_PROG_LOAD (reduced), bpf_tail_call.</summary>
public sealed partial class BpfSubsystem
{
    private uint _lastProgId;

    /// <summary>The file operations of program fds (bpf_prog_fops).</summary>
    public BpfProgFileOps ProgFops { get; } = new();

    /// <summary>Loaded programs not yet freed, by id (prog_idr).</summary>
    public SortedDictionary<uint, BpfProg> Progs { get; } = [];

    /// <summary>MAX_USED_MAPS.</summary>
    public const int MAX_USED_MAPS = 64;

    /// <summary>bpf_prog_get(ufd): a program reference from an fd of <paramref name="task"/>: -EBADF, -EINVAL (not a program).</summary>
    public static int BpfProgGet(TaskStruct? task, int fd, out BpfProg? prog)
    {
        prog = null;
        var file = task?.Files?.Lookup(fd);
        if (file is null)
        {
            return -(int)Errno.EBADF;
        }

        if (file.FOp is not BpfProgFileOps || file.PrivateData is not BpfProg p)
        {
            return -(int)Errno.EINVAL;
        }

        p.Refcnt++; // bpf_prog_inc()
        prog = p;
        return 0;
    }

    /// <summary>bpf_prog_put(): the last reference frees the program after a grace period, dropping its maps.</summary>
    public void BpfProgPut(BpfProg prog)
    {
        ArgumentNullException.ThrowIfNull(prog);
        if (prog.Refcnt <= 0)
        {
            Machine.Reports.WarnOn(true, "bpf_prog_put", $"{prog} refcnt underflow");
            return;
        }

        if (--prog.Refcnt > 0)
        {
            return;
        }

        Progs.Remove(prog.Id); // bpf_prog_free_id()
        Machine.Rcu.CallRcu(() =>
        {
            // __bpf_prog_put_rcu → bpf_prog_free → bpf_free_used_maps
            foreach (var m in prog.UsedMaps)
            {
                m.ProgRefs--;
                BpfMapPut(m);
            }

            prog.ClearUsedMaps();
        });
    }

    /// <summary>
    /// bpf_prog_load(), reduced to what MmSim needs: a program that uses the maps behind <paramref name="mapFds"/>
    /// (the verifier's used-map registration: EBADF / EINVAL for a non-map fd, E2BIG past MAX_USED_MAPS, then each
    /// map's <see cref="BpfMap.CheckProgLoad(BpfProg)"/>). The program fd (anon inode <c>bpf-prog</c>) or -errno; a failed
    /// load keeps no reference.
    /// </summary>
    public long ProgLoad(TaskStruct task, IReadOnlyList<int> mapFds) => ProgLoad(task, mapFds, out _);

    /// <summary><see cref="ProgLoad(TaskStruct, IReadOnlyList{int})"/> that also returns the program object.</summary>
    public long ProgLoad(TaskStruct task, IReadOnlyList<int> mapFds, out BpfProg? prog)
    {
        ArgumentNullException.ThrowIfNull(task);
        ArgumentNullException.ThrowIfNull(mapFds);
        var ret = DoProgLoad(task, mapFds, out prog);
        Tracepoints.sys_bpf(Machine.Log.Bpf, task.Pid, "BPF_PROG_LOAD", ret);
        SyscallCount++;
        return ret;
    }

    private long DoProgLoad(TaskStruct task, IReadOnlyList<int> mapFds, out BpfProg? result)
    {
        result = null;
        var prog = new BpfProg(this, _lastProgId + 1);
        var err = 0;
        foreach (var fd in mapFds)
        {
            // add_used_map_from_fd(): fdget + __bpf_map_get
            var file = task.Files?.Lookup(fd);
            err = BpfMapGetFromFile(file, out var map);
            if (err != 0)
            {
                break;
            }

            if (prog.UsedMaps.Contains(map!))
            {
                prog.AddUsedMap((ulong)fd, map!);
                continue;
            }

            if (prog.UsedMaps.Count >= MAX_USED_MAPS)
            {
                err = -(int)Errno.E2BIG;
                break;
            }

            err = map!.CheckProgLoad(prog);
            if (err != 0)
            {
                break;
            }

            BpfMapInc(map);
            map.ProgRefs++;
            prog.AddUsedMap((ulong)fd, map);
        }

        if (err == 0)
        {
            prog.Refcnt = 1;
            var fd = Machine.Vm.AnonInodeGetFd(task, "bpf-prog", ProgFops, prog, OpenFlags.O_RDWR | OpenFlags.O_CLOEXEC);
            if (fd >= 0)
            {
                _lastProgId++;
                Progs[prog.Id] = prog;
                result = prog;
                return fd;
            }

            err = fd;
        }

        // release_maps(): the verifier's error path drops what it took.
        foreach (var m in prog.UsedMaps)
        {
            m.ProgRefs--;
            BpfMapPut(m);
        }

        prog.ClearUsedMaps();
        return err;
    }

    /// <summary>
    /// bpf_tail_call(ctx, map, index) as the interpreter runs it: index ≥ max_entries, tail_call_cnt ≥
    /// MAX_TAIL_CALL_CNT or an empty slot fall through (null); otherwise the counter goes up and the target runs.
    /// </summary>
    public static BpfProg? BpfTailCall(BpfMap map, uint index, ref int tailCallCnt)
    {
        if (map is not ProgArrayMap array || index >= array.MaxEntries)
        {
            return null;
        }

        if (tailCallCnt >= BpfF.MAX_TAIL_CALL_CNT)
        {
            return null;
        }

        tailCallCnt++;
        return array.Slot(index) as BpfProg;
    }
}

/// <summary>bpf_prog_fops: a program fd's file; its release drops the fd's program reference.</summary>
public sealed class BpfProgFileOps : FileOperations
{
    internal BpfProgFileOps()
    {
    }

    public override bool ReferencesOnlyFromFdsAndVmas => true;

    /// <summary>bpf_prog_release(): bpf_prog_put().</summary>
    public override void Release(VfsFile file)
    {
        ArgumentNullException.ThrowIfNull(file);
        var prog = (BpfProg)file.PrivateData!;
        prog.Bpf.BpfProgPut(prog);
    }
}
