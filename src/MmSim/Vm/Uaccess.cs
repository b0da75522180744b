using System.Buffers.Binary;
using MmSim.Kernel;

namespace MmSim.Vm;

/// <summary>
/// The result of a user-mode load or store: the value read (0 for a store), or the signal the access raised (the
/// access did not happen), or an OOM that the kernel would answer with the OOM killer rather than a signal.
/// </summary>
public readonly record struct UserAccessResult(ulong Value, SigInfo? Signal, bool Oom)
{
    /// <summary>The access happened.</summary>
    public bool Ok => Signal is null && !Oom;

    public override string ToString() => Signal is { } s ? $"{s.Signo} (code {s.Code}) at 0x{s.Address:x}" : Oom ? "VM_FAULT_OOM" : $"0x{Value:x}";
}

/// <summary>User memory accesses of a task: user-mode loads and stores, and the kernel's uaccess helpers.</summary>
public sealed partial class TaskStruct
{
    /// <summary>The lowest non-canonical address with 4-level paging.</summary>
    private const ulong NonCanonicalStart = 1UL << 47;

    /// <summary>The first canonical kernel-half address.</summary>
    private const ulong KernelHalfStart = 0xffff800000000000UL;

    /// <summary>
    /// A user-mode load of <paramref name="size"/> (1, 2, 4 or 8) bytes at any address, little endian, possibly
    /// crossing a page boundary. Faults are taken as the CPU would: a fault that fails records the signal on the task
    /// (<see cref="Signals"/>) and the load does not happen.
    /// </summary>
    public UserAccessResult UserRead(ulong addr, int size = 8) => UserAccess(addr, size, false, 0);

    /// <summary>A user-mode store of the low <paramref name="size"/> bytes of <paramref name="value"/>; see <see cref="UserRead"/>.</summary>
    public UserAccessResult UserWrite(ulong addr, int size, ulong value) => UserAccess(addr, size, true, value);

    private UserAccessResult UserAccess(ulong addr, int size, bool write, ulong value)
    {
        if (size is not (1 or 2 or 4 or 8))
        {
            throw new ArgumentOutOfRangeException(nameof(size), size, "an access is 1, 2, 4 or 8 bytes");
        }

        if (Mm is not { } mm)
        {
            throw new InvalidOperationException($"{this} has exited");
        }

        var last = addr + (ulong)size - 1;
        if (last < addr || (addr >= NonCanonicalStart && addr < KernelHalfStart) || (last >= NonCanonicalStart && last < KernelHalfStart))
        {
            // #GP: exc_general_protection() sends SIGSEGV with SI_KERNEL and no address.
            ForceSigFault(Signal.SIGSEGV, SiCode.SI_KERNEL, 0);
            return new UserAccessResult(0, LastSignal, false);
        }

        var kind = AccessKind.User | (write ? AccessKind.Write : AccessKind.Read);
        var p1 = addr & K.PAGE_MASK;
        var p2 = last & K.PAGE_MASK;
        long pfn1 = 0, pfn2 = 0;
        for (var attempt = 0; attempt < 3; attempt++)
        {
            var o = mm.FaultIn(addr, kind, out pfn1);
            if (!o.Resolved)
            {
                return Failed(o, addr);
            }

            if (p2 == p1)
            {
                pfn2 = pfn1;
                break;
            }

            o = mm.FaultIn(p2, kind, out pfn2);
            if (!o.Resolved)
            {
                return Failed(o, p2);
            }

            // Faulting the second page may, in principle, have changed the first; check it again.
            var pte = mm.Pgd.Get(p1);
            if ((pte.Flags & PteFlags.Present) != 0 && (!write || pte.IsWrite) && pte.Pfn == pfn1)
            {
                break;
            }
        }

        Span<byte> buf = stackalloc byte[8];
        var off = (int)(addr - p1);
        var n1 = (int)Math.Min((ulong)size, K.PAGE_SIZE - (ulong)off);
        var contents = Machine.PageAlloc.Contents;
        if (write)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(buf, value);
            WriteBytes(mm, p1, pfn1, off, buf[..n1]);
            if (n1 < size)
            {
                WriteBytes(mm, p2, pfn2, 0, buf[n1..size]);
            }

            return new UserAccessResult(0, null, false);
        }

