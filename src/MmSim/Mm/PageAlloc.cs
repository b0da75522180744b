using System.Numerics;
using System.Runtime.CompilerServices;
using Microsoft.Extensions.Logging;
using MmSim.Kernel;

namespace MmSim.Mm;

/// <summary>
/// The buddy page allocator (mm/page_alloc.c) for one zone. Free blocks of each order are kept in a bitmap and the
/// lowest PFN is taken first, so allocation is deterministic; a freed block merges with its buddy while both are
/// free. Page-frame metadata lives in one array of 8-byte <see cref="PageFrame"/> structs indexed by PFN.
/// A PFN is a <c>long</c>; -1 plays the role of a NULL struct page pointer.
/// </summary>
public sealed partial class PageAllocator
{
    /// <summary>NULL.</summary>
    public const long NoPage = -1;

    private readonly PageFrame[] _frames;
    private readonly FreeAreaBitmap[] _freeArea = new FreeAreaBitmap[K.NR_PAGE_ORDERS];

    // Bit o set: _freeArea[o] holds a free block (lets __rmqueue_smallest() skip empty orders in one step).
    private uint _freeOrders;
    private readonly MemCgroup _memcg;
    private readonly FaultInjection _faults;
    private readonly KernelReports _reports;
    private readonly ILogger _log;

    // struct per_cpu_pages of the zone for CPU 0: MmSim runs every kernel path on CPU 0, so the other CPUs' lists
    // stay empty and are not kept. One migratetype, so pindex == order; orders 0..PAGE_ALLOC_COSTLY_ORDER.
    private readonly PcpList[] _pcpLists = new PcpList[K.PAGE_ALLOC_COSTLY_ORDER + 1];
    private int _pcpCount;
    private int _pcpAllocFactor;
    private int _pcpFreeCount;
    private bool _pcpPrevFreeHighOrder;

    internal PageAllocator(long frames, MemCgroup memcg, FaultInjection faults, KernelReports reports, ILogger log, int cpus = 2)
    {
        if (frames < 1 || frames > int.MaxValue)
        {
            throw new ArgumentOutOfRangeException(nameof(frames), frames, "a machine has 1 to 2^31-1 page frames");
        }

        _memcg = memcg;
        _faults = faults;
        _reports = reports;
        _log = log;
        _frames = new PageFrame[frames];
        Contents = new PageContents(frames);
        TotalPages = frames;
        for (var o = 0; o < K.NR_PAGE_ORDERS; o++)
        {
            _freeArea[o] = new FreeAreaBitmap(Math.Max(1, frames >> o));
        }

        // memblock_free_all(): hand every frame to the buddy allocator in the largest aligned blocks.
        long pfn = 0;
        while (pfn < frames)
        {
            var order = K.MAX_PAGE_ORDER;
            while ((pfn & ((1L << order) - 1)) != 0 || pfn + (1L << order) > frames)
            {
                order--;
            }

            AddToFreeArea(pfn, order);
            pfn += 1L << order;
        }

        // zone_set_pageset_high_and_batch()
        PcpBatch = PcpTunables.ZoneBatchsize(frames);
        PcpHigh = PcpTunables.ZoneHighsize(frames, PcpBatch, cpus);
        for (var o = 0; o < _pcpLists.Length; o++)
        {
            // pcp->count stays below high + a refill (nr_pcp_alloc() caps it), so an order-o list holds at most
            // about (high + batch) >> o blocks; the ring grows in the rare case it is exceeded.
            _pcpLists[o] = new PcpList(((PcpHigh + (2 * PcpBatch)) >> o) + 16);
        }
    }

    /// <summary>totalram_pages().</summary>
    public long TotalPages { get; }

    /// <summary>
    /// Free page frames: the buddy free lists (NR_FREE_PAGES) plus the pages parked on the per-CPU lists. This is
    /// what <c>stat free_pages</c> counts, so it returns exactly to its earlier value when everything is released.
    /// </summary>
    public long NrFreePages => NrFreeBuddyPages + _pcpCount;

