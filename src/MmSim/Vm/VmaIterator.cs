using MmSim.Kernel;

namespace MmSim.Vm;

/// <summary>
/// The VMA tree of one mm (mm->mm_mt) and the kernel's accessors to it (mm/vma.h, include/linux/mm.h):
/// vma_iter_store, vma_iter_clear_gfp, vma_find, vma_next, vma_prev, vma_lookup, find_vma, find_vma_prev,
/// find_vma_intersection, vma_iter_area_lowest/highest. Every VMA-tree access of the process layer goes through this
/// file, so the backing structure can change without touching the mm code.
/// VMAs are stored as the inclusive ranges [vm_start, vm_end - 1], as in the kernel (MM_MT_FLAGS: ALLOC_RANGE).
/// <para>
/// Backing: an ordered array of (first, last, vma) ranges with the maple tree's store semantics (a store overwrites
/// exactly its indices and truncates the neighbours it overlaps; NULL erases) and its gap search
/// (mas_empty_area / mas_empty_area_rev). It stands in for MapleTree&lt;T&gt; until that lands.
/// </para>
/// </summary>
public sealed class VmaIterator
{
    private Range[] _r = new Range[16];
    private int _n;

    internal VmaIterator()
    {
    }

    private struct Range
    {
        public ulong First;
        public ulong Last;
        public VmArea Vma;
    }

    /// <summary>Number of stored ranges (map_count when the tree is consistent).</summary>
    public int Count => _n;

    /// <summary>The stored ranges in ascending order: (first, last, vma); for validation and views.</summary>
    public IEnumerable<(ulong First, ulong Last, VmArea Vma)> Ranges()
    {
        for (var i = 0; i < _n; i++)
        {
            yield return (_r[i].First, _r[i].Last, _r[i].Vma);
        }
    }

    /// <summary>for_each_vma(): every VMA in ascending address order (a snapshot, safe against changes).</summary>
    public VmArea[] Snapshot()
    {
        var a = new VmArea[_n];
        for (var i = 0; i < _n; i++)
        {
            a[i] = _r[i].Vma;
        }

        return a;
    }

    /// <summary>vma_lookup(mm, addr): the VMA containing addr, or null.</summary>
    public VmArea? VmaLookup(ulong addr)
    {
        var i = FirstEndingAtOrAfter(addr);
        return i < _n && _r[i].First <= addr ? _r[i].Vma : null;
    }

    /// <summary>find_vma(mm, addr): the first VMA with vm_end &gt; addr, or null.</summary>
    public VmArea? FindVma(ulong addr)
    {
        var i = FirstEndingAtOrAfter(addr);
        return i < _n ? _r[i].Vma : null;
    }

    /// <summary>find_vma_prev(mm, addr, &amp;prev): find_vma(addr), and the VMA before that position.</summary>
    public VmArea? FindVmaPrev(ulong addr, out VmArea? prev)
    {
        var i = FirstEndingAtOrAfter(addr);
        prev = i > 0 ? _r[i - 1].Vma : null;
        return i < _n ? _r[i].Vma : null;
    }

    /// <summary>find_vma_intersection(mm, start, end) / vma_find(vmi, end) from start: the first VMA overlapping [start, end).</summary>
    public VmArea? FindVmaIntersection(ulong start, ulong end)
    {
        var i = FirstEndingAtOrAfter(start);
        return i < _n && _r[i].First < end ? _r[i].Vma : null;
    }

    /// <summary>vma_next() from a VMA: the VMA that follows it, or null.</summary>
    public VmArea? VmaNext(VmArea vma)
    {
        var i = FirstEndingAtOrAfter(vma.VmEnd);
        return i < _n ? _r[i].Vma : null;
    }

    /// <summary>vma_prev() from a VMA: the VMA that precedes it, or null.</summary>
    public VmArea? VmaPrev(VmArea vma) => VmaPrevAddr(vma.VmStart);

    /// <summary>The last VMA that ends at or before <paramref name="addr"/> (vma_prev of a gap at addr).</summary>
    public VmArea? VmaPrevAddr(ulong addr)
    {
        // First range whose last >= addr; the one before it ends before addr... unless addr is inside a range.
        var i = FirstEndingAtOrAfter(addr);
        if (i < _n && _r[i].First < addr)
        {
            // addr is inside range i: its predecessor is i-1.
            return i > 0 ? _r[i - 1].Vma : null;
        }

        return i > 0 ? _r[i - 1].Vma : null;
    }

    /// <summary>The first VMA starting at or after <paramref name="addr"/> (vma_next of a gap at addr).</summary>
    public VmArea? VmaNextAddr(ulong addr)
    {
        var i = FirstEndingAtOrAfter(addr);
        if (i < _n && _r[i].First < addr)
        {
            i++;
        }

        return i < _n ? _r[i].Vma : null;
    }

    /// <summary>vma_iter_store(vmi, vma): store vma over [vm_start, vm_end - 1]. 0, or -ENOMEM (never, with this backing).</summary>
    public int Store(VmArea vma)
    {
        StoreRange(vma.VmStart, vma.VmEnd - 1, vma);
        return 0;
    }

