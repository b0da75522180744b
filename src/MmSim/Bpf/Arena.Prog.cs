namespace MmSim.Bpf;

public sealed partial class BpfArena
{
    /// <summary>BPF_ADDR_SPACE_CAST imm for cast_kern: as(1) → as(0).</summary>
    public const int CastKernImm = 1;

    /// <summary>BPF_ADDR_SPACE_CAST imm for cast_user: as(0) → as(1).</summary>
    public const int CastUserImm = 1 << 16;

    /// <summary>The kernel address a PROBE_MEM32 access uses: kern_vm_start + lo32(reg) + sign-extended off.</summary>
    public ulong ProbeMem32Address(ulong reg, short off) => unchecked(KernVmStart + (uint)reg + (ulong)(long)off);

    /// <summary>
    /// A BPF_PROBE_MEM32 load of 1, 2, 4 or 8 bytes (the JIT's <c>mov dst, [r12 + lo32(src) + off]</c>): an absent
    /// page is fixed up by ex_handler_bpf, the destination becomes 0 and the fault is counted.
    /// </summary>
    public ulong ProbeMem32Load(ulong reg, int size, short off = 0)
    {
        CheckSize(size);
        var kaddr = ProbeMem32Address(reg, off);
        if (!M.Vmalloc.ProbeReadValue(kaddr, size, out var value))
        {
            ProbeFaults++;
            Tracepoints.bpf_arena_probe_fault(M.Log.Bpf, Id, "READ", kaddr);
            return 0;
        }

        return value;
    }

    /// <summary>A BPF_PROBE_MEM32 store: to an absent page it is dropped (and counted); true when it was done.</summary>
    public bool ProbeMem32Store(ulong reg, int size, ulong value, short off = 0)
    {
        CheckSize(size);
        var kaddr = ProbeMem32Address(reg, off);
        if (!M.Vmalloc.ProbeWriteValue(kaddr, size, value))
        {
            ProbeFaults++;
            Tracepoints.bpf_arena_probe_fault(M.Log.Bpf, Id, "WRITE", kaddr);
            return false;
        }

        return true;
    }

    /// <summary>
    /// addr_space_cast to as(0) ("cast_user", done by the JIT): lo32 == 0 stays 0, otherwise the upper half of
    /// user_vm_start joined to lo32. With BPF_F_NO_USER_CONV the verifier made it a 32-bit move: lo32 only.
    /// </summary>
    public ulong CastUser(ulong reg)
    {
        var lo = (uint)reg;
        if ((MapFlags & BpfF.BPF_F_NO_USER_CONV) != 0)
        {
            return lo;
        }

        return lo == 0 ? 0 : ClearLo32(UserVmStart) | lo;
    }

    /// <summary>addr_space_cast to as(1) ("cast_kern"): rewritten by the verifier into a 32-bit move (lo32, upper half 0).</summary>
    public static ulong CastKern(ulong reg) => (uint)reg;

    private static void CheckSize(int size)
    {
        if (size is not (1 or 2 or 4 or 8))
        {
            throw new ArgumentOutOfRangeException(nameof(size), size, "BPF loads and stores are 1, 2, 4 or 8 bytes");
        }
    }
}
