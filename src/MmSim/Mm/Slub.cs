using System.Numerics;
using System.Runtime.CompilerServices;
using Microsoft.Extensions.Logging;
using MmSim.Kernel;

namespace MmSim.Mm;

/// <summary>
/// The SLUB allocator (mm/slub.c, mm/slab_common.c): kmalloc size classes up to KMALLOC_MAX_CACHE_SIZE, larger
/// kmalloc straight from the page allocator up to KMALLOC_MAX_SIZE, and named caches. Slabs are real page
/// allocations; an empty slab goes back to the page allocator at once, so free page counts are exact.
/// Objects are addressed in the direct map (PAGE_OFFSET + pfn * PAGE_SIZE + offset).
/// </summary>
public sealed partial class SlabAllocator
{
    /// <summary>ZERO_SIZE_PTR: what kmalloc(0) returns.</summary>
    public const ulong ZERO_SIZE_PTR = 16;

    /// <summary>KMALLOC_MAX_CACHE_SIZE: 8 KiB (two pages).</summary>
    public const ulong KMALLOC_MAX_CACHE_SIZE = 2 * K.PAGE_SIZE;

    /// <summary>KMALLOC_MAX_SIZE: 1 &lt;&lt; (MAX_PAGE_ORDER + PAGE_SHIFT) = 4 MiB.</summary>
    public const ulong KMALLOC_MAX_SIZE = 1UL << (K.MAX_PAGE_ORDER + K.PAGE_SHIFT);

    private const int MAX_OBJS_PER_PAGE = 32767;
    private const int SlubMaxOrder = K.PAGE_ALLOC_COSTLY_ORDER;

    private static readonly int[] KmallocSizes = [8, 16, 32, 64, 96, 128, 192, 256, 512, 1024, 2048, 4096, 8192];

    private readonly PageAllocator _pages;
    private readonly MemCgroup _memcg;
    private readonly FaultInjection _faults;
    private readonly KernelReports _reports;
    private readonly ILogger _log;
    private readonly int _cpus;
    private readonly Dictionary<long, Slab> _slabs = [];
    private readonly List<KmemCache> _caches = [];
    private readonly KmemCache[] _kmalloc;
    private readonly KmemCache[] _kmallocCg;

    internal SlabAllocator(PageAllocator pages, MemCgroup memcg, FaultInjection faults, KernelReports reports, ILogger log, int cpus)
    {
        _pages = pages;
        _memcg = memcg;
        _faults = faults;
        _reports = reports;
        _log = log;
        _cpus = Math.Max(1, cpus);
        _kmalloc = KmallocSizes.Select(s => Create($"kmalloc-{SizeName(s)}", s, 8, SlabFlags.None)).ToArray();
        _kmallocCg = KmallocSizes.Select(s => Create($"kmalloc-cg-{SizeName(s)}", s, 8, SlabFlags.SLAB_ACCOUNT)).ToArray();
    }

    /// <summary>Every cache, in creation order (/proc/slabinfo order).</summary>
    public IReadOnlyList<KmemCache> Caches => _caches;

    /// <summary>Frames held by slabs (meminfo "Slab").</summary>
    public long SlabPages { get; private set; }

    /// <summary>Frames held by large kmalloc allocations.</summary>
    public long LargeKmallocPages { get; private set; }

    /// <summary>kmem_cache_create(): a named cache of <paramref name="size"/>-byte objects.</summary>
    public KmemCache KmemCacheCreate(string name, int size, int align = 8, SlabFlags flags = SlabFlags.None)
    {
        if (size <= 0 || size > (int)KMALLOC_MAX_SIZE || !BitOperations.IsPow2(align))
        {
            throw new KernelBugException($"kmem_cache_create({name}, {size}, {align}): invalid arguments");
        }

        return Create(name, size, align, flags);
    }

    private KmemCache Create(string name, int size, int align, SlabFlags flags)
    {
        if ((flags & SlabFlags.SLAB_HWCACHE_ALIGN) != 0)
        {
            align = Math.Max(align, 64);
        }

        var stride = (size + align - 1) / align * align;
        var cache = new KmemCache(name, size, stride, CalculateOrder(stride), flags);
        _caches.Add(cache);
        return cache;
    }

