namespace MmSim.Vm;

/// <summary>Signal numbers (arch/x86/include/uapi/asm/signal.h).</summary>
public enum Signal
{
    SIGBUS = 7,
    SIGKILL = 9,
    SIGSEGV = 11,
}

/// <summary>si_code values for SIGSEGV and SIGBUS (include/uapi/asm-generic/siginfo.h).</summary>
public static class SiCode
{
    public const int SEGV_MAPERR = 1;
    public const int SEGV_ACCERR = 2;
    public const int SEGV_PKUERR = 4;

    /// <summary>SI_KERNEL: a #GP (non-canonical address) delivers SIGSEGV with this code and address 0.</summary>
    public const int SI_KERNEL = 0x80;
    public const int BUS_ADRALN = 1;
    public const int BUS_ADRERR = 2;
    public const int BUS_OBJERR = 3;
    public const int BUS_MCEERR_AR = 4;
}

/// <summary>A delivered signal: kernel_siginfo's signo, code and faulting address.</summary>
public sealed record SigInfo(Signal Signo, int Code, ulong Address);
