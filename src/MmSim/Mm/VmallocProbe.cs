using System.Buffers.Binary;
using MmSim.Kernel;

namespace MmSim.Mm;

/// <summary>
/// Non-reporting access to the vmalloc area, for code whose faults an exception-table entry fixes up
/// (copy_from_kernel_nofault, the BPF JIT's PROBE_MEM32 loads and stores into an arena): an unmapped page makes the
/// access fail quietly instead of producing a KASAN report or an oops.
/// </summary>
public sealed partial class VmallocAllocator
{
    /// <summary>The PFN mapped at <paramref name="addr"/>, without any report; false when nothing is mapped.</summary>
    public bool TryResolve(ulong addr, out long pfn)
    {
        pfn = VmallocToPage(addr);
        return pfn >= 0;
    }

    /// <summary>
    /// A PROBE_MEM32 load: a little-endian value of 1, 2, 4 or 8 bytes at <paramref name="addr"/>. When any byte's
    /// page is unmapped the fixup runs: <paramref name="value"/> is 0 and the result false.
    /// </summary>
    public bool ProbeReadValue(ulong addr, int size, out ulong value)
    {
        value = 0;
        Span<byte> b = stackalloc byte[8];
        b.Clear();
        if (!ProbeRead(addr, b[..size]))
        {
            return false;
        }

        value = BinaryPrimitives.ReadUInt64LittleEndian(b);
        return true;
    }

    /// <summary>
    /// A PROBE_MEM32 store of the low <paramref name="size"/> bytes of <paramref name="value"/>. When any byte's
    /// page is unmapped the store is dropped (nothing is written) and the result false.
    /// </summary>
    public bool ProbeWriteValue(ulong addr, int size, ulong value)
    {
        Span<byte> b = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(b, value);
        return ProbeWrite(addr, b[..size]);
    }

    /// <summary>copy_from_kernel_nofault() over the vmalloc area: all or nothing, false when a page is unmapped.</summary>
    public bool ProbeRead(ulong addr, Span<byte> dst)
    {
        if (!AllMapped(addr, dst.Length))
        {
            return false;
        }

        var done = 0;
        while (done < dst.Length)
        {
            var a = addr + (ulong)done;
            var off = (int)(a & (K.PAGE_SIZE - 1));
            var n = Math.Min(dst.Length - done, (int)K.PAGE_SIZE - off);
            _pages.Contents.Read(_pt.Lookup(a)).Slice(off, n).CopyTo(dst.Slice(done, n));
            done += n;
        }

        return true;
    }

    /// <summary>copy_to_kernel_nofault() over the vmalloc area: all or nothing, false when a page is unmapped.</summary>
    public bool ProbeWrite(ulong addr, ReadOnlySpan<byte> src)
    {
        if (!AllMapped(addr, src.Length))
        {
            return false;
        }

        var done = 0;
        while (done < src.Length)
        {
            var a = addr + (ulong)done;
            var off = (int)(a & (K.PAGE_SIZE - 1));
            var n = Math.Min(src.Length - done, (int)K.PAGE_SIZE - off);
            var pfn = _pt.Lookup(a);
            var chunk = src.Slice(done, n);
            if (_pages.Contents.HasBuffer(pfn) || chunk.ContainsAnyExcept((byte)0))
            {
                chunk.CopyTo(_pages.Contents.Write(pfn).Slice(off, n));
            }

            done += n;
        }

        return true;
    }

    private bool AllMapped(ulong addr, int len)
    {
        if (len == 0)
        {
            return true;
        }

        var last = addr + (ulong)len - 1;
        if (last < addr || !IsVmallocAddr(addr) || !IsVmallocAddr(last))
        {
            return false;
        }

        for (var page = addr & K.PAGE_MASK; page <= last; page += K.PAGE_SIZE)
        {
            if (_pt.Lookup(page) < 0)
            {
                return false;
            }
        }

        return true;
    }
}
