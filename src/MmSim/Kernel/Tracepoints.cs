using Microsoft.Extensions.Logging;
using MmSim.Kernel;

namespace MmSim;

/// <summary>
/// Tracepoints, named after the kernel's (include/trace/events/*.h). Source-generated, so a disabled category
/// costs one IsEnabled check. Each subsystem adds its own in a partial file next to its code.
/// </summary>
internal static partial class Tracepoints
{
    // include/trace/events/kmem.h
    [LoggerMessage(Level = LogLevel.Trace, Message = "mm_page_alloc: pfn=0x{Pfn:x} order={Order} gfp_flags={Gfp}")]
    public static partial void mm_page_alloc(ILogger logger, long pfn, int order, Gfp gfp);

    [LoggerMessage(Level = LogLevel.Trace, Message = "mm_page_free: pfn=0x{Pfn:x} order={Order}")]
    public static partial void mm_page_free(ILogger logger, long pfn, int order);

    [LoggerMessage(Level = LogLevel.Trace, Message = "mm_page_pcpu_drain: pfn=0x{Pfn:x} order={Order}")]
    public static partial void mm_page_pcpu_drain(ILogger logger, long pfn, int order);

    [LoggerMessage(Level = LogLevel.Debug, Message = "page allocation failure: order:{Order}, mode:{Gfp} ({Reason}) caller={Caller}")]
    public static partial void warn_alloc(ILogger logger, int order, Gfp gfp, string reason, string caller);

    [LoggerMessage(Level = LogLevel.Trace, Message = "kmalloc: call_site={CallSite} ptr=0x{Ptr:x} bytes_req={BytesReq} bytes_alloc={BytesAlloc} gfp_flags={Gfp}")]
    public static partial void kmalloc(ILogger logger, string callSite, ulong ptr, ulong bytesReq, ulong bytesAlloc, Gfp gfp);

    [LoggerMessage(Level = LogLevel.Trace, Message = "kfree: call_site={CallSite} ptr=0x{Ptr:x}")]
    public static partial void kfree(ILogger logger, string callSite, ulong ptr);

    [LoggerMessage(Level = LogLevel.Trace, Message = "kmem_cache_alloc: call_site={CallSite} ptr=0x{Ptr:x} name={Name} bytes_alloc={BytesAlloc} gfp_flags={Gfp}")]
    public static partial void kmem_cache_alloc(ILogger logger, string callSite, ulong ptr, string name, int bytesAlloc, Gfp gfp);

    [LoggerMessage(Level = LogLevel.Trace, Message = "kmem_cache_free: call_site={CallSite} ptr=0x{Ptr:x} name={Name}")]
    public static partial void kmem_cache_free(ILogger logger, string callSite, ulong ptr, string name);

    // lib/fault-inject.c
    [LoggerMessage(Level = LogLevel.Information, Message = "FAULT_INJECTION: forcing a failure ({Attr}) at {CallSite}")]
    public static partial void fault_inject(ILogger logger, string attr, string callSite);

    // mm/memcontrol.c
    [LoggerMessage(Level = LogLevel.Debug, Message = "memcg_charge_fail: bytes={Bytes} usage={Usage} max={Max}")]
    public static partial void memcg_charge_fail(ILogger logger, ulong bytes, ulong usage, ulong? max);

    // lib/bug.c, mm/kasan/report.c
    [LoggerMessage(Level = LogLevel.Warning, Message = "{Report}")]
    public static partial void kernel_report(ILogger logger, string report);
}