    // calculate_order() / calc_slab_order() (mm/slub.c)
    private int CalculateOrder(int size)
    {
        var minObjects = 4 * (32 - BitOperations.LeadingZeroCount((uint)_cpus) + 1);
        var maxObjects = Math.Max((int)((K.PAGE_SIZE << SlubMaxOrder) / (ulong)size), 1);
        minObjects = Math.Min(minObjects, maxObjects);
        var minOrder = K.GetOrder((ulong)(minObjects * size));
        if ((int)((K.PAGE_SIZE << minOrder) / (ulong)size) > MAX_OBJS_PER_PAGE)
        {
            return K.GetOrder((ulong)size * MAX_OBJS_PER_PAGE) - 1;
        }

        for (var fraction = 16; fraction > 1; fraction /= 2)
        {
            var order = minOrder;
            for (; order <= SlubMaxOrder; order++)
            {
                var slabSize = K.PAGE_SIZE << order;
                if (slabSize % (ulong)size <= slabSize / (ulong)fraction)
                {
                    break;
                }
            }

            if (order <= SlubMaxOrder)
            {
                return order;
            }
        }

        return K.GetOrder((ulong)size);
    }

    private static string SizeName(int s) => s >= 1024 ? $"{s / 1024}k" : s.ToString();

    /// <summary>kmalloc_slab(): the cache that serves a request of <paramref name="size"/> bytes (size ≤ 8 KiB).</summary>
    public KmemCache KmallocSlab(ulong size, Gfp gfp)
    {
        var table = (gfp & Gfp.__GFP_ACCOUNT) != 0 ? _kmallocCg : _kmalloc;
        for (var i = 0; i < KmallocSizes.Length; i++)
        {
            if (size <= (ulong)KmallocSizes[i])
            {
                return table[i];
            }
        }

        throw new KernelBugException($"kmalloc_slab({size}) above KMALLOC_MAX_CACHE_SIZE");
    }

    /// <summary>kmalloc(size, gfp): a kernel address, 0 (NULL) on failure, ZERO_SIZE_PTR for size 0.</summary>
    public ulong Kmalloc(ulong size, Gfp gfp, [CallerMemberName] string caller = "")
    {
        if (size == 0)
        {
            return ZERO_SIZE_PTR;
        }

        if (size > KMALLOC_MAX_CACHE_SIZE)
        {
            return KmallocLarge(size, gfp, caller);
        }

        var cache = KmallocSlab(size, gfp);
        var addr = SlabAlloc(cache, gfp, caller, (int)size, out _);
        if (addr != 0)
        {
            Tracepoints.kmalloc(_log, caller, addr, size, (ulong)cache.Size, gfp);
        }

        return addr;
    }

    /// <summary>kzalloc(): kmalloc with __GFP_ZERO.</summary>
    public ulong Kzalloc(ulong size, Gfp gfp, [CallerMemberName] string caller = "") => Kmalloc(size, gfp | Gfp.__GFP_ZERO, caller);

    // __kmalloc_large_node(): compound pages from the page allocator.
    private ulong KmallocLarge(ulong size, Gfp gfp, string caller)
    {
        var order = size > KMALLOC_MAX_SIZE ? K.MAX_PAGE_ORDER + 1 : K.GetOrder(size);
        var pfn = _pages.AllocPages(gfp | Gfp.__GFP_COMP, order, caller);
        if (pfn == PageAllocator.NoPage)
        {
            return 0;
        }

        LargeKmallocPages += 1L << order;
        var addr = PfnToVirt(pfn);
        Tracepoints.kmalloc(_log, caller, addr, size, K.PAGE_SIZE << order, gfp);
        return addr;
    }

    /// <summary>kfree(): NULL and ZERO_SIZE_PTR are ignored; a bad or repeated free is reported as KASAN would.</summary>
    public void Kfree(ulong addr, [CallerMemberName] string caller = "")
    {
        if (addr <= ZERO_SIZE_PTR)
        {
            return;
        }

        if (!TryVirtToPfn(addr, out var pfn))
        {
            _reports.ReportKasan(KasanBugType.InvalidFree, "kfree", $"0x{addr:x} is not a direct-map address (from {caller})");
            return;
        }

        var head = _pages.CompoundHead(pfn);
        if (_slabs.TryGetValue(head, out var slab))
        {
            Tracepoints.kfree(_log, caller, addr);
            SlabFree(slab, addr, caller);
            return;
        }

        ref var f = ref _pages.Frame(head);
        if (f.Has(PageFlags.Head) && PfnToVirt(head) == addr && f.Refcount > 0)
        {
            Tracepoints.kfree(_log, caller, addr);
            LargeKmallocPages -= 1L << f.Order;
            _pages.PutPage(head, caller);
            return;
        }

        _reports.ReportKasan(f.Refcount == 0 ? KasanBugType.DoubleFree : KasanBugType.InvalidFree, "kfree",
            $"0x{addr:x} is not an allocated kmalloc object (from {caller})");
    }