    /// <summary>NR_FREE_PAGES as the kernel keeps it: pages on the buddy free lists only (MemFree).</summary>
    public long NrFreeBuddyPages { get; private set; }

    /// <summary>pcp->count of CPU 0: pages on the per-CPU lists.</summary>
    public long PcpCount => _pcpCount;

    /// <summary>pcp->batch.</summary>
    public int PcpBatch { get; }

    /// <summary>pcp->high (fixed at pcp->high_min; see docs/fidelity.md).</summary>
    public int PcpHigh { get; }

    /// <summary>The blocks on pcp->lists[order], head first (tests).</summary>
    public long[] PcpListPfns(int order)
    {
        var l = _pcpLists[order];
        var r = new long[l.Count];
        for (var i = 0; i < r.Length; i++)
        {
            r[i] = l[i];
        }

        return r;
    }

    /// <summary>drain_all_pages(): every page on the per-CPU lists back to the buddy free lists.</summary>
    public void DrainAllPages()
    {
        if (_pcpCount > 0)
        {
            // drain_pages_zone()
            FreePcppagesBulk(_pcpCount, 0);
        }
    }

    /// <summary>The bytes of every frame, materialized on first write.</summary>
    public PageContents Contents { get; }

    /// <summary>Allocated blocks whose pages back slab, vmalloc or other users: counted for meminfo.</summary>
    public long NrAllocatedPages => TotalPages - NrFreePages;

    /// <summary>The struct page of <paramref name="pfn"/>.</summary>
    public ref PageFrame Frame(long pfn) => ref _frames[pfn];

    public bool IsValidPfn(long pfn) => (ulong)pfn < (ulong)TotalPages;

    /// <summary>zone->free_area[order].nr_free.</summary>
    public long FreeBlocks(int order) => _freeArea[order].Count;

    /// <summary>Host bytes of page metadata: frame array, free-area bitmaps and pcp lists (not page contents).</summary>
    public long MetadataHostBytes =>
        (_frames.LongLength * Unsafe.SizeOf<PageFrame>()) + _freeArea.Sum(f => f.HostBytes) + _pcpLists.Sum(l => l.HostBytes);

    /// <summary>alloc_pages(gfp, order): a block of 2^order frames, or <see cref="NoPage"/>. Never an OOM kill.</summary>
    public long AllocPages(Gfp gfp, int order, [CallerMemberName] string caller = "")
    {
        // The fast path (a pcp list hit) is kept small; every rare branch calls out of line.
        if ((uint)order > K.MAX_PAGE_ORDER)
        {
            return AllocPagesBadOrder(gfp, order);
        }

        if (_faults.ShouldFailAllocPage(gfp, order, caller))
        {
            WarnAlloc(gfp, order, "fault injection", caller);
            return NoPage;
        }

        var pfn = order <= K.PAGE_ALLOC_COSTLY_ORDER ? RmqueuePcplist(order) : RmqueueSmallest(order);
        if (pfn == NoPage)
        {
            pfn = AllocPagesSlowpath(gfp, order, caller);
            if (pfn == NoPage)
            {
                return NoPage;
            }
        }

        // __memcg_kmem_charge_page(): charged after the allocation; on failure the page goes back.
        var accounted = false;
        if ((gfp & Gfp.__GFP_ACCOUNT) != 0)
        {
            if (!MemcgKmemChargePage(pfn, gfp, order, caller))
            {
                return NoPage;
            }

            accounted = true;
        }

        PrepNewPage(pfn, order, gfp, accounted);
        Tracepoints.mm_page_alloc(_log, pfn, order, gfp);
        return pfn;
    }

    // __alloc_pages_noprof(): WARN_ON_ONCE_GFP(order > MAX_PAGE_ORDER, gfp)
    [MethodImpl(MethodImplOptions.NoInlining)]
    private long AllocPagesBadOrder(Gfp gfp, int order)
    {
        _reports.WarnOnOnce((gfp & Gfp.__GFP_NOWARN) == 0, "__alloc_pages_noprof", $"order {order} > MAX_PAGE_ORDER");
        return NoPage;
    }

