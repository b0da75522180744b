using MmSim.Kernel;

namespace MmSim.Vm;

/// <summary>One successful ->mmap of a <see cref="TestDevice"/> and every VMA made from it since (splits, forks, moves).</summary>
public sealed class MmapLineage(int id)
{
    public int Id { get; } = id;

    /// <summary>->open calls on VMAs of this lineage.</summary>
    public int Opens { get; internal set; }

    /// <summary>->close calls on VMAs of this lineage.</summary>
    public int Closes { get; internal set; }

    /// <summary>VMAs of the lineage still alive: 1 + opens - closes (the ->mmap'd VMA counts as the first).</summary>
    public int Live => 1 + Opens - Closes;

    public override string ToString() => $"lineage {Id}: open {Opens} close {Closes}";
}

/// <summary>
/// A character device for exercising the process layer, in the spirit of the kernel's test modules (not a kernel
/// driver): its ->mmap starts a new <see cref="MmapLineage"/> (stored in vm_private_data) and its vm_ops count
/// open/close per lineage and per device, serve faults from a page cache of <see cref="Pages"/> pages (SIGBUS
/// beyond), and can refuse may_split, mremap, mprotect or mmap with a chosen errno.
/// </summary>
public sealed class TestDevice : FileOperations
{
    private readonly PageCache _cache;
    private readonly List<MmapLineage> _lineages = [];
    private readonly DeviceVmOps _ops;

    public TestDevice(Machine machine, string name = "mmsim-test", ulong pages = 256)
    {
        Machine = machine;
        Name = name;
        Pages = pages;
        _cache = new PageCache(machine.PageAlloc, pages);
        _ops = new DeviceVmOps(this);
        Inode = new Inode(10, 242, machine.Vm.GetNextIno());
    }

    public Machine Machine { get; }

    public string Name { get; }

    /// <summary>Size of the device in pages.</summary>
    public ulong Pages { get; }

    public Inode Inode { get; }

    /// <summary>vm_flags the ->mmap sets (default VM_DONTEXPAND, as drivers that need per-mmap set-up do).</summary>
    public VmFlags MmapSetsFlags { get; set; } = VmFlags.VM_DONTEXPAND;

    /// <summary>Error ->mmap returns (0: succeed).</summary>
    public int MmapError { get; set; }

    /// <summary>Error ->may_split returns (0: allow).</summary>
    public int MaySplitError { get; set; }

    /// <summary>Error ->mremap returns (0: accept).</summary>
    public int MremapError { get; set; }

    /// <summary>Error ->mprotect returns (0: accept).</summary>
    public int MprotectError { get; set; }

    /// <summary>Every lineage started, in order.</summary>
    public IReadOnlyList<MmapLineage> Lineages => _lineages;

    /// <summary>Successful ->mmap calls.</summary>
    public int Mmaps => _lineages.Count;

    /// <summary>->open calls on this device's VMAs.</summary>
    public int Opens { get; private set; }

    /// <summary>->close calls on this device's VMAs.</summary>
    public int Closes { get; private set; }

    /// <summary>Files of this device still open.</summary>
    public int OpenFiles { get; private set; }

    /// <summary>The page cache (exposed for checks).</summary>
    public PageCache Cache => _cache;

    /// <summary>open(): a new file on the device in <paramref name="task"/> with O_RDONLY/O_WRONLY/O_RDWR; the fd or -errno.</summary>
    public int Open(TaskStruct task, int flags)
    {
        if (task.Files is not { } files)
        {
            return -(int)Errno.ESRCH;
        }

        var fd = files.GetUnusedFdFlags(flags);
        if (fd < 0)
        {
            return fd;
        }

        var f = Machine.Vm.AllocFile(this, OpenFlags.ToFMode(flags), this, "/dev/" + Name, Inode);
        if (f is null)
        {
            files.PutUnusedFd(fd);
            return -(int)Errno.ENOMEM;
        }

        OpenFiles++;
        files.FdInstall(fd, f);
        return fd;
    }

    public override int Mmap(VfsFile file, VmArea vma)
    {
        if (MmapError != 0)
        {
            return MmapError;
        }

        var l = new MmapLineage(_lineages.Count + 1);
        _lineages.Add(l);
        vma.VmPrivateData = l;
        vma.VmOps = _ops;
        vma.VmFlagsSet(MmapSetsFlags);
        return 0;
    }

    /// <summary>The last file closed (no fd and no VMA uses the device): the page cache is dropped.</summary>
    public override void Release(VfsFile file)
    {
        if (--OpenFiles == 0)
        {
            _cache.Truncate();
        }
    }

    public override bool ReferencesOnlyFromFdsAndVmas => true;

    private sealed class DeviceVmOps(TestDevice dev) : VmOperations
    {
        public override void Open(VmArea vma)
        {
            dev.Opens++;
            ((MmapLineage)vma.VmPrivateData!).Opens++;
        }

        public override void Close(VmArea vma)
        {
            dev.Closes++;
            ((MmapLineage)vma.VmPrivateData!).Closes++;
        }

        public override VmFaultResult Fault(VmFault vmf) => dev._cache.Fault(vmf);

        public override int MaySplit(VmArea vma, ulong addr) => dev.MaySplitError;

        public override int Mremap(VmArea vma) => dev.MremapError;

        public override int Mprotect(VmArea vma, ulong start, ulong end, VmFlags newflags) => dev.MprotectError;
    }
}
