namespace MmSim.Mm;

/// <summary>The quick path of the slab invariant.</summary>
public sealed partial class SlabAllocator
{
    // Numbers the quick checks; a slab or cache whose CheckMark is the current one was seen by this check
    // (slabs on a partial list get the odd number after it).
    private long _checkMark;

    /// <summary>
    /// True only when <see cref="CheckInvariants"/> would report nothing: one pass over the slabs instead of one
    /// per cache, and partial-list membership by counting (each entry a distinct slab of its cache with a free
    /// slot, as many as there are such slabs) instead of a list search per slab. Keep it in step with the full check.
    /// </summary>
    internal bool InvariantsHold()
    {
        var seen = _checkMark += 2;
        foreach (var cache in _caches)
        {
            cache.CheckMark = seen;
            cache.CheckLive = cache.CheckSlabs = cache.CheckPartial = 0;
        }

        foreach (var slab in _slabs.Values)
        {
            var cache = slab.Cache;
            if (cache.CheckMark != seen)
            {
                continue; // not a listed cache: the full check does not look at it either
            }

            var inUse = slab.Live.AsSpan().Count(true);
            ref var f = ref _pages.Frame(slab.Pfn);
            if (inUse != slab.InUse || inUse == 0 || !f.Has(PageFlags.Slab) || f.Refcount != 1)
            {
                return false;
            }

            slab.CheckMark = seen;
            cache.CheckSlabs++;
            cache.CheckLive += inUse;
            if (inUse < cache.ObjectsPerSlab)
            {
                cache.CheckPartial++;
            }
        }

        long pages = 0;
        foreach (var cache in _caches)
        {
            if (cache.CheckLive != cache.ActiveObjects || cache.CheckSlabs != cache.NumSlabs || cache.Partial.Count != cache.CheckPartial)
            {
                return false;
            }

            foreach (var slab in cache.Partial)
            {
                // A slab of this cache seen above, with a free slot, and not listed twice.
                if (slab.Cache != cache || slab.CheckMark != seen || slab.InUse >= cache.ObjectsPerSlab)
                {
                    return false;
                }

                slab.CheckMark = seen + 1;
            }

            pages += cache.CheckSlabs << cache.Order;
        }

        return pages == SlabPages;
    }
}