    // __alloc_pages_slowpath() after the fast path found nothing: __alloc_pages_direct_reclaim() drains the pcp
    // lists with drain_all_pages() when reclaim brings nothing back, and retries once; then warn_alloc().
    [MethodImpl(MethodImplOptions.NoInlining)]
    private long AllocPagesSlowpath(Gfp gfp, int order, string caller)
    {
        var pfn = NoPage;
        if ((gfp & Gfp.__GFP_DIRECT_RECLAIM) != 0 && _pcpCount > 0)
        {
            DrainAllPages();
            pfn = Rmqueue(order);
        }

        if (pfn == NoPage)
        {
            WarnAlloc(gfp, order, "out of memory", caller);
        }

        return pfn;
    }

    // __memcg_kmem_charge_page(); false: the charge failed and the block went back to the allocator.
    [MethodImpl(MethodImplOptions.NoInlining)]
    private bool MemcgKmemChargePage(long pfn, Gfp gfp, int order, string caller)
    {
        if (_memcg.TryCharge(K.PAGE_SIZE << order))
        {
            return true;
        }

        Tracepoints.memcg_charge_fail(_log, K.PAGE_SIZE << order, _memcg.Usage, _memcg.Limit);
        FreeFrozenPages(pfn, order);
        WarnAlloc(gfp | Gfp.__GFP_NOWARN, order, "memcg limit", caller);
        return false;
    }

    /// <summary>alloc_page(gfp).</summary>
    public long AllocPage(Gfp gfp, [CallerMemberName] string caller = "") => AllocPages(gfp, 0, caller);

    /// <summary>__free_pages(page, order): drop the caller's reference; free the block when it was the last.</summary>
    public void FreePages(long pfn, int order, [CallerMemberName] string caller = "")
    {
        if (!IsValidPfn(pfn))
        {
            ReportBadPfn(pfn, caller);
            return;
        }

        ref var f = ref _frames[pfn];
        var head = f.Has(PageFlags.Head);
        if (PutPageTestZero(ref f, pfn, caller))
        {
            FreeBlock(ref f, pfn, order, caller);
        }
        else if (!head && order > 0)
        {
            FreeNonCompoundTail(pfn, order, caller);
        }
    }

    // __free_pages(): a non-compound high-order block whose first page is still referenced: free the rest.
    [MethodImpl(MethodImplOptions.NoInlining)]
    private void FreeNonCompoundTail(long pfn, int order, string caller)
    {
        while (order-- > 0)
        {
            var part = pfn + (1L << order);
            FreeBlock(ref _frames[part], part, order, caller);
        }
    }

