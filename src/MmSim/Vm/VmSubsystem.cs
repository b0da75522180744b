using MmSim.Kernel;
using MmSim.Mm;

namespace MmSim.Vm;

/// <summary>
/// The process layer's global state: the slab caches of VMAs and files (kernel/fork.c proc_caches_init(),
/// fs/file_table.c files_init()), the vm sysctls, the anonymous inode, file reference counting, and the invariant
/// checks of every address space.
/// </summary>
public sealed class VmSubsystem
{
    /// <summary>sizeof(struct vm_area_struct) and sizeof(struct file) on a 6.12 x86-64 build.</summary>
    private const int VmAreaStructSize = 184;
    private const int FileStructSize = 232;

    private ulong _nextIno = 2048;

    internal VmSubsystem(Machine machine)
    {
        Machine = machine;
        VmAreaCachep = machine.Slab.KmemCacheCreate("vm_area_struct", VmAreaStructSize, 8,
            SlabFlags.SLAB_PANIC | SlabFlags.SLAB_ACCOUNT);
        FilpCachep = machine.Slab.KmemCacheCreate("filp", FileStructSize, 8,
            SlabFlags.SLAB_TYPESAFE_BY_RCU | SlabFlags.SLAB_HWCACHE_ALIGN | SlabFlags.SLAB_PANIC | SlabFlags.SLAB_ACCOUNT);
        MapleNodes = Mm.MapleNodeCache.For(machine);
        AnonInodeInode = new Inode(0, 15, 1058);
        machine.Invariants.Register("vm", VmInvariants.Check(machine), VmInvariants.Quick(machine));
    }

    public Machine Machine { get; }

    /// <summary>vm_area_cachep.</summary>
    public KmemCache VmAreaCachep { get; }

    /// <summary>filp_cachep.</summary>
    public KmemCache FilpCachep { get; }

    /// <summary>maple_node_cache: the nodes of every VMA tree (the machine's one cache, shared with other trees).</summary>
    public KmemCache MapleNodeCachep => MapleNodes.Cache;

    internal MapleNodeCache MapleNodes { get; }

    /// <summary>sysctl vm.max_map_count.</summary>
    public int MaxMapCount { get; set; } = Mman.DEFAULT_MAX_MAP_COUNT;

    /// <summary>sysctl vm.mmap_min_addr (CONFIG_DEFAULT_MMAP_MIN_ADDR = 65536).</summary>
    public ulong MmapMinAddr { get; set; } = K.DEFAULT_MMAP_MIN_ADDR;

    /// <summary>The one inode every anonymous-inode file shares (anon_inode_inode); its device and number are arbitrary.</summary>
    public Inode AnonInodeInode { get; }

    /// <summary>Files currently allocated (for views and invariants).</summary>
    public long NrFiles { get; private set; }

    /// <summary>get_next_ino().</summary>
    internal ulong GetNextIno() => _nextIno++;

    /// <summary>alloc_file_pseudo()/alloc_empty_file(): a new file with f_count 1, or null (-ENOMEM).</summary>
    public VfsFile? AllocFile(FileOperations fop, FMode mode, object? privateData, string path, Inode inode, bool noExec = false)
    {
        var f = Machine.Slab.AllocObject(FilpCachep, Gfp.GFP_KERNEL, () => new VfsFile(fop, mode, privateData, path, inode) { NoExec = noExec });
        if (f is not null)
        {
            NrFiles++;
        }

        return f;
    }

    /// <summary>
    /// anon_inode_getfile(name, fops, priv, flags): a file on the anonymous inode named <c>anon_inode:NAME</c>, with
    /// f_mode from the O_ACCMODE bits of <paramref name="flags"/> (plus FMODE_CAN_READ/CAN_WRITE to match). Null means
    /// -ENOMEM.
    /// </summary>
    public VfsFile? AnonInodeGetFile(string name, FileOperations fops, object? priv, int flags)
    {
        var mode = OpenFlags.ToFMode(flags);
        if ((mode & FMode.FMODE_READ) != 0)
        {
            mode |= FMode.FMODE_CAN_READ;
        }

        if ((mode & FMode.FMODE_WRITE) != 0)
        {
            mode |= FMode.FMODE_CAN_WRITE;
        }

        return AllocFile(fops, mode, priv, "anon_inode:" + name, AnonInodeInode);
    }

    /// <summary>
    /// anon_inode_getfd(name, fops, priv, flags): install a new anonymous-inode file in <paramref name="task"/>'s
    /// table; the fd, -EMFILE or -ENOMEM.
    /// </summary>
    public int AnonInodeGetFd(TaskStruct task, string name, FileOperations fops, object? priv, int flags)
    {
        var files = task.Files;
        if (files is null)
        {
            return -(int)Errno.ESRCH;
        }

        var fd = files.GetUnusedFdFlags(flags);
        if (fd < 0)
        {
            return fd;
        }

        var file = AnonInodeGetFile(name, fops, priv, flags);
        if (file is null)
        {
            files.PutUnusedFd(fd);
            return -(int)Errno.ENOMEM;
        }

        files.FdInstall(fd, file);
        return fd;
    }

    /// <summary>get_file(): take a reference.</summary>
    public VfsFile GetFile(VfsFile file)
    {
        if (Machine.Kasan.Check(file, "get_file"))
        {
            file.FCount++;
        }

        return file;
    }

    /// <summary>fput(): drop a reference; the last one calls ->release and frees the file (__fput()).</summary>
    public void Fput(VfsFile file)
    {
        if (!Machine.Kasan.Check(file, "fput"))
        {
            return;
        }

        if (file.FCount <= 0)
        {
            Machine.Reports.WarnOn(true, "fput", $"f_count {file.FCount} of {file.Path}");
            return;
        }

        if (--file.FCount > 0)
        {
            return;
        }

        // __fput(): the kernel runs it from task_work on return to user space; MmSim runs it at once, which keeps
        // the same order of callbacks (every VMA close precedes the release).
        file.FOp.Release(file);
        NrFiles--;
        Machine.Slab.FreeObject(file, "__fput");
    }

    /// <summary>vm_area_alloc(mm): a zeroed VMA with dummy vm_ops, or null.</summary>
    internal VmArea? VmAreaAlloc(MmStruct mm)
    {
        var vma = Machine.Slab.AllocObject(VmAreaCachep, Gfp.GFP_KERNEL, () => new VmArea(mm), "vm_area_alloc");
        if (vma is not null)
        {
            vma.VmOps = VmOperations.Dummy;
        }

        return vma;
    }

    /// <summary>vm_area_dup(orig): a copy of every field (the file reference is the caller's business), or null.</summary>
    internal VmArea? VmAreaDup(VmArea orig)
    {
        var vma = Machine.Slab.AllocObject(VmAreaCachep, Gfp.GFP_KERNEL, () => new VmArea(orig.VmMm), "vm_area_dup");
        if (vma is null)
        {
            return null;
        }

        vma.VmStart = orig.VmStart;
        vma.VmEnd = orig.VmEnd;
        vma.VmPgoff = orig.VmPgoff;
        vma.VmFlags = orig.VmFlags;
        vma.VmFile = orig.VmFile;
        vma.VmPrivateData = orig.VmPrivateData;
        vma.VmOps = orig.VmOps;
        vma.AnonVma = orig.AnonVma;
        vma.AnonVmaChainLength = 0;
        return vma;
    }

    /// <summary>vm_area_free().</summary>
    internal void VmAreaFree(VmArea vma) => Machine.Slab.FreeObject(vma, "vm_area_free");
}
