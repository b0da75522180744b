using Microsoft.Extensions.Logging;
using MmSim.Bpf;
using MmSim.Vm;

namespace MmSim;

/// <summary>Tracepoints of the BPF layer (syscalls:sys_exit_bpf, and MmSim's map lifetime events).</summary>
internal static partial class Tracepoints
{
    [LoggerMessage(Level = LogLevel.Debug, Message = "sys_bpf: pid={Pid} cmd={Cmd} -> {Ret}")]
    public static partial void sys_bpf(ILogger logger, int pid, string cmd, long ret);

    [LoggerMessage(Level = LogLevel.Trace, Message = "bpf_map_create: id={Id} type={Type} key={Key} value={Value} max_entries={Max} flags=0x{Flags:x}")]
    public static partial void bpf_map_create(ILogger logger, uint id, BpfMapType type, uint key, uint value, uint max, uint flags);

    [LoggerMessage(Level = LogLevel.Trace, Message = "bpf_map_free: id={Id} type={Type}")]
    public static partial void bpf_map_free(ILogger logger, uint id, BpfMapType type);

    [LoggerMessage(Level = LogLevel.Trace, Message = "bpf_map_mmap: id={Id} vma=[{Start:x}-{End:x}) flags={Flags}")]
    public static partial void bpf_map_mmap(ILogger logger, uint id, ulong start, ulong end, VmFlags flags);
}
