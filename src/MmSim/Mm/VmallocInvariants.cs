using MmSim.Kernel;

namespace MmSim.Mm;

/// <summary>The vmalloc area's invariants, registered on machine.Invariants as "vmalloc".</summary>
public sealed partial class VmallocAllocator
{
    /// <summary>
    /// Areas disjoint, aligned and inside [VMALLOC_START, VMALLOC_END); busy areas point at live vm_structs that
    /// point back; guard pages and lazy ranges unmapped; every present PTE inside a busy area's usable range and
    /// backed by a live page, which for a VM_ALLOC area is its own page i, flagged PageFlags.Vmalloc; counters
    /// (busy, lazy, vmap_lazy_nr, nr_vmalloc_pages) agree with the areas and with the flagged frames.
    /// Quick path: VmallocInvariantsQuick.cs; keep both in step.
    /// </summary>
    internal void CheckInvariants(List<string> violations)
    {
        ulong prevEnd = 0;
        int busy = 0, lazy = 0;
        long lazyPages = 0, vmallocPages = 0;
        foreach (var va in _tree.InOrder)
        {
            if (va.VaStart < K.VMALLOC_START || va.VaEnd > K.VMALLOC_END || va.VaEnd <= va.VaStart)
            {
                violations.Add($"{va.Describe()} lies outside [VMALLOC_START, VMALLOC_END)");
            }

            if (!K.PageAligned(va.VaStart) || !K.PageAligned(va.VaEnd))
            {
                violations.Add($"{va.Describe()} is not page aligned");
            }

            if (va.VaStart < prevEnd)
            {
                violations.Add($"{va.Describe()} overlaps the area before it (which ends at 0x{prevEnd:x})");
            }

            prevEnd = va.VaEnd;
            if (va.Freed)
            {
                violations.Add($"{va.Describe()} is in the tree but its vmap_area object was freed");
            }

            if (va.Lazy)
            {
                lazy++;
                lazyPages += (long)(va.Size >> K.PAGE_SHIFT);
                if (va.Vm is not null)
                {
                    violations.Add($"lazy {va.Describe()} still points at a vm_struct");
                }

                _pt.ForEachPresent(va.VaStart, va.VaEnd, (a, _) => violations.Add($"lazy {va.Describe()} still maps 0x{a:x}"));
                continue;
            }

            busy++;
            if (va.Vm is not { } vm)
            {
                violations.Add($"busy {va.Describe()} has no vm_struct");
                continue;
            }

            if (vm.Freed || !ReferenceEquals(vm.Va, va) || vm.Addr != va.VaStart || vm.Size != va.Size)
            {
                violations.Add($"busy {va.Describe()} and its {vm.Describe()} disagree (freed={vm.Freed})");
            }

            var usableEnd = vm.Addr + vm.GetVmAreaSize;
            _pt.ForEachPresent(usableEnd, va.VaEnd, (a, _) => violations.Add($"guard page 0x{a:x} of {vm.Describe()} is mapped"));
            if ((vm.Flags & VmStructFlags.VM_ALLOC) != 0)
            {
                vmallocPages += vm.NrPages;
                CheckVmallocPages(vm, usableEnd, violations);
            }
            else
            {
                _pt.ForEachPresent(vm.Addr, usableEnd, (a, pfn) =>
                {
                    if (!_pages.IsValidPfn(pfn) || _pages.PageRefCount(pfn) <= 0)
                    {
                        violations.Add($"PTE 0x{a:x} of {vm.Describe()} maps pfn 0x{pfn:x}, which is not a live page");
                    }
                });
            }
        }

        long ptesInAreas = 0;
        foreach (var va in _tree.InOrder)
        {
            _pt.ForEachPresent(va.VaStart, va.VaEnd, (_, _) => ptesInAreas++);
        }

        if (ptesInAreas != _pt.NrMapped)
        {
            violations.Add($"{_pt.NrMapped - ptesInAreas} present PTEs lie outside every vmap area");
        }

        if (busy != NrBusyAreas || lazy != NrLazyAreas || lazyPages != VmapLazyNr)
        {
            violations.Add($"counters busy={NrBusyAreas} lazy={NrLazyAreas} vmap_lazy_nr={VmapLazyNr}, counted {busy}/{lazy}/{lazyPages}");
        }

        if (vmallocPages != NrVmallocPages)
        {
            violations.Add($"nr_vmalloc_pages {NrVmallocPages} but VM_ALLOC areas hold {vmallocPages} pages");
        }

        long flagged = 0;
        for (long pfn = 0; pfn < _pages.TotalPages; pfn++)
        {
            if (_pages.Frame(pfn).Has(PageFlags.Vmalloc))
            {
                flagged++;
            }
        }

        if (flagged != NrVmallocPages)
        {
            violations.Add($"{flagged} frames are flagged Vmalloc but VmallocUsed counts {NrVmallocPages} pages");
        }

        foreach (var v in _tree.Validate())
        {
            violations.Add("vmap area index: " + v);
        }

        if (_vmapAreaCachep.ActiveObjects != _tree.Count)
        {
            violations.Add($"vmap_area cache holds {_vmapAreaCachep.ActiveObjects} objects for {_tree.Count} areas");
        }
    }

    private void CheckVmallocPages(VmStruct vm, ulong usableEnd, List<string> violations)
    {
        if (vm.NrPages != (int)(vm.GetVmAreaSize >> K.PAGE_SHIFT))
        {
            violations.Add($"{vm.Describe()} holds {vm.NrPages} pages for {vm.GetVmAreaSize} bytes");
        }

        for (var i = 0; i < vm.NrPages; i++)
        {
            var pfn = vm.Pages[i];
            var a = vm.Addr + ((ulong)i << K.PAGE_SHIFT);
            if (!_pages.IsValidPfn(pfn) || _pages.PageRefCount(pfn) <= 0 || !_pages.Frame(pfn).Has(PageFlags.Vmalloc))
            {
                violations.Add($"page {i} (pfn 0x{pfn:x}) of {vm.Describe()} is not a live Vmalloc page");
            }

            if (_pt.Lookup(a) != pfn)
            {
                violations.Add($"PTE 0x{a:x} of {vm.Describe()} maps 0x{_pt.Lookup(a):x}, not its page 0x{pfn:x}");
            }
        }

        _pt.ForEachPresent(vm.Addr + ((ulong)vm.NrPages << K.PAGE_SHIFT), usableEnd,
            (a, _) => violations.Add($"PTE 0x{a:x} of {vm.Describe()} lies past its pages"));
    }
}
