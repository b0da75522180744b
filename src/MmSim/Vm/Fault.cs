using MmSim.Kernel;

namespace MmSim.Vm;

/// <summary>What a faulting access asked for (x86 error_code bits that matter here).</summary>
[Flags]
public enum AccessKind
{
    Read = 0,

    /// <summary>X86_PF_WRITE.</summary>
    Write = 1,

    /// <summary>X86_PF_USER: from user mode (a signal on failure) rather than a kernel uaccess (-EFAULT).</summary>
    User = 4,
}

/// <summary>The outcome of a fault taken by an access (do_user_addr_fault()).</summary>
public readonly record struct FaultOutcome(VmFaultResult Result, Signal? Signo, int Code)
{
    public static FaultOutcome Ok => new(VmFaultResult.None, null, 0);

    /// <summary>The page is there: the access may be retried and will succeed.</summary>
    public bool Resolved => Signo is null && (Result & VmFaultResult.VM_FAULT_ERROR) == 0;
}

/// <summary>arch/x86/mm/fault.c: the user-address fault path.</summary>
public sealed partial class MmStruct
{
    private const int MaxFaultRetries = 16;

    // access_error(): the VMA does not allow the access.
    private static bool AccessError(AccessKind kind, VmArea vma)
    {
        if ((kind & AccessKind.Write) != 0)
        {
            return (vma.VmFlags & VmFlags.VM_WRITE) == 0;
        }

        return !vma.VmFlags.IsAccessible();
    }

    /// <summary>
    /// do_user_addr_fault(): find the VMA, check the access, handle_mm_fault(), and turn errors into the signal the
    /// kernel would send (user mode: SIGSEGV SEGV_MAPERR / SEGV_ACCERR, SIGBUS BUS_ADRERR / BUS_MCEERR_AR;
    /// VM_FAULT_OOM sends none: the kernel runs the OOM killer). Kernel-mode accesses get the same outcome, and the
    /// caller turns any failure into -EFAULT.
    /// </summary>
    public FaultOutcome DoUserAddrFault(ulong address, AccessKind kind)
    {
        Tracepoints.page_fault_user(Log, Owner?.Pid ?? 0, address, (int)kind);
        var vma = MmMt.FindVma(address);
        if (vma is null || vma.VmStart > address)
        {
            // No stack expansion: MmSim has no VM_GROWSDOWN stacks to grow.
            return new FaultOutcome(VmFaultResult.None, Signal.SIGSEGV, SiCode.SEGV_MAPERR);
        }

        if (AccessError(kind, vma))
        {
            return new FaultOutcome(VmFaultResult.None, Signal.SIGSEGV, SiCode.SEGV_ACCERR);
        }

        // FAULT_FLAG_DEFAULT: ALLOW_RETRY | KILLABLE | INTERRUPTIBLE.
        var flags = FaultFlags.FAULT_FLAG_ALLOW_RETRY | FaultFlags.FAULT_FLAG_KILLABLE | FaultFlags.FAULT_FLAG_INTERRUPTIBLE;
        if ((kind & AccessKind.User) != 0)
        {
            flags |= FaultFlags.FAULT_FLAG_USER;
        }

        if ((kind & AccessKind.Write) != 0)
        {
            flags |= FaultFlags.FAULT_FLAG_WRITE;
        }

        // On VM_FAULT_RETRY the kernel sets FAULT_FLAG_TRIED and goes back to retry: with FAULT_FLAG_ALLOW_RETRY still
        // set (retries are unbounded since 5.7). MmSim bounds the loop; a handler that never stops asking would hang
        // the kernel.
        var fault = HandleMmFault(vma, address, flags);
        for (var retries = 0; (fault & VmFaultResult.VM_FAULT_RETRY) != 0; retries++)
        {
            if (retries == MaxFaultRetries)
            {
                Machine.Reports.WarnOnOnce(true, "do_user_addr_fault", $"fault at 0x{address:x} keeps returning VM_FAULT_RETRY");
                return new FaultOutcome(fault, Signal.SIGBUS, SiCode.BUS_ADRERR);
            }

            flags |= FaultFlags.FAULT_FLAG_TRIED;
            fault = HandleMmFault(vma, address, flags);
        }

        if ((fault & VmFaultResult.VM_FAULT_ERROR) == 0)
        {
            return new FaultOutcome(fault, null, 0);
        }

        // mm_fault_error()
        if ((fault & VmFaultResult.VM_FAULT_OOM) != 0)
        {
            return new FaultOutcome(fault, null, 0);
        }

        if ((fault & (VmFaultResult.VM_FAULT_HWPOISON | VmFaultResult.VM_FAULT_HWPOISON_LARGE)) != 0)
        {
            return new FaultOutcome(fault, Signal.SIGBUS, SiCode.BUS_MCEERR_AR);
        }

        if ((fault & VmFaultResult.VM_FAULT_SIGBUS) != 0)
        {
            return new FaultOutcome(fault, Signal.SIGBUS, SiCode.BUS_ADRERR);
        }

        if ((fault & VmFaultResult.VM_FAULT_SIGSEGV) != 0)
        {
            return new FaultOutcome(fault, Signal.SIGSEGV, SiCode.SEGV_MAPERR);
        }

        // VM_FAULT_FALLBACK alone is the kernel's BUG().
        Machine.Reports.WarnOn(true, "mm_fault_error", $"unexpected fault result 0x{(uint)fault:x}");
        return new FaultOutcome(fault, Signal.SIGBUS, SiCode.BUS_ADRERR);
    }

    // The PTE for addr allows the access without a fault.
    private bool AccessOk(ulong addr, bool write, out long pfn)
    {
        var pte = Pgd.Get(addr);
        pfn = pte.Pfn;
        if ((pte.Flags & PteFlags.Present) == 0)
        {
            return false;
        }

        return !write || pte.IsWrite;
    }

    /// <summary>
    /// Make the page at <paramref name="addr"/> accessible for the access, faulting as often as the kernel would retry
    /// the instruction. Success yields the PFN (PageTable.ZERO_PFN for the zero page).
    /// </summary>
    internal FaultOutcome FaultIn(ulong addr, AccessKind kind, out long pfn)
    {
        var write = (kind & AccessKind.Write) != 0;
        for (var attempt = 0; attempt < 3; attempt++)
        {
            if (AccessOk(addr, write, out pfn))
            {
                return FaultOutcome.Ok;
            }

            var o = DoUserAddrFault(addr, kind);
            if (!o.Resolved)
            {
                return o;
            }
        }

        if (AccessOk(addr, write, out pfn))
        {
            return FaultOutcome.Ok;
        }

        // A handler that reported success without providing the page: the kernel would loop forever.
        Machine.Reports.WarnOnOnce(true, "do_user_addr_fault", $"fault at 0x{addr:x} keeps being retried");
        return new FaultOutcome(VmFaultResult.VM_FAULT_SIGBUS, Signal.SIGBUS, SiCode.BUS_ADRERR);
    }
}
