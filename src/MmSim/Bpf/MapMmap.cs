using MmSim.Kernel;
using MmSim.Vm;

namespace MmSim.Bpf;

/// <summary>
/// bpf_map_fops (kernel/bpf/syscall.c): the file operations of every map fd: bpf_map_mmap, bpf_get_unmapped_area
/// and bpf_map_release. A map file is referenced only by fds and by VMAs.
/// </summary>
public sealed class BpfMapFileOps : FileOperations
{
    internal BpfMapFileOps()
    {
    }

    public override bool ReferencesOnlyFromFdsAndVmas => true;

    /// <summary>
    /// bpf_map_mmap(filp, vma) as in 6.12: -ENOTSUPP without ops->map_mmap; -EINVAL without VM_SHARED; under
    /// freeze_mutex a VM_WRITE mapping of a frozen map is -EPERM and of a BPF_F_RDONLY_PROG map -EACCES; then the
    /// default vm_ops, VM_MAYEXEC cleared, VM_MAYWRITE cleared for read-only mappings, ops->map_mmap, and writecnt++
    /// for a VM_MAYWRITE mapping once map_mmap succeeded.
    /// </summary>
    public override int Mmap(VfsFile file, VmArea vma)
    {
        ArgumentNullException.ThrowIfNull(file);
        ArgumentNullException.ThrowIfNull(vma);
        var map = (BpfMap)file.PrivateData!;
        if (!map.HasMapMmap)
        {
            return -(int)Errno.ENOTSUPP;
        }

        if ((vma.VmFlags & VmFlags.VM_SHARED) == 0)
        {
            return -(int)Errno.EINVAL;
        }

        // mutex_lock(&map->freeze_mutex)
        if ((vma.VmFlags & VmFlags.VM_WRITE) != 0)
        {
            if (map.Frozen)
            {
                return -(int)Errno.EPERM;
            }

            if ((map.MapFlags & BpfF.BPF_F_RDONLY_PROG) != 0)
            {
                return -(int)Errno.EACCES;
            }
        }

        vma.VmOps = BpfMapDefaultVmOps.Instance;
        vma.VmPrivateData = map;
        vma.VmFlagsClear(VmFlags.VM_MAYEXEC);
        if ((vma.VmFlags & VmFlags.VM_WRITE) == 0)
        {
            vma.VmFlagsClear(VmFlags.VM_MAYWRITE); // disallow re-mapping with PROT_WRITE
        }

        var err = map.MapMmap(vma);
        if (err != 0)
        {
            return err;
        }

        if ((vma.VmFlags & VmFlags.VM_MAYWRITE) != 0)
        {
            map.Writecnt++; // bpf_map_write_active_inc()
        }

        map.MmapCalls++;
        Tracepoints.bpf_map_mmap(map.Machine.Log.Bpf, map.Id, vma.VmStart, vma.VmEnd, vma.VmFlags);
        return 0;
    }

    /// <summary>bpf_get_unmapped_area(): the map's own hook (even for MAP_FIXED), else mm_get_unmapped_area().</summary>
    public override long GetUnmappedArea(MmStruct mm, VfsFile file, ulong addr, ulong len, ulong pgoff, ulong flags)
    {
        ArgumentNullException.ThrowIfNull(mm);
        ArgumentNullException.ThrowIfNull(file);
        var map = (BpfMap)file.PrivateData!;
        return map.HasMapGetUnmappedArea
            ? map.MapGetUnmappedArea(mm, file, addr, len, pgoff, flags)
            : mm.MmGetUnmappedArea(file, addr, len, pgoff, flags);
    }

    /// <summary>bpf_map_release(inode, filp).</summary>
    public override void Release(VfsFile file)
    {
        ArgumentNullException.ThrowIfNull(file);
        var map = (BpfMap)file.PrivateData!;
        map.Bpf.BpfMapRelease(file, map);
    }
}

/// <summary>
/// bpf_map_default_vmops: open and close keep writecnt for VM_MAYWRITE VMAs, and count their calls per map (the
/// <c>stat vm_open</c> / <c>stat vm_close</c> counters). The arena replaces them with its own ops in map_mmap.
/// </summary>
public sealed class BpfMapDefaultVmOps : VmOperations
{
    private BpfMapDefaultVmOps()
    {
    }

    public static BpfMapDefaultVmOps Instance { get; } = new();

    /// <summary>bpf_map_mmap_open(vma): a split, fork or mremap copy.</summary>
    public override void Open(VmArea vma)
    {
        ArgumentNullException.ThrowIfNull(vma);
        var map = (BpfMap)vma.VmFile!.PrivateData!;
        if ((vma.VmFlags & VmFlags.VM_MAYWRITE) != 0)
        {
            map.Writecnt++;
        }

        map.VmOpenCalls++;
    }

    /// <summary>bpf_map_mmap_close(vma).</summary>
    public override void Close(VmArea vma)
    {
        ArgumentNullException.ThrowIfNull(vma);
        var map = (BpfMap)vma.VmFile!.PrivateData!;
        if ((vma.VmFlags & VmFlags.VM_MAYWRITE) != 0)
        {
            map.Writecnt--;
        }

        map.VmCloseCalls++;
    }
}