    /// <summary>ksize(): the usable size of a kmalloc object.</summary>
    public ulong Ksize(ulong addr)
    {
        if (addr <= ZERO_SIZE_PTR || !TryVirtToPfn(addr, out var pfn))
        {
            return 0;
        }

        var head = _pages.CompoundHead(pfn);
        if (_slabs.TryGetValue(head, out var slab))
        {
            return (ulong)slab.Cache.Size;
        }

        ref var f = ref _pages.Frame(head);
        return f.Has(PageFlags.Head) ? K.PAGE_SIZE << f.Order : 0;
    }

    /// <summary>kmem_cache_alloc(): one object's address, or 0.</summary>
    public ulong KmemCacheAlloc(KmemCache cache, Gfp gfp, [CallerMemberName] string caller = "")
    {
        var addr = SlabAlloc(cache, gfp, caller, cache.ObjectSize, out _);
        if (addr != 0)
        {
            Tracepoints.kmem_cache_alloc(_log, caller, addr, cache.Name, cache.Size, gfp);
        }

        return addr;
    }

    /// <summary>kmem_cache_free().</summary>
    public void KmemCacheFree(KmemCache cache, ulong addr, [CallerMemberName] string caller = "") =>
        KmemCacheFreeOne(cache, addr, caller);

    /// <summary>kmem_cache_free(); returns the slab the object went back to (null if none).</summary>
    private Slab? KmemCacheFreeOne(KmemCache cache, ulong addr, string caller)
    {
        if (addr == 0)
        {
            return null;
        }

        if (!TryVirtToPfn(addr, out var pfn) || !_slabs.TryGetValue(_pages.CompoundHead(pfn), out var slab))
        {
            _reports.ReportKasan(KasanBugType.InvalidFree, "kmem_cache_free", $"0x{addr:x} is not a slab object (from {caller})");
            return null;
        }

        if (slab.Cache != cache)
        {
            // cache_from_obj(): "cache_from_obj: Wrong slab cache" WARN, then frees to the right cache.
            _reports.WarnOnOnce(true, "cache_from_obj", $"Wrong slab cache. {cache.Name} but object is from {slab.Cache.Name}");
        }

        Tracepoints.kmem_cache_free(_log, caller, addr, slab.Cache.Name);
        SlabFree(slab, addr, caller);
        return slab;
    }

    /// <summary>
    /// kmem_cache_free_bulk() as <paramref name="addrs"/>.Length kmem_cache_free() calls in order (the same checks,
    /// tracepoints and frees); objects that share the previous object's slab skip the page-to-slab lookup, as
    /// build_detached_freelist() groups them.
    /// </summary>
    public void KmemCacheFreeBulk(KmemCache cache, ReadOnlySpan<ulong> addrs, [CallerMemberName] string caller = "")
    {
        Slab? last = null;
        ulong lastStart = 0;
        ulong lastEnd = 0;
        foreach (var addr in addrs)
        {
            if (last is null || addr < lastStart || addr >= lastEnd)
            {
                last = KmemCacheFreeOne(cache, addr, caller);
                if (last is { } s && s.Cache == cache && s.InUse > 0)
                {
                    last = s;
                    lastStart = PfnToVirt(s.Pfn);
                    lastEnd = lastStart + (K.PAGE_SIZE << s.Cache.Order);
                }
                else
                {
                    last = null;
                }

                continue;
            }

            Tracepoints.kmem_cache_free(_log, caller, addr, cache.Name);
            SlabFree(last, addr, caller);
            if (last.InUse == 0)
            {
                last = null;
            }
        }
    }

    /// <summary>kmem_cache_alloc() for a typed kernel object: the object takes the slot, or null on failure.</summary>
    public T? AllocObject<T>(KmemCache cache, Gfp gfp, Func<T> create, [CallerMemberName] string caller = "")
        where T : SlabObject
    {
        var addr = SlabAlloc(cache, gfp, caller, cache.ObjectSize, out var slab);
        if (addr == 0)
        {
            return null;
        }

        Tracepoints.kmem_cache_alloc(_log, caller, addr, cache.Name, cache.Size, gfp);
        var obj = create();
        obj.KernelAddress = addr;
        obj.Cache = cache;
        slab!.Objects[SlotIndex(slab, addr)] = obj;
        return obj;
    }

    /// <summary>kmem_cache_free() of a typed kernel object; a second free is a KASAN double-free.</summary>
    public void FreeObject(SlabObject obj, [CallerMemberName] string caller = "")
    {
        if (obj.Freed)
        {
            _reports.ReportKasan(KasanBugType.DoubleFree, caller, $"{obj.Describe()} was already freed by {obj.FreedBy}");
            return;
        }

        if (obj.Cache is null)
        {
            throw new KernelBugException($"{obj.Describe()} was never allocated from a slab");
        }

        KmemCacheFree(obj.Cache, obj.KernelAddress, caller);
    }

