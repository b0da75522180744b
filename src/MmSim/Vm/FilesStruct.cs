using MmSim.Kernel;

namespace MmSim.Vm;

/// <summary>
/// struct files_struct (fs/file.c): a process's descriptor table. New descriptors take the lowest free number, as
/// in Linux; fork copies the table with the same numbers (each copied descriptor takes a file reference).
/// </summary>
public sealed class FilesStruct
{
    /// <summary>RLIMIT_NOFILE's default soft limit.</summary>
    public const int DefaultNofile = 1024;

    private readonly List<VfsFile?> _fdt = [];

    // Descriptors handed out by get_unused_fd_flags() and not yet installed.
    private readonly SortedSet<int> _reserved = [];
    private readonly VmSubsystem _vm;

    internal FilesStruct(VmSubsystem vm) => _vm = vm;

    /// <summary>RLIMIT_NOFILE.</summary>
    public int Nofile { get; set; } = DefaultNofile;

    /// <summary>Open descriptors in ascending order.</summary>
    public IEnumerable<(int Fd, VfsFile File)> Open
    {
        get
        {
            for (var i = 0; i < _fdt.Count; i++)
            {
                if (_fdt[i] is { } f)
                {
                    yield return (i, f);
                }
            }
        }
    }

    public int Count => _fdt.Count(f => f is not null);

    /// <summary>The size of the descriptor table (fdt->max_fds as far as used): <see cref="Lookup"/> of every fd below it covers <see cref="Open"/>, without allocation.</summary>
    internal int MaxFds => _fdt.Count;

    /// <summary>files_lookup_fd_raw(): the file at <paramref name="fd"/> without taking a reference.</summary>
    public VfsFile? Lookup(int fd) => fd >= 0 && fd < _fdt.Count ? _fdt[fd] : null;

    /// <summary>fget(fd): the file with a new reference, or null (the caller returns -EBADF).</summary>
    public VfsFile? Fget(int fd)
    {
        var f = Lookup(fd);
        if (f is not null)
        {
            _vm.GetFile(f);
        }

        return f;
    }

    /// <summary>get_unused_fd_flags(): the lowest free descriptor (reserved), or -EMFILE.</summary>
    public int GetUnusedFdFlags(int flags = 0)
    {
        _ = flags;
        for (var i = 0; i < _fdt.Count; i++)
        {
            if (_fdt[i] is null && !_reserved.Contains(i))
            {
                if (i >= Nofile)
                {
                    return -(int)Errno.EMFILE;
                }

                _reserved.Add(i);
                return i;
            }
        }

        var fd = _fdt.Count;
        while (_reserved.Contains(fd))
        {
            fd++;
        }

        if (fd >= Nofile)
        {
            return -(int)Errno.EMFILE;
        }

        _reserved.Add(fd);
        return fd;
    }

    /// <summary>put_unused_fd(): give back a descriptor reserved by <see cref="GetUnusedFdFlags"/>.</summary>
    public void PutUnusedFd(int fd) => _reserved.Remove(fd);

    /// <summary>fd_install(fd, file): the descriptor now holds the caller's reference to <paramref name="file"/>.</summary>
    public void FdInstall(int fd, VfsFile file)
    {
        if (!_reserved.Remove(fd))
        {
            throw new KernelBugException($"fd_install({fd}) of a descriptor that was not reserved");
        }

        while (_fdt.Count <= fd)
        {
            _fdt.Add(null);
        }

        _fdt[fd] = file;
    }

    /// <summary>close_fd(fd): remove the descriptor and drop its reference; -EBADF when it is not open.</summary>
    public int CloseFd(int fd)
    {
        var f = Lookup(fd);
        if (f is null)
        {
            return -(int)Errno.EBADF;
        }

        _fdt[fd] = null;
        _vm.Fput(f);
        return 0;
    }

    /// <summary>dup_fd(): a copy of the table for a forked child.</summary>
    internal FilesStruct DupFd()
    {
        var n = new FilesStruct(_vm) { Nofile = Nofile };
        foreach (var f in _fdt)
        {
            if (f is not null)
            {
                _vm.GetFile(f);
            }

            n._fdt.Add(f);
        }

        return n;
    }

    /// <summary>close_files() at exit: every descriptor, in ascending order.</summary>
    internal void CloseFiles()
    {
        for (var i = 0; i < _fdt.Count; i++)
        {
            if (_fdt[i] is { } f)
            {
                _fdt[i] = null;
                _vm.Fput(f);
            }
        }

        _fdt.Clear();
        _reserved.Clear();
    }
}
