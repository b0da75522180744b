using Microsoft.Extensions.Logging;
using MmSim.Mm;
using MmSim.Vm;

namespace MmSim.Kernel;

/// <summary>
/// The simulated machine: the composition root that owns every subsystem. Built from a <see cref="MachineConfig"/>
/// (the scenario's <c>machine</c> statement); everything it does is deterministic for a given config.
/// </summary>
public sealed class Machine
{
    public Machine(MachineConfig config)
    {
        Config = config;
        Profile = config.Profile;
        Random = new SimRandom(config.Seed);
        Log = new MachineLoggers(config.LoggerFactory);
        Reports = new KernelReports();
        Reports.Reported += r => Tracepoints.kernel_report(Log.Kernel, r.ToString() ?? "");
        Memcg = new MemCgroup(config.MemcgLimit);
        FaultInject = new FaultInjection(Random, Log.Mm);
        var frames = (long)(config.RamBytes >> K.PAGE_SHIFT);
        PageAlloc = new PageAllocator(frames, Memcg, FaultInject, Reports, Log.Mm, config.Cpus);
        Invariants.Register("page_alloc", PageAlloc.CheckInvariants, PageAlloc.InvariantsHold);
        Slab = new SlabAllocator(PageAlloc, Memcg, FaultInject, Reports, Log.Mm, config.Cpus);
        Invariants.Register("slab", Slab.CheckInvariants, Slab.InvariantsHold);
        Kasan = new Kasan(Reports);
        KernelMem = new KernelMemory(PageAlloc, Slab, Reports);
        Vmalloc = new VmallocAllocator(PageAlloc, Slab, Kasan, Reports, Log.Mm, config.Cpus);
        KernelMem.VmallocToPfn = Vmalloc.VmallocToPfn;
        Invariants.Register("vmalloc", Vmalloc.CheckInvariants, Vmalloc.InvariantsHold);
        BpfMapArea = new BpfMapArea(Vmalloc, Slab);
        AddMeminfo("Slab", () => (ulong)Slab.SlabPages << (K.PAGE_SHIFT - 10));
        AddMeminfo("SUnreclaim", () => (ulong)Slab.SlabPages << (K.PAGE_SHIFT - 10));
        Vmalloc.AddMeminfo(this);
        Vm = new VmSubsystem(this);
        Tasks = new TaskList(this);
        Bpf = new Bpf.BpfSubsystem(this);
    }

    private readonly List<(string Name, Func<ulong> Kb)> _meminfo = [];

    public MachineConfig Config { get; }

    public KernelProfile Profile { get; }

    /// <summary>The machine's only source of randomness.</summary>
    public SimRandom Random { get; }

    public MachineLoggers Log { get; }

    /// <summary>KASAN reports and WARN_ONs.</summary>
    public KernelReports Reports { get; }

    public InvariantRegistry Invariants { get; } = new();

    public Rcu Rcu { get; } = new();

    public MemCgroup Memcg { get; }

    public FaultInjection FaultInject { get; }

    public PageAllocator PageAlloc { get; }

    /// <summary>SLUB: kmalloc and named caches.</summary>
    public SlabAllocator Slab { get; }

    /// <summary>KASAN checks of object dereferences.</summary>
    public Kasan Kasan { get; }

    /// <summary>Kernel loads and stores at kernel virtual addresses.</summary>
    public KernelMemory KernelMem { get; }

    /// <summary>The vmalloc area, its kernel page table, kvmalloc (mm/vmalloc.c, mm/util.c).</summary>
    public VmallocAllocator Vmalloc { get; }

    /// <summary>bpf_map_area_alloc and friends (kernel/bpf/syscall.c).</summary>
    public BpfMapArea BpfMapArea { get; }

    /// <summary>The process layer: VMA and file caches, vm sysctls, file references.</summary>
    public VmSubsystem Vm { get; }

    /// <summary>The processes.</summary>
    public TaskList Tasks { get; }

    /// <summary>The BPF layer: map types, maps, programs and the bpf(2) commands.</summary>
    public Bpf.BpfSubsystem Bpf { get; }

    /// <summary>num_possible_cpus().</summary>
    public int PossibleCpus => Config.Cpus;

    /// <summary>Return to user space: the point where the machine ends an RCU grace period.</summary>
    public void SyscallExit() => Rcu.GracePeriod();

    /// <summary>Register a /proc/meminfo line (value in kB), shown after MemTotal/MemFree/MemAvailable.</summary>
    public void AddMeminfo(string name, Func<ulong> kb) => _meminfo.Add((name, kb));

    /// <summary>The registered /proc/meminfo lines, in registration order.</summary>
    public IEnumerable<(string Name, ulong Kb)> MeminfoLines() => _meminfo.Select(l => (l.Name, l.Kb()));

    /// <summary>Run every registered invariant check.</summary>
    public List<string> CheckInvariants() => Invariants.CheckAll();
}

/// <summary>The machine's logger categories, one per subsystem.</summary>
public sealed class MachineLoggers
{
    public MachineLoggers(ILoggerFactory factory)
    {
        Factory = factory;
        Kernel = factory.CreateLogger("mmsim.kernel");
        Mm = factory.CreateLogger("mmsim.mm");
        Vm = factory.CreateLogger("mmsim.vm");
        Bpf = factory.CreateLogger("mmsim.bpf");
        Scenario = factory.CreateLogger("mmsim.scenario");
    }

    public ILoggerFactory Factory { get; }

    public ILogger Kernel { get; }

    public ILogger Mm { get; }

    public ILogger Vm { get; }

    public ILogger Bpf { get; }

    public ILogger Scenario { get; }
}