        buf.Clear();
        ReadBytes(contents, pfn1, off, buf[..n1]);
        if (n1 < size)
        {
            ReadBytes(contents, pfn2, 0, buf[n1..size]);
        }

        return new UserAccessResult(BinaryPrimitives.ReadUInt64LittleEndian(buf), null, false);
    }

    private UserAccessResult Failed(FaultOutcome o, ulong address)
    {
        if (o.Signo is { } sig)
        {
            ForceSigFault(sig, o.Code, address);
            return new UserAccessResult(0, LastSignal, false);
        }

        return new UserAccessResult(0, null, true);
    }

    private void ReadBytes(Mm.PageContents contents, long pfn, int off, Span<byte> dst)
    {
        if (pfn == PageTable.ZERO_PFN || !Machine.PageAlloc.IsValidPfn(pfn))
        {
            dst.Clear();
            return;
        }

        contents.Read(pfn).Slice(off, dst.Length).CopyTo(dst);
    }

    private void WriteBytes(MmStruct mm, ulong page, long pfn, int off, ReadOnlySpan<byte> src)
    {
        mm.Pgd.Entry(page).Flags |= PteFlags.Dirty;
        if (!Machine.PageAlloc.IsValidPfn(pfn))
        {
            return;
        }

        src.CopyTo(Machine.PageAlloc.Contents.Write(pfn).Slice(off, src.Length));
    }

    /// <summary>
    /// copy_from_user(to, from, n): copy user memory into a kernel buffer, taking faults as the kernel does (no
    /// signal). Returns the number of bytes NOT copied (0 on success); callers return -EFAULT when it is not 0.
    /// </summary>
    public ulong CopyFromUser(Span<byte> to, ulong from) => CopyUser(from, to, default, false);

    /// <summary>copy_to_user(to, from, n): the bytes NOT copied (0 on success).</summary>
    public ulong CopyToUser(ulong to, ReadOnlySpan<byte> from) => CopyUser(to, default, from, true);

    /// <summary>get_user() of a little-endian value of <paramref name="size"/> bytes: 0 or -EFAULT.</summary>
    public int GetUser(ulong addr, int size, out ulong value)
    {
        Span<byte> b = stackalloc byte[8];
        b.Clear();
        value = 0;
        if (size is not (1 or 2 or 4 or 8) || CopyFromUser(b[..size], addr) != 0)
        {
            return -(int)Errno.EFAULT;
        }

        value = BinaryPrimitives.ReadUInt64LittleEndian(b);
        return 0;
    }

    /// <summary>put_user() of the low <paramref name="size"/> bytes of <paramref name="value"/>: 0 or -EFAULT.</summary>
    public int PutUser(ulong addr, int size, ulong value)
    {
        Span<byte> b = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(b, value);
        return size is not (1 or 2 or 4 or 8) || CopyToUser(addr, b[..size]) != 0 ? -(int)Errno.EFAULT : 0;
    }

    private ulong CopyUser(ulong uaddr, Span<byte> to, ReadOnlySpan<byte> from, bool write)
    {
        var total = (ulong)(write ? from.Length : to.Length);
        if (Mm is not { } mm)
        {
            return total;
        }

        // access_ok(): the whole range must be below TASK_SIZE_MAX.
        if (uaddr + total < uaddr || uaddr + total > K.TASK_SIZE + K.PAGE_SIZE)
        {
            return total;
        }

        var kind = write ? AccessKind.Write : AccessKind.Read;
        ulong done = 0;
        var contents = Machine.PageAlloc.Contents;
        while (done < total)
        {
            var addr = uaddr + done;
            var page = addr & K.PAGE_MASK;
            var off = (int)(addr - page);
            var n = (int)Math.Min(total - done, K.PAGE_SIZE - (ulong)off);
            if (!mm.FaultIn(page, kind, out var pfn).Resolved)
            {
                return total - done;
            }

            if (write)
            {
                WriteBytes(mm, page, pfn, off, from.Slice((int)done, n));
            }
            else
            {
                ReadBytes(contents, pfn, off, to.Slice((int)done, n));
            }

            done += (ulong)n;
        }

        return 0;
    }
}
