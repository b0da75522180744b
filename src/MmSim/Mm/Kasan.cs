using MmSim.Kernel;

namespace MmSim.Mm;

/// <summary>
/// KASAN (mm/kasan): the one place modelled code goes through to dereference a slab-allocated kernel object.
/// A freed object yields a "slab-use-after-free" report naming the function that dereferenced it.
/// </summary>
public sealed class Kasan
{
    private readonly KernelReports _reports;

    internal Kasan(KernelReports reports) => _reports = reports;

    /// <summary>kasan_check_read()/write() on a typed object: false (and a report) when it was freed.</summary>
    public bool Check(SlabObject obj, string function)
    {
        if (!obj.Freed)
        {
            return true;
        }

        _reports.ReportKasan(KasanBugType.SlabUseAfterFree, function,
            $"access to {obj.Describe()} (cache {obj.Cache?.Name}) freed by {obj.FreedBy}");
        return false;
    }
}
