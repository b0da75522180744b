namespace MmSim.Kernel;

/// <summary>The kinds of bug KASAN reports (mm/kasan/report.c bug types).</summary>
public enum KasanBugType
{
    SlabUseAfterFree,
    DoubleFree,
    InvalidFree,
    SlabOutOfBounds,
    VmallocOutOfBounds,
    UseAfterFree,
    WildMemoryAccess,
    BadPageState,
}

/// <summary>One "BUG: KASAN: ..." report.</summary>
public sealed record KasanReport(KasanBugType Type, string Function, string Detail)
{
    public string Title => Type switch
    {
        KasanBugType.SlabUseAfterFree => "slab-use-after-free",
        KasanBugType.DoubleFree => "double-free",
        KasanBugType.InvalidFree => "invalid-free",
        KasanBugType.SlabOutOfBounds => "slab-out-of-bounds",
        KasanBugType.VmallocOutOfBounds => "vmalloc-out-of-bounds",
        KasanBugType.UseAfterFree => "use-after-free",
        KasanBugType.WildMemoryAccess => "wild-memory-access",
        KasanBugType.BadPageState => "bad-page-state",
        _ => "unknown",
    };

    public override string ToString() => $"BUG: KASAN: {Title} in {Function}: {Detail}";
}

/// <summary>One WARN_ON that fired.</summary>
public sealed record WarnReport(string Function, string Message)
{
    public override string ToString() => $"WARNING: {Function}: {Message}";
}

/// <summary>A simulated BUG(): a state the modelled kernel code can never reach. Only simulator bugs throw it.</summary>
public sealed class KernelBugException : Exception
{
    public KernelBugException()
    {
    }

    public KernelBugException(string message)
        : base("kernel BUG: " + message)
    {
    }

    public KernelBugException(string message, Exception inner)
        : base("kernel BUG: " + message, inner)
    {
    }
}

/// <summary>
/// Everything the simulated kernel reported: KASAN reports and WARN_ONs. They are recorded and counted, never
/// thrown; the scenario runner and the checker compare the counts before and after each step.
/// </summary>
public sealed class KernelReports
{
    private readonly List<KasanReport> _kasan = [];
    private readonly List<WarnReport> _warns = [];
    private readonly HashSet<string> _warnedOnce = new(StringComparer.Ordinal);

    public IReadOnlyList<KasanReport> Kasan => _kasan;

    public IReadOnlyList<WarnReport> Warnings => _warns;

    public int KasanCount => _kasan.Count;

    public int WarnCount => _warns.Count;

    /// <summary>Raised for every report, so a front end can print it as it happens.</summary>
    public event Action<object>? Reported;

    public void ReportKasan(KasanBugType type, string function, string detail)
    {
        var r = new KasanReport(type, function, detail);
        _kasan.Add(r);
        Reported?.Invoke(r);
    }

    /// <summary>WARN_ON(condition): records a warning when the condition holds, and returns it.</summary>
    public bool WarnOn(bool condition, string function, string message)
    {
        if (condition)
        {
            var w = new WarnReport(function, message);
            _warns.Add(w);
            Reported?.Invoke(w);
        }

        return condition;
    }

    /// <summary>WARN_ON_ONCE(condition): like <see cref="WarnOn"/> but reports each call site once per boot.</summary>
    public bool WarnOnOnce(bool condition, string function, string message)
    {
        if (condition && _warnedOnce.Add(function + "\0" + message))
        {
            WarnOn(true, function, message);
        }

        return condition;
    }
}
