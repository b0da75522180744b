using Microsoft.Extensions.Logging;
using MmSim.Vm;

namespace MmSim;

/// <summary>Tracepoints of the process layer (include/trace/events/mmap.h, exceptions.h, signal.h, syscalls).</summary>
internal static partial class Tracepoints
{
    [LoggerMessage(Level = LogLevel.Trace, Message = "vm_area_open: pid={Pid} vma=[{Start:x}-{End:x}) flags={Flags}")]
    public static partial void vm_area_open(ILogger logger, int pid, ulong start, ulong end, VmFlags flags);

    [LoggerMessage(Level = LogLevel.Trace, Message = "vm_area_close: pid={Pid} vma=[{Start:x}-{End:x}) flags={Flags}")]
    public static partial void vm_area_close(ILogger logger, int pid, ulong start, ulong end, VmFlags flags);

    [LoggerMessage(Level = LogLevel.Trace, Message = "vma_merge_remove: pid={Pid} vma=[{Start:x}-{End:x})")]
    public static partial void vma_merge_remove(ILogger logger, int pid, ulong start, ulong end);

    [LoggerMessage(Level = LogLevel.Debug, Message = "sys_mmap: pid={Pid} addr=0x{Addr:x} len=0x{Len:x} prot=0x{Prot:x} flags=0x{Flags:x} fd={Fd} off=0x{Off:x} -> {Ret}")]
    public static partial void sys_mmap(ILogger logger, int pid, ulong addr, ulong len, ulong prot, ulong flags, int fd, ulong off, long ret);

    [LoggerMessage(Level = LogLevel.Debug, Message = "sys_munmap: pid={Pid} addr=0x{Addr:x} len=0x{Len:x} -> {Ret}")]
    public static partial void sys_munmap(ILogger logger, int pid, ulong addr, ulong len, long ret);

    [LoggerMessage(Level = LogLevel.Debug, Message = "sys_mprotect: pid={Pid} addr=0x{Addr:x} len=0x{Len:x} prot=0x{Prot:x} -> {Ret}")]
    public static partial void sys_mprotect(ILogger logger, int pid, ulong addr, ulong len, ulong prot, long ret);

    [LoggerMessage(Level = LogLevel.Debug, Message = "sys_mremap: pid={Pid} addr=0x{Addr:x} old_len=0x{OldLen:x} new_len=0x{NewLen:x} flags=0x{Flags:x} new_addr=0x{NewAddr:x} -> {Ret}")]
    public static partial void sys_mremap(ILogger logger, int pid, ulong addr, ulong oldLen, ulong newLen, ulong flags, ulong newAddr, long ret);

    [LoggerMessage(Level = LogLevel.Debug, Message = "sys_fork: pid={Pid} child={Comm} child_pid={ChildPid} -> {Ret}")]
    public static partial void sys_fork(ILogger logger, int pid, string comm, int childPid, long ret);

    [LoggerMessage(Level = LogLevel.Debug, Message = "sched_process_exit: comm={Comm} pid={Pid}")]
    public static partial void sched_process_exit(ILogger logger, string comm, int pid);

    // include/trace/events/exceptions.h (x86)
    [LoggerMessage(Level = LogLevel.Trace, Message = "page_fault_user: pid={Pid} address=0x{Address:x} error_code=0x{ErrorCode:x}")]
    public static partial void page_fault_user(ILogger logger, int pid, ulong address, int errorCode);

    // include/trace/events/signal.h
    [LoggerMessage(Level = LogLevel.Debug, Message = "signal_generate: sig={Sig} errno=0 code={Code} comm={Comm} pid={Pid} addr=0x{Address:x}")]
    public static partial void signal_generate(ILogger logger, int sig, int code, string comm, int pid, ulong address);
}
