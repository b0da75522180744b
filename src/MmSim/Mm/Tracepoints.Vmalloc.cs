using Microsoft.Extensions.Logging;
using MmSim.Kernel;

namespace MmSim;

/// <summary>The vmalloc tracepoints (include/trace/events/vmalloc.h) and vmalloc's printk messages.</summary>
internal static partial class Tracepoints
{
    // TRACE_EVENT(alloc_vmap_area): addr is the error value (-ENOENT) when failed=1.
    [LoggerMessage(Level = LogLevel.Trace, Message = "alloc_vmap_area: va_start: {Addr} size={Size} align={Align} vstart=0x{Vstart:x} vend=0x{Vend:x} failed={Failed}")]
    public static partial void alloc_vmap_area(ILogger logger, ulong addr, ulong size, ulong align, ulong vstart, ulong vend, int failed);

    // TRACE_EVENT(purge_vmap_area_lazy)
    [LoggerMessage(Level = LogLevel.Trace, Message = "purge_vmap_area_lazy: start=0x{Start:x} end=0x{End:x} num_purged={NumPurged}")]
    public static partial void purge_vmap_area_lazy(ILogger logger, ulong start, ulong end, uint numPurged);

    // TRACE_EVENT(free_vmap_area_noflush)
    [LoggerMessage(Level = LogLevel.Trace, Message = "free_vmap_area_noflush: va_start=0x{VaStart:x} nr_lazy={NrLazy} nr_lazy_max={NrLazyMax}")]
    public static partial void free_vmap_area_noflush(ILogger logger, ulong vaStart, long nrLazy, long nrLazyMax);

    // alloc_vmap_area(): pr_warn unless __GFP_NOWARN
    [LoggerMessage(Level = LogLevel.Warning, Message = "vmalloc_node_range for size {Size} failed: Address range restricted to 0x{Vstart:x} - 0x{Vend:x}")]
    public static partial void vmap_allocation_failed(ILogger logger, ulong size, ulong vstart, ulong vend);

    // warn_alloc() from the vmalloc paths
    [LoggerMessage(Level = LogLevel.Warning, Message = "{Message}, mode:{Gfp}")]
    public static partial void vmalloc_warn_alloc(ILogger logger, string message, Gfp gfp);
}
