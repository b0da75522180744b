using MmSim.Kernel;
using MmSim.Mm;

namespace MmSim.Vm;

/// <summary>fmode_t bits (include/linux/fs.h, 6.12).</summary>
#pragma warning disable CA1712 // the kernel spells them FMODE_*
[Flags]
public enum FMode : uint
{
    None = 0,
    FMODE_READ = 1 << 0,
    FMODE_WRITE = 1 << 1,
    FMODE_LSEEK = 1 << 2,
    FMODE_PREAD = 1 << 3,
    FMODE_PWRITE = 1 << 4,
    FMODE_EXEC = 1 << 5,
    FMODE_CAN_READ = 1 << 17,
    FMODE_CAN_WRITE = 1 << 18,
}
#pragma warning restore CA1712

/// <summary>open(2) flags that matter here (include/uapi/asm-generic/fcntl.h).</summary>
public static class OpenFlags
{
    public const int O_RDONLY = 0;
    public const int O_WRONLY = 1;
    public const int O_RDWR = 2;
    public const int O_ACCMODE = 3;
    public const int O_CLOEXEC = 0x80000;

    /// <summary>OPEN_FMODE(): the access mode bits turned into FMODE_READ / FMODE_WRITE.</summary>
    public static FMode ToFMode(int flags) => (flags & O_ACCMODE) switch
    {
        O_RDONLY => FMode.FMODE_READ,
        O_WRONLY => FMode.FMODE_WRITE,
        O_RDWR => FMode.FMODE_READ | FMode.FMODE_WRITE,
        _ => FMode.None,
    };
}

/// <summary>
/// The inode side of a file that /proc/PID/maps shows: device and inode number. MmSim has no file systems; each
/// kind of file (anonymous inode, shmem) supplies its own.
/// </summary>
public sealed record Inode(uint DevMajor, uint DevMinor, ulong Ino);

/// <summary>
/// struct file_operations: what a file's owner implements (a BPF map, shmem, a test device). Override only what the
/// owner has; a member that is not overridden counts as the kernel's NULL pointer (no <see cref="Mmap"/> makes
/// mmap fail with -ENODEV; no <see cref="GetUnmappedArea"/> uses the mm's own allocator).
/// </summary>
public abstract class FileOperations
{
    protected FileOperations()
    {
        var t = GetType();
        HasMmap = Overrides(t, nameof(Mmap), [typeof(VfsFile), typeof(VmArea)]);
        HasGetUnmappedArea = Overrides(t, nameof(GetUnmappedArea),
            [typeof(MmStruct), typeof(VfsFile), typeof(ulong), typeof(ulong), typeof(ulong), typeof(ulong)]);
    }

    public bool HasMmap { get; }

    public bool HasGetUnmappedArea { get; }

    /// <summary>
    /// ->mmap(file, vma): set up a new mapping (vm_ops, vm_private_data, flags, perhaps PTEs through
    /// <see cref="MmStruct.VmInsertPage"/>). 0 or a negative errno. Not called again for split/fork/move copies:
    /// those get vm_ops->open.
    /// </summary>
    public virtual int Mmap(VfsFile file, VmArea vma) => -(int)Errno.ENODEV;

    /// <summary>
    /// ->get_unmapped_area(file, addr, len, pgoff, flags): choose the address (consulted even for MAP_FIXED, and by
    /// mremap for the destination). Return an address or a negative errno. <paramref name="mm"/> is current->mm;
    /// <see cref="MmStruct.MmGetUnmappedArea"/> is the generic allocator to fall back to.
    /// </summary>
    public virtual long GetUnmappedArea(MmStruct mm, VfsFile file, ulong addr, ulong len, ulong pgoff, ulong flags) =>
        mm.MmGetUnmappedArea(file, addr, len, pgoff, flags);

    /// <summary>->release(inode, file): the last reference to the file is gone.</summary>
    public virtual void Release(VfsFile file)
    {
    }

    /// <summary>
    /// True when every reference to files of this kind comes from fd tables and VMAs, so the invariant checker can
    /// demand f_count == fds + VMAs. Owners that keep their own references leave it false (f_count ≥ fds + VMAs).
    /// </summary>
    public virtual bool ReferencesOnlyFromFdsAndVmas => false;

    private static bool Overrides(Type t, string name, Type[] args)
    {
        var m = t.GetMethod(name, args);
        return m is not null && m.DeclaringType != typeof(FileOperations);
    }
}

/// <summary>
/// struct file: an open file. Allocated from the <c>filp</c> slab cache; f_count references are taken by fds
/// (<see cref="FilesStruct"/>), VMAs and whoever calls <see cref="VmSubsystem.GetFile"/>; the last
/// <see cref="VmSubsystem.Fput"/> calls ->release and frees it.
/// </summary>
public sealed class VfsFile : SlabObject
{
    internal VfsFile(FileOperations fop, FMode mode, object? privateData, string path, Inode inode)
    {
        FOp = fop;
        FMode = mode;
        PrivateData = privateData;
        Path = path;
        Inode = inode;
        FCount = 1;
    }

    /// <summary>f_op.</summary>
    public FileOperations FOp { get; }

    /// <summary>f_mode; owners may clear bits (bpf drops FMODE_CAN_WRITE on frozen maps by its own check).</summary>
    public FMode FMode { get; set; }

    /// <summary>private_data: the owner's object (a BPF map).</summary>
    public object? PrivateData { get; set; }

    /// <summary>What d_path() prints, e.g. <c>anon_inode:bpf-map</c> or <c>/dev/zero (deleted)</c>.</summary>
    public string Path { get; }

    public Inode Inode { get; }

    /// <summary>path_noexec(): the file lives on a noexec mount (PROT_EXEC mappings get -EPERM).</summary>
    public bool NoExec { get; init; }

    /// <summary>f_count.</summary>
    public long FCount { get; internal set; }

    public override string Describe() => $"file {Path} at 0x{KernelAddress:x}";

    public override string ToString() => Path;
}
