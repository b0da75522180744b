namespace MmSim.Mm;

/// <summary>
/// The seam behind which vmap areas get their addresses: the kernel's busy/lazy trees plus the free-space tree
/// (free_vmap_area_root) of mm/vmalloc.c, reduced to three operations. A range is occupied from
/// <see cref="TryAlloc"/> until <see cref="Remove"/>, whether its area is busy or waiting on the lazy list.
/// This implementation keeps the occupied ranges in an address-ordered list; lookups are binary searches.
/// </summary>
internal sealed class VmapAreaTree
{
    private readonly List<VmapArea> _areas = [];

    /// <summary>Occupied ranges (busy and lazy).</summary>
    public int Count => _areas.Count;

    /// <summary>The occupied ranges in address order.</summary>
    public IReadOnlyList<VmapArea> InOrder => _areas;

    /// <summary>
    /// __alloc_vmap_area(): the lowest <paramref name="align"/>-aligned start in [vstart, vend) where
    /// <paramref name="size"/> bytes are free; the range becomes <paramref name="va"/>'s. False when nothing fits.
    /// </summary>
    public bool TryAlloc(ulong size, ulong align, ulong vstart, ulong vend, VmapArea va, out ulong addr)
    {
        addr = 0;
        if (!AlignUp(vstart, align, out var candidate))
        {
            return false;
        }

        var i = FirstEndingAfter(candidate);
        while (true)
        {
            if (candidate + size < candidate || candidate + size > vend)
            {
                return false;
            }

            if (i == _areas.Count || candidate + size <= _areas[i].VaStart)
            {
                break;
            }

            if (!AlignUp(_areas[i].VaEnd, align, out candidate))
            {
                return false;
            }

            i++;
        }

        addr = candidate;
        va.VaStart = candidate;
        va.VaEnd = candidate + size;
        _areas.Insert(i, va);
        return true;
    }

    /// <summary>__find_vmap_area(): the occupied range that contains <paramref name="addr"/>, or null.</summary>
    public VmapArea? Find(ulong addr)
    {
        var lo = 0;
        var hi = _areas.Count - 1;
        while (lo <= hi)
        {
            var mid = (lo + hi) >>> 1;
            var va = _areas[mid];
            if (addr < va.VaStart)
            {
                hi = mid - 1;
            }
            else if (addr >= va.VaEnd)
            {
                lo = mid + 1;
            }
            else
            {
                return va;
            }
        }

        return null;
    }

    /// <summary>Give <paramref name="va"/>'s range back to the free space.</summary>
    public void Remove(VmapArea va)
    {
        var i = FirstEndingAfter(va.VaStart);
        if (i == _areas.Count || !ReferenceEquals(_areas[i], va))
        {
            throw new Kernel.KernelBugException($"{va.Describe()} is not in the vmap area tree");
        }

        _areas.RemoveAt(i);
    }

    // The index of the first occupied range whose end lies above addr.
    private int FirstEndingAfter(ulong addr)
    {
        var lo = 0;
        var hi = _areas.Count;
        while (lo < hi)
        {
            var mid = (lo + hi) >>> 1;
            if (_areas[mid].VaEnd <= addr)
            {
                lo = mid + 1;
            }
            else
            {
                hi = mid;
            }
        }

        return lo;
    }

    // ALIGN(x, a) with overflow detection.
    private static bool AlignUp(ulong x, ulong align, out ulong aligned)
    {
        aligned = (x + align - 1) & ~(align - 1);
        return aligned >= x;
    }
}
