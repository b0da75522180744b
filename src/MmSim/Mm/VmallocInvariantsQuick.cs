using MmSim.Kernel;

namespace MmSim.Mm;

/// <summary>The quick path of the vmalloc invariant.</summary>
public sealed partial class VmallocAllocator
{
    /// <summary>
    /// True only when <see cref="CheckInvariants"/> would report nothing: the same conditions without the messages
    /// and without allocation; present PTEs are counted per range
    /// (<see cref="VmallocPageTable.CountPresent"/>) and the Vmalloc-flagged frames with <see cref="FrameScan"/>.
    /// Keep it in step with the full check.
    /// </summary>
    // The pages of VM_ALLOC areas, one bit per frame (quick path scratch, allocated on first use).
    private ulong[]? _quickMarks;

    internal bool InvariantsHold()
    {
        if (!FrameScan.Usable)
        {
            return false;
        }

        Array.Clear(_quickMarks ??= new ulong[(_pages.TotalPages + 63) >> 6]);

        ulong prevEnd = 0;
        int busy = 0, lazy = 0;
        long lazyPages = 0, vmallocPages = 0, ptesInAreas = 0;
        foreach (var r in _tree.Ranges)
        {
            if (r.Entry is not { } va || va.VaStart < K.VMALLOC_START || va.VaEnd > K.VMALLOC_END || va.VaEnd <= va.VaStart ||
                !K.PageAligned(va.VaStart) || !K.PageAligned(va.VaEnd) || va.VaStart < prevEnd || va.Freed)
            {
                return false;
            }

            prevEnd = va.VaEnd;
            var present = _pt.CountPresent(va.VaStart, va.VaEnd, null, out _);
            ptesInAreas += present;
            if (va.Lazy)
            {
                lazy++;
                lazyPages += (long)(va.Size >> K.PAGE_SHIFT);
                if (va.Vm is not null || present != 0)
                {
                    return false;
                }

                continue;
            }

            busy++;
            if (va.Vm is not { } vm || vm.Freed || !ReferenceEquals(vm.Va, va) || vm.Addr != va.VaStart || vm.Size != va.Size)
            {
                return false;
            }

            var usableEnd = vm.Addr + vm.GetVmAreaSize;
            if (_pt.CountPresent(usableEnd, va.VaEnd, null, out _) != 0)
            {
                return false;
            }

            if ((vm.Flags & VmStructFlags.VM_ALLOC) != 0)
            {
                vmallocPages += vm.NrPages;
                if (!VmallocPagesHold(vm, usableEnd))
                {
                    return false;
                }
            }
            else
            {
                _pt.CountPresent(vm.Addr, usableEnd, _pages, out var allLive);
                if (!allLive)
                {
                    return false;
                }
            }
        }

        return ptesInAreas == _pt.NrMapped && busy == NrBusyAreas && lazy == NrLazyAreas && lazyPages == VmapLazyNr &&
            vmallocPages == NrVmallocPages &&
            FrameScan.NoneOutside(FrameScan.Frames(_pages), _quickMarks!, (ulong)PageFlags.Vmalloc << FrameScan.FlagsShift) &&
            _vmapAreaCachep.ActiveObjects == _tree.Count && _tree.Valid();
    }

    /// <summary>The vmap areas, busy and lazy, in address order (tests).</summary>
    internal IEnumerable<VmapArea> Areas => _tree.InOrder;

    private bool VmallocPagesHold(VmStruct vm, ulong usableEnd)
    {
        if (vm.NrPages != (int)(vm.GetVmAreaSize >> K.PAGE_SHIFT))
        {
            return false;
        }

        for (var i = 0; i < vm.NrPages; i++)
        {
            var pfn = vm.Pages[i];
            if (!_pages.IsValidPfn(pfn) || !FrameScan.TestAndSet(_quickMarks!, pfn) || _pages.PageRefCount(pfn) <= 0 ||
                !_pages.Frame(pfn).Has(PageFlags.Vmalloc) ||
                _pt.Lookup(vm.Addr + ((ulong)i << K.PAGE_SHIFT)) != pfn)
            {
                return false;
            }
        }

        return _pt.CountPresent(vm.Addr + ((ulong)vm.NrPages << K.PAGE_SHIFT), usableEnd, null, out _) == 0;
    }
}