    private ulong SlabAlloc(KmemCache cache, Gfp gfp, string caller, int requested, out Slab? slab)
    {
        slab = null;

        // slab_pre_alloc_hook() -> should_failslab()
        if (_faults.ShouldFailSlab(gfp, (ulong)cache.ObjectSize, caller))
        {
            return 0;
        }

        var accounted = (cache.Flags & SlabFlags.SLAB_ACCOUNT) != 0 || (gfp & Gfp.__GFP_ACCOUNT) != 0;
        if (accounted && !_memcg.TryCharge((ulong)cache.Size))
        {
            Tracepoints.memcg_charge_fail(_log, (ulong)cache.Size, _memcg.Usage, _memcg.Limit);
            return 0;
        }

        if (cache.Partial.Count > 0)
        {
            slab = cache.Partial[0];
        }
        else
        {
            // allocate_slab(): the slab's pages, not themselves charged (objects are).
            var pageGfp = (gfp & (Gfp.__GFP_RECLAIM | Gfp.__GFP_IO | Gfp.__GFP_FS | Gfp.__GFP_NOWARN | Gfp.__GFP_NORETRY |
                                  Gfp.__GFP_RETRY_MAYFAIL | Gfp.__GFP_NOFAIL | Gfp.__GFP_HIGH)) | Gfp.__GFP_COMP;
            var pfn = _pages.AllocPages(pageGfp, cache.Order, caller);
            if (pfn == PageAllocator.NoPage)
            {
                if (accounted)
                {
                    _memcg.Uncharge((ulong)cache.Size);
                }

                return 0;
            }

            if (cache.Spare is { } spare)
            {
                cache.Spare = null;
                spare.Reset(pfn);
                slab = spare;
            }
            else
            {
                slab = new Slab(cache, pfn);
            }

            for (var i = 0L; i < 1L << cache.Order; i++)
            {
                _pages.Frame(pfn + i).Flags |= PageFlags.Slab;
            }

            _slabs.Add(pfn, slab);
            cache.Partial.Add(slab);
            cache.NumSlabs++;
            SlabPages += 1L << cache.Order;
        }

        var idx = slab.FirstFree();
        slab.Live[idx] = true;
        slab.Charged[idx] = accounted;
        slab.Requested[idx] = requested;
        slab.InUse++;
        cache.ActiveObjects++;
        if (slab.InUse == cache.ObjectsPerSlab)
        {
            cache.Partial.Remove(slab);
        }

        var addr = PfnToVirt(slab.Pfn) + (ulong)(idx * cache.Size);
        if ((gfp & Gfp.__GFP_ZERO) != 0)
        {
            ClearObject(slab, idx);
        }

        return addr;
    }

    private void SlabFree(Slab slab, ulong addr, string caller)
    {
        var cache = slab.Cache;
        var offset = addr - PfnToVirt(slab.Pfn);
        if (offset % (ulong)cache.Size != 0 || offset / (ulong)cache.Size >= (ulong)cache.ObjectsPerSlab)
        {
            _reports.ReportKasan(KasanBugType.InvalidFree, caller, $"0x{addr:x} is not the start of a {cache.Name} object");
            return;
        }

        var idx = (int)(offset / (ulong)cache.Size);
        if (!slab.Live[idx])
        {
            var obj = slab.Objects[idx];
            _reports.ReportKasan(KasanBugType.DoubleFree, caller,
                $"0x{addr:x} in {cache.Name} was already freed{(obj?.FreedBy is { } by ? " by " + by : "")}");
            return;
        }

        if (slab.Objects[idx] is { } o)
        {
            o.Freed = true;
            o.FreedBy = caller;
            slab.Objects[idx] = null;
        }

        slab.Live[idx] = false;
        ClearObject(slab, idx);
        if (slab.Charged[idx])
        {
            slab.Charged[idx] = false;
            _memcg.Uncharge((ulong)cache.Size);
        }

        cache.ActiveObjects--;
        if (slab.InUse-- == cache.ObjectsPerSlab)
        {
            cache.Partial.Add(slab);
        }

        if (slab.InUse == 0)
        {
            // discard_slab(): an empty slab goes straight back to the page allocator.
            cache.Partial.Remove(slab);
            cache.NumSlabs--;
            _slabs.Remove(slab.Pfn);
            SlabPages -= 1L << cache.Order;
            for (var i = 0L; i < 1L << cache.Order; i++)
            {
                _pages.Frame(slab.Pfn + i).Flags &= ~PageFlags.Slab;
            }

            _pages.PutPage(slab.Pfn, "discard_slab");
            cache.Spare = slab;
        }
    }

