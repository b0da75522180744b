using MmSim.Kernel;

namespace MmSim.Vm;

/// <summary>Capabilities that the process layer and its users check (include/uapi/linux/capability.h).</summary>
public enum Capability
{
    CAP_IPC_LOCK = 14,
    CAP_SYS_RAWIO = 17,
    CAP_SYS_ADMIN = 21,
    CAP_PERFMON = 38,
    CAP_BPF = 39,
}

/// <summary>
/// A simulated process (struct task_struct, one thread): its address space (<see cref="Mm"/>), its descriptor table
/// (<see cref="Files"/>), its capabilities and the signals its memory accesses raised. The syscalls of the process
/// layer are methods here; they return what the syscall returns (a value or -errno).
/// </summary>
public sealed partial class TaskStruct
{
    private readonly List<SigInfo> _signals = [];

    internal TaskStruct(Machine machine, int pid, string comm, MmStruct mm, FilesStruct files)
    {
        Machine = machine;
        Pid = pid;
        Comm = comm;
        Mm = mm;
        Files = files;
        mm.Owner = this;
    }

    public Machine Machine { get; }

    public int Pid { get; internal set; }

    /// <summary>The task's name (comm); the scenario uses its process name.</summary>
    public string Comm { get; }

    /// <summary>True after do_exit().</summary>
    public bool Exited { get; internal set; }

    /// <summary>The address space; null after exit.</summary>
    public MmStruct? Mm { get; private set; }

    /// <summary>The descriptor table; null after exit.</summary>
    public FilesStruct? Files { get; private set; }

    /// <summary>The effective capability set; a spawned task is root (every capability).</summary>
    public HashSet<Capability> Capabilities { get; } = [.. Enum.GetValues<Capability>()];

    /// <summary>Every signal delivered to the task, in order (the process lives on, as if a handler caught it).</summary>
    public IReadOnlyList<SigInfo> Signals => _signals;

    /// <summary>The last signal delivered, or null.</summary>
    public SigInfo? LastSignal => _signals.Count == 0 ? null : _signals[^1];

    /// <summary>capable(cap).</summary>
    public bool Capable(Capability cap) => Capabilities.Contains(cap);

    /// <summary>force_sig_fault(): record a synchronous signal.</summary>
    public void ForceSigFault(Signal sig, int code, ulong address)
    {
        Tracepoints.signal_generate(Machine.Log.Vm, (int)sig, code, Comm, Pid, address);
        _signals.Add(new SigInfo(sig, code, address));
    }

    /// <summary>
    /// mmap(2): sys_mmap() -> ksys_mmap_pgoff() -> vm_mmap_pgoff() -> do_mmap(). <paramref name="fd"/> is used unless
    /// MAP_ANONYMOUS. The address, or -errno.
    /// </summary>
    public long Mmap(ulong addr, ulong len, ulong prot, ulong flags, int fd = -1, ulong off = 0)
    {
        if (Mm is not { } mm)
        {
            return Errno.ESRCH.Neg();
        }

        long ret;
        if ((off & ~K.PAGE_MASK) != 0)
        {
            ret = Errno.EINVAL.Neg();
        }
        else
        {
            VfsFile? file = null;
            if ((flags & Mman.MAP_ANONYMOUS) == 0)
            {
                file = Files!.Fget(fd);
                if (file is null)
                {
                    ret = Errno.EBADF.Neg();
                    Tracepoints.sys_mmap(Machine.Log.Vm, Pid, addr, len, prot, flags, fd, off, ret);
                    return ret;
                }
            }

            if ((flags & Mman.MAP_HUGETLB) != 0)
            {
                // No hugetlbfs: a file is never a hugetlb file, and anonymous huge pages are not reserved.
                ret = file is not null ? Errno.EINVAL.Neg() : Errno.ENOMEM.Neg();
            }
            else
            {
                ret = mm.DoMmap(file, addr, len, prot, flags, VmFlags.VM_NONE, off >> K.PAGE_SHIFT, out var populate);
                if (!ErrnoExtensions.IsErr(ret) && populate != 0)
                {
                    mm.MmPopulate((ulong)ret, populate);
                }
            }

            if (file is not null)
            {
                Machine.Vm.Fput(file);
            }
        }

        Tracepoints.sys_mmap(Machine.Log.Vm, Pid, addr, len, prot, flags, fd, off, ret);
        return ret;
    }

