using Microsoft.Extensions.Logging;

namespace MmSim;

/// <summary>
/// Arena events. The kernel has no tracepoints in kernel/bpf/arena.c; these are named after the functions they
/// report (what a kprobe/fexit on them would show).
/// </summary>
internal static partial class Tracepoints
{
    [LoggerMessage(Level = LogLevel.Debug, Message = "bpf_arena_alloc: max_entries={MaxEntries} map_flags=0x{Flags:x} map_extra=0x{Extra:x} kern_vm_start=0x{KernVmStart:x}")]
    public static partial void bpf_arena_alloc(ILogger logger, uint maxEntries, uint flags, ulong extra, ulong kernVmStart);

    [LoggerMessage(Level = LogLevel.Debug, Message = "bpf_arena_free: map_id={MapId}")]
    public static partial void bpf_arena_free(ILogger logger, uint mapId);

    [LoggerMessage(Level = LogLevel.Debug, Message = "arena_map_mmap: map_id={MapId} vma=[{Start:x}-{End:x})")]
    public static partial void bpf_arena_mmap(ILogger logger, uint mapId, ulong start, ulong end);

    [LoggerMessage(Level = LogLevel.Debug, Message = "bpf_arena_alloc_pages: map_id={MapId} addr=0x{Addr:x} page_cnt={PageCnt} -> 0x{Ret:x}")]
    public static partial void bpf_arena_alloc_pages(ILogger logger, uint mapId, ulong addr, long pageCnt, ulong ret);

    [LoggerMessage(Level = LogLevel.Debug, Message = "bpf_arena_free_pages: map_id={MapId} addr=0x{Addr:x} page_cnt={PageCnt}")]
    public static partial void bpf_arena_free_pages(ILogger logger, uint mapId, ulong addr, long pageCnt);

    [LoggerMessage(Level = LogLevel.Trace, Message = "ex_handler_bpf: map_id={MapId} arena {Access} access at unmapped address 0x{Addr:x}")]
    public static partial void bpf_arena_probe_fault(ILogger logger, uint mapId, string access, ulong addr);
}