    private void ClearObject(Slab slab, int idx)
    {
        var start = (long)idx * slab.Cache.Size;
        var len = slab.Cache.Size;
        while (len > 0)
        {
            var pfn = slab.Pfn + (start >> K.PAGE_SHIFT);
            var off = (int)(start & (long)(K.PAGE_SIZE - 1));
            var n = Math.Min(len, (int)K.PAGE_SIZE - off);
            if (_pages.Contents.HasBuffer(pfn))
            {
                _pages.Contents.Write(pfn).Slice(off, n).Clear();
            }

            start += n;
            len -= n;
        }
    }

    private static int SlotIndex(Slab slab, ulong addr) => (int)((addr - PfnToVirt(slab.Pfn)) / (ulong)slab.Cache.Size);

    /// <summary>Whether <paramref name="addr"/> lies in a live slab object; sets the object bounds when it does.</summary>
    internal SlabLookup LookupSlab(long pfn, ulong addr, out KmemCache? cache, out ulong objStart, out int requested)
    {
        cache = null;
        objStart = 0;
        requested = 0;
        if (!_slabs.TryGetValue(_pages.CompoundHead(pfn), out var slab))
        {
            return SlabLookup.NotSlab;
        }

        cache = slab.Cache;
        var idx = SlotIndex(slab, addr);
        objStart = PfnToVirt(slab.Pfn) + (ulong)(idx * slab.Cache.Size);
        if (idx >= slab.Cache.ObjectsPerSlab)
        {
            return SlabLookup.OutOfBounds;
        }

        requested = slab.Requested[idx];
        return slab.Live[idx] ? SlabLookup.Live : SlabLookup.Freed;
    }

    /// <summary>__va(pfn &lt;&lt; PAGE_SHIFT): the direct-map address of a frame.</summary>
    public static ulong PfnToVirt(long pfn) => K.PAGE_OFFSET + ((ulong)pfn << K.PAGE_SHIFT);

    /// <summary>virt_to_pfn() for direct-map addresses.</summary>
    public bool TryVirtToPfn(ulong addr, out long pfn)
    {
        pfn = -1;
        if (addr < K.PAGE_OFFSET)
        {
            return false;
        }

        var p = (addr - K.PAGE_OFFSET) >> K.PAGE_SHIFT;
        if (p >= (ulong)_pages.TotalPages)
        {
            return false;
        }

        pfn = (long)p;
        return true;
    }

    /// <summary>Slab invariants: counts agree with the slots, every slab page is flagged and referenced (quick path: SlubInvariantsQuick.cs; keep both in step).</summary>
    internal void CheckInvariants(List<string> violations)
    {
        long pages = 0;
        foreach (var cache in _caches)
        {
            long live = 0;
            long slabs = 0;
            foreach (var slab in _slabs.Values)
            {
                if (slab.Cache != cache)
                {
                    continue;
                }

                slabs++;
                var inUse = slab.Live.Count(l => l);
                live += inUse;
                if (inUse != slab.InUse || inUse == 0)
                {
                    violations.Add($"{cache.Name} slab 0x{slab.Pfn:x}: {inUse} live slots, InUse {slab.InUse}");
                }

                if (cache.Partial.Contains(slab) != (inUse < cache.ObjectsPerSlab))
                {
                    violations.Add($"{cache.Name} slab 0x{slab.Pfn:x}: partial list membership is wrong");
                }

                if (!_pages.Frame(slab.Pfn).Has(PageFlags.Slab) || _pages.Frame(slab.Pfn).Refcount != 1)
                {
                    violations.Add($"{cache.Name} slab 0x{slab.Pfn:x}: frame not flagged Slab with one reference");
                }
            }

            if (live != cache.ActiveObjects || slabs != cache.NumSlabs)
            {
                violations.Add($"{cache.Name}: active_objs {cache.ActiveObjects} num_slabs {cache.NumSlabs}, counted {live}/{slabs}");
            }

            pages += slabs << cache.Order;
        }

        if (pages != SlabPages)
        {
            violations.Add($"SlabPages {SlabPages} but slabs hold {pages} frames");
        }
    }
}

/// <summary>What a direct-map address points at in the slab allocator.</summary>
internal enum SlabLookup
{
    NotSlab,
    Live,
    Freed,
    OutOfBounds,
}
