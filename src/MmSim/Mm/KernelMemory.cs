using System.Buffers.Binary;
using MmSim.Kernel;

namespace MmSim.Mm;

/// <summary>
/// Kernel loads and stores at kernel virtual addresses: the direct map (slab objects, pages) and, through the
/// resolver that the vmalloc layer installs, the vmalloc area. Every access is checked the way KASAN and the
/// page-fault handler would check it: freed or out-of-bounds memory is reported, and the access does not happen.
/// </summary>
public sealed class KernelMemory
{
    private readonly PageAllocator _pages;
    private readonly SlabAllocator _slab;
    private readonly KernelReports _reports;

    internal KernelMemory(PageAllocator pages, SlabAllocator slab, KernelReports reports)
    {
        _pages = pages;
        _slab = slab;
        _reports = reports;
    }

    /// <summary>
    /// Resolves a vmalloc-range address to its PFN through the kernel page table (vmalloc_to_pfn), or -1 when no
    /// page is mapped there; installed by the vmalloc layer.
    /// </summary>
    public Func<ulong, long>? VmallocToPfn { get; set; }

    /// <summary>Copy kernel memory at <paramref name="addr"/> into <paramref name="dst"/>; false after a report.</summary>
    public bool Read(ulong addr, Span<byte> dst, string function)
    {
        var done = 0;
        while (done < dst.Length)
        {
            var a = addr + (ulong)done;
            var off = (int)(a & (K.PAGE_SIZE - 1));
            var n = Math.Min(dst.Length - done, (int)K.PAGE_SIZE - off);
            if (!Resolve(a, n, function, out var pfn))
            {
                return false;
            }

            _pages.Contents.Read(pfn).Slice(off, n).CopyTo(dst.Slice(done, n));
            done += n;
        }

        return true;
    }

    /// <summary>Copy <paramref name="src"/> to kernel memory at <paramref name="addr"/>; false after a report.</summary>
    public bool Write(ulong addr, ReadOnlySpan<byte> src, string function)
    {
        var done = 0;
        while (done < src.Length)
        {
            var a = addr + (ulong)done;
            var off = (int)(a & (K.PAGE_SIZE - 1));
            var n = Math.Min(src.Length - done, (int)K.PAGE_SIZE - off);
            if (!Resolve(a, n, function, out var pfn))
            {
                return false;
            }

            var chunk = src.Slice(done, n);
            if (_pages.Contents.HasBuffer(pfn) || chunk.ContainsAnyExcept((byte)0))
            {
                chunk.CopyTo(_pages.Contents.Write(pfn).Slice(off, n));
            }

            done += n;
        }

        return true;
    }

    /// <summary>A little-endian load of 1, 2, 4 or 8 bytes, zero-extended.</summary>
    public bool ReadValue(ulong addr, int size, string function, out ulong value)
    {
        Span<byte> b = stackalloc byte[8];
        b.Clear();
        var ok = Read(addr, b[..size], function);
        value = ok ? BinaryPrimitives.ReadUInt64LittleEndian(b) : 0;
        return ok;
    }

    /// <summary>A little-endian store of the low 1, 2, 4 or 8 bytes of <paramref name="value"/>.</summary>
    public bool WriteValue(ulong addr, int size, ulong value, string function)
    {
        Span<byte> b = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(b, value);
        return Write(addr, b[..size], function);
    }

    private bool Resolve(ulong addr, int len, string function, out long pfn)
    {
        if (addr >= K.VMALLOC_START && addr <= K.VMALLOC_END)
        {
            pfn = VmallocToPfn?.Invoke(addr & K.PAGE_MASK) ?? -1;
            if (pfn < 0)
            {
                _reports.ReportKasan(KasanBugType.VmallocOutOfBounds, function,
                    $"access of {len} bytes at 0x{addr:x}: no page mapped in the vmalloc area");
                return false;
            }

            return true;
        }

        if (!_slab.TryVirtToPfn(addr, out pfn))
        {
            _reports.ReportKasan(KasanBugType.WildMemoryAccess, function, $"access of {len} bytes at 0x{addr:x}");
            return false;
        }

        switch (_slab.LookupSlab(pfn, addr, out var cache, out var objStart, out var requested))
        {
            case SlabLookup.Live:
                if (addr + (ulong)len > objStart + (ulong)requested)
                {
                    _reports.ReportKasan(KasanBugType.SlabOutOfBounds, function,
                        $"access of {len} bytes at 0x{addr:x}, {addr - objStart} bytes into a {requested}-byte region of a {cache!.Name} object");
                    return false;
                }

                return true;
            case SlabLookup.Freed:
                _reports.ReportKasan(KasanBugType.SlabUseAfterFree, function,
                    $"access of {len} bytes at 0x{addr:x} in a freed {cache!.Name} object");
                return false;
            case SlabLookup.OutOfBounds:
                _reports.ReportKasan(KasanBugType.SlabOutOfBounds, function, $"access at 0x{addr:x} past the last {cache!.Name} object");
                return false;
        }

        if (_pages.PageRefCount(pfn) <= 0)
        {
            _reports.ReportKasan(KasanBugType.UseAfterFree, function, $"access of {len} bytes at 0x{addr:x} in a free page");
            return false;
        }

        return true;
    }
}
