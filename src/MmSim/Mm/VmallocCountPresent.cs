namespace MmSim.Mm;

public sealed partial class VmallocAllocator
{
    /// <summary>
    /// The present kernel PTEs in [start, end), allocating nothing: what <see cref="ApplyToExistingPageRange"/>
    /// would visit there, counted (invariant quick paths).
    /// </summary>
    internal long CountPresent(ulong start, ulong end) => _pt.CountPresent(start, end, null, out _);
}