    /// <summary>get_page(): take a reference on the page's folio.</summary>
    public void GetPage(long pfn)
    {
        var head = CompoundHead(pfn);
        ref var f = ref _frames[head];
        if (f.Refcount <= 0)
        {
            ReportGetPageOnFreePage(pfn);
            return;
        }

        f.Refcount++;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void ReportGetPageOnFreePage(long pfn) =>
        _reports.ReportKasan(KasanBugType.UseAfterFree, "get_page", $"get_page on free page pfn 0x{pfn:x}");

    /// <summary>put_page(): drop a reference on the page's folio; free it (at its compound order) on zero.</summary>
    public void PutPage(long pfn, [CallerMemberName] string caller = "")
    {
        if (!IsValidPfn(pfn))
        {
            ReportBadPfn(pfn, caller);
            return;
        }

        var head = CompoundHead(pfn);
        ref var f = ref _frames[head];
        if (PutPageTestZero(ref f, head, caller))
        {
            FreeBlock(ref f, head, f.Has(PageFlags.Head) ? f.Order : 0, caller);
        }
    }

    /// <summary>page_ref_count().</summary>
    public int PageRefCount(long pfn) => _frames[CompoundHead(pfn)].Refcount;

    /// <summary>compound_head(): the first page of the compound allocation containing <paramref name="pfn"/>.</summary>
    public long CompoundHead(long pfn)
    {
        ref var f = ref _frames[pfn];
        return f.Has(PageFlags.Tail) ? pfn & ~((1L << f.Order) - 1) : pfn;
    }

    /// <summary>The order of the block <paramref name="pfn"/> heads (compound order, or the order it was allocated with).</summary>
    public int BlockOrder(long pfn) => _frames[pfn].Order;

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void ReportBadPfn(long pfn, string caller) =>
        _reports.ReportKasan(KasanBugType.WildMemoryAccess, caller, $"bad pfn 0x{pfn:x}");

    // put_page_testzero() on the frame f of pfn.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private bool PutPageTestZero(ref PageFrame f, long pfn, string caller)
    {
        var refcount = f.Refcount;
        if (refcount <= 0 || f.Has(PageFlags.Buddy))
        {
            // page_ref underflow / freeing a free page: bad_page() in the kernel.
            ReportPutPageOnFreePage(pfn, refcount, caller);
            return false;
        }

        return f.PutRefcountTestZero();
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void ReportPutPageOnFreePage(long pfn, int refcount, string caller) =>
        _reports.ReportKasan(KasanBugType.BadPageState, caller, $"put_page on a free page pfn 0x{pfn:x} (refcount {refcount})");

    // prep_new_page(): the head's refcount, mapcount, order and flags; a compound block's tails.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void PrepNewPage(long pfn, int order, Gfp gfp, bool accounted)
    {
        var comp = order > 0 && (gfp & Gfp.__GFP_COMP) != 0;
        ref var head = ref _frames[pfn];
        head.SetRefcountAndOrder(1, order);
        head.Mapcount = 0;
        head.Flags = (comp ? PageFlags.Head : PageFlags.None) | (accounted ? PageFlags.Accounted : PageFlags.None);
        if (order > 0)
        {
            PrepTailPages(pfn, order, comp);
        }
    }

    private void PrepTailPages(long pfn, int order, bool comp)
    {
        var n = 1L << order;
        var tailOrder = comp ? order : 0;
        var tailFlags = comp ? PageFlags.Tail : PageFlags.None;
        for (var i = 1L; i < n; i++)
        {
            ref var t = ref _frames[pfn + i];
            t.SetRefcountAndOrder(0, tailOrder);
            t.Mapcount = 0;
            t.Flags = tailFlags;
        }
    }

    // free_pages_prepare() + __free_one_page()
    private void FreeBlock(ref PageFrame head, long pfn, int order, string caller)
    {
        if (head.Has(PageFlags.Accounted))
        {
            _memcg.Uncharge(K.PAGE_SIZE << order);
        }

        // The head's bad-page check (free_page_is_bad()), then the tails' (free_tail_page_prepare()).
        if (head.Mapcount != 0)
        {
            ReportBadFree(pfn, head.Mapcount, head.Refcount, caller);
        }

        head = default;
        if (order > 0)
        {
            FreeTailPagesPrepare(pfn, order, caller);
        }

        Contents.ClearBlock(pfn, order);
        Tracepoints.mm_page_free(_log, pfn, order);
        FreeFrozenPages(pfn, order);
    }

    private void FreeTailPagesPrepare(long pfn, int order, string caller)
    {
        var n = 1L << order;
        for (var i = 1L; i < n; i++)
        {
            ref var f = ref _frames[pfn + i];
            if (f.Mapcount != 0 || (f.Refcount != 0 && !f.Has(PageFlags.Tail)))
            {
                ReportBadFree(pfn + i, f.Mapcount, f.Refcount, caller);
            }

            f = default;
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void ReportBadFree(long pfn, int mapcount, int refcount, string caller) =>
        _reports.ReportKasan(KasanBugType.BadPageState, caller, $"freeing pfn 0x{pfn:x} with mapcount {mapcount} refcount {refcount}");

    // free_frozen_pages() -> free_unref_page(): pcp orders go to the per-CPU list, the rest to the buddy lists.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void FreeFrozenPages(long pfn, int order)
    {
        if (order <= K.PAGE_ALLOC_COSTLY_ORDER)
        {
            FreeUnrefPageCommit(pfn, order);
        }
        else
        {
            FreeOneBlock(pfn, order);
        }
    }

    // free_unref_page_commit(): park the block at the head of its list; past pcp->high, free a batch from the tails.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void FreeUnrefPageCommit(long pfn, int order)
    {
        _pcpAllocFactor >>= 1;
        _pcpLists[order].AddHead(pfn);
        _pcpCount += 1 << order;

        var batch = PcpBatch;

        // High-order pages other than THP's are freed in bulk when the CPU keeps freeing them without allocating
        // (PCPF_PREV_FREE_HIGH_ORDER; PCPF_FREE_HIGH_BATCH is never set: MmSim has no cache geometry).
        var freeHigh = false;
        if (order > 0)
        {
            freeHigh = _pcpFreeCount >= batch && _pcpPrevFreeHighOrder;
            _pcpPrevFreeHighOrder = true;
        }
        else
        {
            _pcpPrevFreeHighOrder = false;
        }

        if (_pcpFreeCount < (batch << PcpTunables.PCP_BATCH_SCALE_MAX))
        {
            _pcpFreeCount += 1 << order;
        }

        // nr_pcp_high(): pcp->high is fixed (high_min == high_max); free_high forces a free.
        var high = freeHigh ? 0 : PcpHigh;
        if (_pcpCount >= high)
        {
            FreePcppagesBulk(NrPcpFree(batch, high, freeHigh), order);
        }
    }

    // nr_pcp_free()
    private int NrPcpFree(int batch, int high, bool freeHigh)
    {
        if (freeHigh)
        {
            return Math.Min(_pcpCount, batch << PcpTunables.PCP_BATCH_SCALE_MAX);
        }

        if (high < batch)
        {
            return 1;
        }

        // Leave at least pcp->batch pages; free more after consecutive frees (pcp->free_count).
        return Math.Clamp(_pcpFreeCount, batch, high - batch);
    }

    // free_pcppages_bulk(): round-robin over the lists, starting with pindex, each time from the tail.
    [MethodImpl(MethodImplOptions.NoInlining)]
    private void FreePcppagesBulk(int count, int pindex)
    {
        count = Math.Min(_pcpCount, count);

        // The tracepoint's enabled state cannot change during the drain: test it once.
        var trace = _log.IsEnabled(LogLevel.Trace);
        pindex--;
        while (count > 0)
        {
            do
            {
                if (++pindex > _pcpLists.Length - 1)
                {
                    pindex = 0;
                }
            }
            while (_pcpLists[pindex].Count == 0);

            ref var list = ref _pcpLists[pindex];

            var order = pindex;
            var nrPages = 1 << order;
            do
            {
                var pfn = list.RemoveTail();
                count -= nrPages;
                _pcpCount -= nrPages;
                FreeOneBlock(pfn, order);
                if (trace)
                {
                    Tracepoints.mm_page_pcpu_drain(_log, pfn, order);
                }
            }
            while (count > 0 && list.Count > 0);
        }
    }

    // rmqueue(): pcp orders from the per-CPU list, the rest from the buddy lists (rmqueue_buddy()).
    private long Rmqueue(int order) => order <= K.PAGE_ALLOC_COSTLY_ORDER ? RmqueuePcplist(order) : RmqueueSmallest(order);

    // rmqueue_pcplist() + __rmqueue_pcplist(): refill an empty list with rmqueue_bulk(), then take the head.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private long RmqueuePcplist(int order)
    {
        _pcpFreeCount >>= 1;
        ref var list = ref _pcpLists[order];
        if (list.Count == 0 && !RmqueueBulk(ref list, order))
        {
            return NoPage;
        }

        _pcpCount -= 1 << order;
        return list.RemoveHead();
    }

    // rmqueue_bulk(): blocks in ascending PFN order, each appended at the tail; false when none could be taken.
    [MethodImpl(MethodImplOptions.NoInlining)]
    private bool RmqueueBulk(ref PcpList list, int order)
    {
        var batch = NrPcpAlloc(order);
        for (var i = 0; i < batch; i++)
        {
            var p = RmqueueSmallest(order);
            if (p == NoPage)
            {
                break;
            }

            list.AddTail(p);
            _pcpCount += 1 << order;
        }

        return list.Count != 0;
    }

    // nr_pcp_alloc(): how many blocks a refill takes; order-0 refills grow while the CPU keeps allocating.
    private int NrPcpAlloc(int order)
    {
        var baseBatch = PcpBatch;
        var high = PcpHigh;
        if (high < baseBatch)
        {
            return 1;
        }

        var batch = order > 0 ? baseBatch : baseBatch << _pcpAllocFactor;
        if (order == 0)
        {
            var maxNrAlloc = Math.Max(high - _pcpCount - baseBatch, baseBatch);
            if (batch <= maxNrAlloc && _pcpAllocFactor < PcpTunables.PCP_BATCH_SCALE_MAX)
            {
                _pcpAllocFactor++;
            }

            batch = Math.Min(batch, maxNrAlloc);
        }

        if (batch > 1)
        {
            batch = Math.Max(batch >> order, 2);
        }

        return batch;
    }

    // __free_one_page(): merge with the buddy while it is a free block of the same order.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void FreeOneBlock(long pfn, int order)
    {
        while (order < K.MAX_PAGE_ORDER)
        {
            var buddy = pfn ^ (1L << order);
            if (buddy + (1L << order) > TotalPages || !_freeArea[order].Test(buddy >> order))
            {
                break;
            }

            DelFromFreeArea(buddy, order);
            pfn &= buddy;
            order++;
        }

        AddToFreeArea(pfn, order);
    }

    // __rmqueue_smallest(): the smallest order that has a free block; within it the lowest PFN; split the rest
    // into the lower orders (expand()).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private long RmqueueSmallest(int order)
    {
        // The lowest non-empty order >= order, from the mask of orders with free blocks.
        var orders = _freeOrders >> order;
        if (orders == 0)
        {
            return NoPage;
        }

        var o = order + BitOperations.TrailingZeroCount(orders);
        var pfn = _freeArea[o].FindFirst() << o;
        DelFromFreeArea(pfn, o);
        while (o > order)
        {
            o--;
            AddToFreeArea(pfn + (1L << o), o);
        }

        return pfn;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void AddToFreeArea(long pfn, int order)
    {
        ref var f = ref _frames[pfn];
        f.Flags = PageFlags.Buddy;
        f.Order = (byte)order;
        _freeArea[order].Set(pfn >> order);
        _freeOrders |= 1u << order;
        NrFreeBuddyPages += 1L << order;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void DelFromFreeArea(long pfn, int order)
    {
        ref var f = ref _frames[pfn];
        f.Flags = PageFlags.None;
        f.Order = 0;
        var area = _freeArea[order];
        area.Clear(pfn >> order);
        if (area.Count == 0)
        {
            _freeOrders &= ~(1u << order);
        }

        NrFreeBuddyPages -= 1L << order;
    }

    // warn_alloc()
    private void WarnAlloc(Gfp gfp, int order, string reason, string caller)
    {
        if ((gfp & Gfp.__GFP_NOWARN) == 0)
        {
            Tracepoints.warn_alloc(_log, order, gfp, reason, caller);
        }
    }

    // CheckInvariants' per-frame scratch, reused across checks.
    private bool[]? _checkScratch;

    // Mark [pfn, pfn + n) free in one go when it lies in range and none of it is marked yet; false: the caller
    // marks frame by frame and reports each frame marked twice (or fails on a range beyond the frames, as before).
    private static bool MarkFree(bool[] marks, long pfn, long n)
    {
        if (pfn < 0 || pfn + n > marks.Length)
        {
            return false;
        }

        var span = marks.AsSpan((int)pfn, (int)n);
        if (span.Contains(true))
        {
            return false;
        }

        span.Fill(true);
        return true;
    }

    /// <summary>Invariants of the free lists and frame metadata (quick path: PageAllocInvariants.cs; keep both in step).</summary>
    internal void CheckInvariants(List<string> violations)
    {
        long free = 0;
        var inFreeBlock = _checkScratch ??= new bool[TotalPages];
        Array.Clear(inFreeBlock);
        for (var o = 0; o < K.NR_PAGE_ORDERS; o++)
        {
            foreach (var idx in _freeArea[o].SetBits())
            {
                var pfn = idx << o;
                free += 1L << o;
                ref var f = ref _frames[pfn];
                if (!f.Has(PageFlags.Buddy) || f.Order != o)
                {
                    violations.Add($"free block pfn 0x{pfn:x} order {o} lacks PageBuddy/order (flags {f.Flags}, order {f.Order})");
                }

                if ((pfn & ((1L << o) - 1)) != 0)
                {
                    violations.Add($"free block pfn 0x{pfn:x} is not aligned to order {o}");
                }

                if (!MarkFree(inFreeBlock, pfn, 1L << o))
                {
                    for (var i = 0L; i < 1L << o; i++)
                    {
                        if (inFreeBlock[pfn + i])
                        {
                            violations.Add($"pfn 0x{pfn + i:x} is in two free blocks");
                        }

                        inFreeBlock[pfn + i] = true;
                    }
                }

                var buddy = pfn ^ (1L << o);
                if (o < K.MAX_PAGE_ORDER && buddy + (1L << o) <= TotalPages && _freeArea[o].Test(buddy >> o))
                {
                    violations.Add($"buddies 0x{pfn:x} and 0x{buddy:x} of order {o} are both free but not merged");
                }
            }
        }

        if (free != NrFreeBuddyPages)
        {
            violations.Add($"NR_FREE_PAGES {NrFreeBuddyPages} but the free lists hold {free}");
        }

        long pcp = 0;
        for (var o = 0; o < _pcpLists.Length; o++)
        {
            var list = _pcpLists[o];
            for (var i = 0; i < list.Count; i++)
            {
                var pfn = list[i];
                pcp += 1L << o;
                if ((pfn & ((1L << o) - 1)) != 0 || pfn < 0 || pfn + (1L << o) > TotalPages)
                {
                    violations.Add($"pcp block pfn 0x{pfn:x} of order {o} is misaligned or out of range");
                    continue;
                }

                if (_frames[pfn].Has(PageFlags.Buddy))
                {
                    violations.Add($"pcp block pfn 0x{pfn:x} is marked PageBuddy");
                }

                if (!MarkFree(inFreeBlock, pfn, 1L << o))
                {
                    for (var j = 0L; j < 1L << o; j++)
                    {
                        if (inFreeBlock[pfn + j])
                        {
                            violations.Add($"pfn 0x{pfn + j:x} is on a pcp list and free elsewhere");
                        }

                        inFreeBlock[pfn + j] = true;
                    }
                }
            }
        }

        if (pcp != _pcpCount)
        {
            violations.Add($"pcp->count {_pcpCount} but the pcp lists hold {pcp}");
        }

        for (long pfn = 0; pfn < TotalPages; pfn++)
        {
            ref var f = ref _frames[pfn];
            if (inFreeBlock[pfn])
            {
                if (f.Refcount != 0 || f.Mapcount != 0 || Contents.HasBuffer(pfn))
                {
                    violations.Add($"free pfn 0x{pfn:x} has refcount {f.Refcount} mapcount {f.Mapcount} or contents");
                }
            }
            else if (f.Refcount < 0)
            {
                violations.Add($"pfn 0x{pfn:x} has negative refcount {f.Refcount}");
            }
        }
    }
}
