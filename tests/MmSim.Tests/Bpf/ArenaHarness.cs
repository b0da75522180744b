using MmSim.Bpf;
using MmSim.Kernel;
using MmSim.Vm;

namespace MmSim.Tests.Bpf;

/// <summary>
/// A stand-in for the bpf(2) layer's map file, enough to test the arena directly: map_alloc through the registered
/// ops, an anon-inode fd whose ->get_unmapped_area and ->mmap follow bpf_get_unmapped_area and bpf_map_mmap
/// (VM_SHARED check, writecnt, VM_MAYEXEC/VM_MAYWRITE), and map_free when the file's last reference goes.
/// </summary>
internal sealed class ArenaHarness : FileOperations
{
    public ArenaHarness(Machine m) => M = m;

    public Machine M { get; }

    /// <summary>map_create for an arena (errno or the map); the fd is installed in <paramref name="task"/>.</summary>
    public int Create(TaskStruct task, uint entries, uint flags, ulong extra, out BpfArena? arena,
        uint key = 0, uint value = 0)
    {
        arena = null;
        var attr = new MapCreateAttr
        {
            MapType = BpfMapType.BPF_MAP_TYPE_ARENA,
            MaxEntries = entries,
            MapFlags = flags,
            MapExtra = extra,
            KeySize = key,
            ValueSize = value,
        };
        var ops = M.Bpf.MapOpsOf(BpfMapType.BPF_MAP_TYPE_ARENA)!;
        var err = ops.MapAlloc(M.Bpf, attr, out var map);
        if (err != 0)
        {
            return err;
        }

        arena = (BpfArena)map!;
        arena.Refcnt = 1;
        var fd = M.Vm.AnonInodeGetFd(task, "bpf-map", this, arena, OpenFlags.O_RDWR | OpenFlags.O_CLOEXEC);
        return fd;
    }

    public override long GetUnmappedArea(MmStruct mm, VfsFile file, ulong addr, ulong len, ulong pgoff, ulong flags)
    {
        var map = (BpfMap)file.PrivateData!;
        return map.HasMapGetUnmappedArea ? map.MapGetUnmappedArea(mm, file, addr, len, pgoff, flags) : mm.MmGetUnmappedArea(file, addr, len, pgoff, flags);
    }

    public override int Mmap(VfsFile file, VmArea vma)
    {
        var map = (BpfMap)file.PrivateData!;
        if ((vma.VmFlags & VmFlags.VM_SHARED) == 0)
        {
            return -(int)Errno.EINVAL;
        }

        var write = (vma.VmFlags & VmFlags.VM_WRITE) != 0;
        if (write && map.Frozen)
        {
            return -(int)Errno.EPERM;
        }

        if (write)
        {
            map.Writecnt++;
        }

        vma.VmPrivateData = map;
        vma.VmFlagsClear(VmFlags.VM_MAYEXEC);
        if (!write)
        {
            vma.VmFlagsClear(VmFlags.VM_MAYWRITE);
        }

        var err = map.MapMmap(vma);
        if (err != 0)
        {
            if (write)
            {
                map.Writecnt--;
            }

            return err;
        }

        map.MmapCalls++;
        return 0;
    }

    public override void Release(VfsFile file)
    {
        var map = (BpfMap)file.PrivateData!;
        map.Refcnt--;
        if (map.Refcnt == 0)
        {
            map.MapFree();
            map.Freed = true;
        }
    }

    public override bool ReferencesOnlyFromFdsAndVmas => true;
}