    /// <summary>vma_iter_clear_gfp(vmi, start, end, gfp): erase [start, end - 1]. 0 or -ENOMEM.</summary>
    public int ClearGfp(ulong start, ulong end)
    {
        StoreRange(start, end - 1, null);
        return 0;
    }

    /// <summary>vma_iter_prealloc(): reserve what a later store needs. 0 or -ENOMEM (never, with this backing).</summary>
    public static int Prealloc() => 0;

    /// <summary>
    /// vma_iter_area_lowest(vmi, min, max, size): mas_empty_area(min, max - 1, size). On success (0) the lowest fitting
    /// window starts at <paramref name="index"/>; -EINVAL for a bad window, -EBUSY when nothing fits.
    /// </summary>
    public int AreaLowest(ulong min, ulong max, ulong size, out ulong index)
    {
        index = 0;
        if (max == 0 || min > max - 1 || size == 0 || max - 1 - min < size - 1)
        {
            return -(int)Errno.EINVAL;
        }

        var hi = max - 1;
        for (var i = 0; i <= _n; i++)
        {
            if (!Gap(i, out var gs, out var ge) || ge < min)
            {
                continue;
            }

            if (gs > hi)
            {
                break;
            }

            var lo = Math.Max(gs, min);
            var h = Math.Min(ge, hi);
            if (h - lo >= size - 1)
            {
                index = lo;
                return 0;
            }
        }

        return -(int)Errno.EBUSY;
    }

    /// <summary>
    /// vma_iter_area_highest(vmi, min, max, size): mas_empty_area_rev(min, max - 1, size). On success (0) the highest
    /// fitting window ends at <paramref name="last"/> (inclusive); vma_iter_end() is last + 1.
    /// </summary>
    public int AreaHighest(ulong min, ulong max, ulong size, out ulong last)
    {
        last = 0;
        if (max == 0 || min > max - 1 || size == 0 || max - 1 - min < size - 1)
        {
            return -(int)Errno.EINVAL;
        }

        var hi = max - 1;
        for (var i = _n; i >= 0; i--)
        {
            if (!Gap(i, out var gs, out var ge) || gs > hi)
            {
                continue;
            }

            if (ge < min)
            {
                break;
            }

            var lo = Math.Max(gs, min);
            var h = Math.Min(ge, hi);
            if (h - lo >= size - 1)
            {
                last = h;
                return 0;
            }
        }

        return -(int)Errno.EBUSY;
    }

    // The NULL run before range i (i == _n: after the last range); false when it is empty.
    private bool Gap(int i, out ulong gs, out ulong ge)
    {
        gs = 0;
        ge = ulong.MaxValue;
        if (i > 0)
        {
            if (_r[i - 1].Last == ulong.MaxValue)
            {
                return false;
            }

            gs = _r[i - 1].Last + 1;
        }

        if (i < _n)
        {
            if (_r[i].First == 0)
            {
                return false;
            }

            ge = _r[i].First - 1;
        }

        return gs <= ge;
    }

    // Index of the first range whose Last >= addr (i.e. whose vm_end > addr); _n when none.
    private int FirstEndingAtOrAfter(ulong addr)
    {
        int lo = 0, hi = _n;
        while (lo < hi)
        {
            var mid = (lo + hi) >>> 1;
            if (_r[mid].Last < addr)
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

    // mas_store over [first, last]: truncate or split what it overlaps, then insert (or not, for NULL).
    private void StoreRange(ulong first, ulong last, VmArea? vma)
    {
        if (first > last)
        {
            throw new KernelBugException($"store of an empty range [{first:x}, {last:x}]");
        }

        var i = FirstEndingAtOrAfter(first);

        // A range that starts before first and ends after last is split in two.
        if (i < _n && _r[i].First < first && _r[i].Last > last)
        {
            var right = _r[i];
            right.First = last + 1;
            _r[i].Last = first - 1;
            Insert(i + 1, right);
            i++;
        }
        else if (i < _n && _r[i].First < first)
        {
            // Overlaps on the left: keep [a, first-1].
            _r[i].Last = first - 1;
            i++;
        }

        // Remove every range fully inside [first, last]; truncate one that sticks out on the right.
        var j = i;
        while (j < _n && _r[j].Last <= last)
        {
            j++;
        }

        if (j < _n && _r[j].First <= last)
        {
            _r[j].First = last + 1;
        }

        RemoveRange(i, j - i);
        if (vma is not null)
        {
            Insert(i, new Range { First = first, Last = last, Vma = vma });
        }
    }

    private void Insert(int at, Range r)
    {
        if (_n == _r.Length)
        {
            Array.Resize(ref _r, _n * 2);
        }

        Array.Copy(_r, at, _r, at + 1, _n - at);
        _r[at] = r;
        _n++;
    }

    private void RemoveRange(int at, int count)
    {
        if (count == 0)
        {
            return;
        }

        Array.Copy(_r, at + count, _r, at, _n - at - count);
        _n -= count;
        Array.Clear(_r, _n, count);
    }

    /// <summary>__mt_destroy(): drop every range.</summary>
    internal void Destroy()
    {
        Array.Clear(_r, 0, _n);
        _n = 0;
    }
}