    /// <summary>munmap(2). 0 or -errno.</summary>
    public long Munmap(ulong addr, ulong len)
    {
        if (Mm is not { } mm)
        {
            return Errno.ESRCH.Neg();
        }

        long ret = mm.DoMunmap(addr, len);
        Tracepoints.sys_munmap(Machine.Log.Vm, Pid, addr, len, ret);
        return ret;
    }

    /// <summary>mprotect(2). 0 or -errno.</summary>
    public long Mprotect(ulong addr, ulong len, ulong prot)
    {
        if (Mm is not { } mm)
        {
            return Errno.ESRCH.Neg();
        }

        long ret = mm.DoMprotect(addr, len, prot);
        Tracepoints.sys_mprotect(Machine.Log.Vm, Pid, addr, len, prot, ret);
        return ret;
    }

    /// <summary>mremap(2). The new address or -errno.</summary>
    public long Mremap(ulong addr, ulong oldLen, ulong newLen, ulong flags = 0, ulong newAddr = 0)
    {
        if (Mm is not { } mm)
        {
            return Errno.ESRCH.Neg();
        }

        var ret = mm.DoMremap(addr, oldLen, newLen, flags, newAddr);
        Tracepoints.sys_mremap(Machine.Log.Vm, Pid, addr, oldLen, newLen, flags, newAddr, ret);
        return ret;
    }

    /// <summary>close(2). 0 or -EBADF.</summary>
    public long Close(int fd) => Files is { } files ? files.CloseFd(fd) : Errno.ESRCH.Neg();

    /// <summary>
    /// fork(2): copy_process() with copy_files() then copy_mm(). The child's pid, or -ENOMEM (the partial child is torn
    /// down: the VMAs it got are closed, its descriptors released). <paramref name="child"/> is the new task.
    /// </summary>
    public long Fork(string comm, out TaskStruct? child)
    {
        child = null;
        if (Mm is not { } oldmm || Files is not { } files)
        {
            return Errno.ESRCH.Neg();
        }

        var newFiles = files.DupFd();
        var mm = new MmStruct(Machine.Vm) { RlimitAs = oldmm.RlimitAs, RlimitMemlock = oldmm.RlimitMemlock };
        var t = new TaskStruct(Machine, 0, comm, mm, newFiles);
        t.Capabilities.Clear();
        t.Capabilities.UnionWith(Capabilities);
        var err = mm.DupMmap(oldmm);
        if (err != 0)
        {
            // dup_mm() failed: mmput() -> exit_mmap() closes what was copied; then exit_files().
            mm.ExitMmap();
            newFiles.CloseFiles();
            Tracepoints.sys_fork(Machine.Log.Vm, Pid, comm, -1, err);
            return Errno.ENOMEM.Neg();
        }

        Machine.Tasks.Add(t);
        child = t;
        Tracepoints.sys_fork(Machine.Log.Vm, Pid, comm, t.Pid, t.Pid);
        return t.Pid;
    }

    /// <summary>do_exit(): exit_mm() (every VMA closed in ascending order, page tables torn down), then exit_files().</summary>
    public void Exit()
    {
        if (Exited)
        {
            return;
        }

        Tracepoints.sched_process_exit(Machine.Log.Vm, Comm, Pid);
        Mm?.ExitMmap();
        Mm = null;
        Files?.CloseFiles();
        Files = null;
        Exited = true;
    }

    public override string ToString() => $"{Comm}[{Pid}]";
}

/// <summary>The machine's tasks (the PID table).</summary>
public sealed class TaskList
{
    private readonly List<TaskStruct> _tasks = [];
    private int _nextPid = 1;

    internal TaskList(Machine machine) => Machine = machine;

    public Machine Machine { get; }

    public IReadOnlyList<TaskStruct> All => _tasks;

    /// <summary>A new process with an empty address space and no descriptors (the scenario's <c>spawn</c>).</summary>
    public TaskStruct Spawn(string comm)
    {
        var t = new TaskStruct(Machine, 0, comm, new MmStruct(Machine.Vm), new FilesStruct(Machine.Vm));
        Add(t);
        return t;
    }

    internal void Add(TaskStruct t)
    {
        t.Pid = _nextPid++;
        _tasks.Add(t);
    }

    public TaskStruct? FindTaskByPid(int pid) => _tasks.Find(t => t.Pid == pid);
}
