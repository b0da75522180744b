using MmSim.Kernel;

namespace MmSim.Vm;

/// <summary>
/// A simulated process (struct task_struct, one thread). Its address space and file table arrive with the
/// process layer (mm_struct, files_struct).
/// </summary>
public sealed class TaskStruct
{
    private readonly List<SigInfo> _signals = [];

    internal TaskStruct(int pid, string comm)
    {
        Pid = pid;
        Comm = comm;
    }

    public int Pid { get; }

    /// <summary>The task's name (comm); the scenario uses its process name.</summary>
    public string Comm { get; }

    /// <summary>True after do_exit().</summary>
    public bool Exited { get; internal set; }

    /// <summary>Every signal delivered to the task, in order (the process lives on, as if a handler caught it).</summary>
    public IReadOnlyList<SigInfo> Signals => _signals;

    /// <summary>force_sig_fault(): record a synchronous signal.</summary>
    public void ForceSigFault(Signal sig, int code, ulong address) => _signals.Add(new SigInfo(sig, code, address));
}

/// <summary>The machine's tasks (the PID table).</summary>
public sealed class TaskList
{
    private readonly List<TaskStruct> _tasks = [];
    private int _nextPid = 1;

    internal TaskList(Machine machine) => Machine = machine;

    public Machine Machine { get; }

    public IReadOnlyList<TaskStruct> All => _tasks;

    /// <summary>A new process with an empty address space (the scenario's <c>spawn</c>).</summary>
    public TaskStruct Spawn(string comm)
    {
        var t = new TaskStruct(_nextPid++, comm);
        _tasks.Add(t);
        return t;
    }

    public TaskStruct? FindTaskByPid(int pid) => _tasks.Find(t => t.Pid == pid);
}
