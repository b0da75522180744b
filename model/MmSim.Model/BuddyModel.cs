using System.Collections.Immutable;

namespace MmSim.Model;

/// <summary>
/// The obviously correct model of a buddy allocator with full merging: a free bit per frame. Because free
/// buddies always merge, the free set has exactly one decomposition into maximal aligned blocks; allocation takes
/// the smallest block of sufficient order, lowest frame first, and keeps its lowest part.
/// In front of it sit the per-CPU page lists of orders 0..3 (<see cref="PcpModel"/>): blocks on them are free
/// frames but not part of the buddy free set (so they never merge and /proc/buddyinfo does not show them).
/// </summary>
public sealed record BuddyModel(int Frames, int MaxOrder, ImmutableArray<bool> Free, ImmutableList<(long Pfn, int Order)> Allocated, PcpModel Pcp)
{
    /// <summary>PAGE_ALLOC_COSTLY_ORDER: the highest order kept on the per-CPU lists.</summary>
    public const int PcpMaxOrder = 3;

    public static BuddyModel Boot(int frames, int pcpBatch, int pcpHigh, int maxOrder = 10) =>
        new(frames, maxOrder, Enumerable.Repeat(true, frames).ToImmutableArray(), [], PcpModel.Empty(pcpBatch, pcpHigh));

    /// <summary>Free page frames: buddy free frames plus the pages on the per-CPU lists.</summary>
    public long FreeCount => BuddyFreeCount + Pcp.Count;

    /// <summary>NR_FREE_PAGES: the buddy free frames only.</summary>
    public long BuddyFreeCount => Free.Count(f => f);

    /// <summary>
    /// alloc_pages(order): orders 0..3 from the per-CPU list of that order (refilled from the buddy lists when
    /// empty), higher orders from the buddy lists; when that fails and the caller may reclaim, drain the lists
    /// and try once more. Returns the new state and the PFN (-1 on failure).
    /// </summary>
    public (BuddyModel Model, long Pfn) AllocPages(int order, bool mayReclaim)
    {
        if (order < 0 || order > MaxOrder)
        {
            return (this, -1);
        }

        var m = this;
        var pfn = Rmqueue(order, ref m);
        if (pfn < 0 && mayReclaim && m.Pcp.Count > 0)
        {
            m = m.Drain(m.Pcp.Count, 0);
            pfn = Rmqueue(order, ref m);
        }

        return pfn < 0 ? (m, -1) : (m with { Allocated = m.Allocated.Add((pfn, order)) }, pfn);
    }

    /// <summary>__free_pages() of the index-th allocated block: to the per-CPU lists or the buddy lists.</summary>
    public BuddyModel FreePages(int index)
    {
        var (pfn, order) = Allocated[index];
        var m = this with { Allocated = Allocated.RemoveAt(index) };
        if (order > PcpMaxOrder)
        {
            return m.BuddyFree(pfn, order);
        }

        // free_unref_page_commit()
        var p = m.Pcp;
        var batch = p.Batch;
        var freeHigh = false;
        var prev = p.PrevFreeHighOrder;
        if (order > 0)
        {
            freeHigh = p.FreeCount >= batch && prev;
            prev = true;
        }
        else
        {
            prev = false;
        }

        var freeCount = p.FreeCount < batch << 5 ? p.FreeCount + (1 << order) : p.FreeCount;
        p = p with
        {
            Lists = p.Lists.SetItem(order, p.Lists[order].Insert(0, pfn)),
            Count = p.Count + (1 << order),
            AllocFactor = p.AllocFactor >> 1,
            FreeCount = freeCount,
            PrevFreeHighOrder = prev,
        };
        m = m with { Pcp = p };
        var high = freeHigh ? 0 : p.High;
        if (p.Count < high)
        {
            return m;
        }

        var n = freeHigh ? Math.Min(p.Count, batch << 5) : high < batch ? 1 : Math.Clamp(p.FreeCount, batch, high - batch);
        return m.Drain(n, order);
    }

    private static long Rmqueue(int order, ref BuddyModel m)
    {
        if (order > PcpMaxOrder)
        {
            var pfn = m.Predict(order);
            if (pfn >= 0)
            {
                m = m.Take(pfn, order);
            }

            return pfn;
        }

        var p = m.Pcp with { FreeCount = m.Pcp.FreeCount >> 1 };
        m = m with { Pcp = p };
        if (p.Lists[order].IsEmpty)
        {
            // nr_pcp_alloc()
            int batch;
            var allocFactor = p.AllocFactor;
            if (p.High < p.Batch)
            {
                batch = 1;
            }
            else
            {
                batch = order > 0 ? p.Batch : p.Batch << allocFactor;
                if (order == 0)
                {
                    var maxNrAlloc = Math.Max(p.High - p.Count - p.Batch, p.Batch);
                    if (batch <= maxNrAlloc && allocFactor < 5)
                    {
                        allocFactor++;
                    }

                    batch = Math.Min(batch, maxNrAlloc);
                }

                if (batch > 1)
                {
                    batch = Math.Max(batch >> order, 2);
                }
            }

            // rmqueue_bulk(): lowest blocks first, appended at the tail.
            var list = p.Lists[order];
            var count = p.Count;
            for (var i = 0; i < batch; i++)
            {
                var got = m.Predict(order);
                if (got < 0)
                {
                    break;
                }

                m = m.Take(got, order);
                list = list.Add(got);
                count += 1 << order;
            }

            p = p with { Lists = p.Lists.SetItem(order, list), Count = count, AllocFactor = allocFactor };
            m = m with { Pcp = p };
            if (list.IsEmpty)
            {
                return -1;
            }
        }

        var head = p.Lists[order][0];
        m = m with { Pcp = p with { Lists = p.Lists.SetItem(order, p.Lists[order].RemoveAt(0)), Count = p.Count - (1 << order) } };
        return head;
    }

    // free_pcppages_bulk(): round-robin over the non-empty lists from pindex, each from its tail.
    private BuddyModel Drain(int count, int pindex)
    {
        var m = this;
        count = Math.Min(count, m.Pcp.Count);
        pindex--;
        while (count > 0)
        {
            do
            {
                pindex = pindex + 1 > PcpMaxOrder ? 0 : pindex + 1;
            }
            while (m.Pcp.Lists[pindex].IsEmpty);

            do
            {
                var p = m.Pcp;
                var list = p.Lists[pindex];
                var pfn = list[^1];
                count -= 1 << pindex;
                m = m with { Pcp = p with { Lists = p.Lists.SetItem(pindex, list.RemoveAt(list.Count - 1)), Count = p.Count - (1 << pindex) } };
                m = m.BuddyFree(pfn, pindex);
            }
            while (count > 0 && !m.Pcp.Lists[pindex].IsEmpty);
        }

        return m;
    }

    private BuddyModel Take(long pfn, int order)
    {
        var free = Free.ToBuilder();
        for (var i = pfn; i < pfn + (1L << order); i++)
        {
            free[(int)i] = false;
        }

        return this with { Free = free.ToImmutable() };
    }

    private BuddyModel BuddyFree(long pfn, int order)
    {
        var free = Free.ToBuilder();
        for (var i = pfn; i < pfn + (1L << order); i++)
        {
            free[(int)i] = true;
        }

        return this with { Free = free.ToImmutable() };
    }

    /// <summary>The canonical decomposition of the free frames into maximal aligned blocks, by frame.</summary>
    public IEnumerable<(long Pfn, int Order)> FreeBlocks()
    {
        long p = 0;
        while (p < Frames)
        {
            if (!Free[(int)p])
            {
                p++;
                continue;
            }

            var o = MaxOrder;
            while (o > 0 && ((p & ((1L << o) - 1)) != 0 || p + (1L << o) > Frames || !AllFree(p, 1L << o)))
            {
                o--;
            }

            yield return (p, o);
            p += 1L << o;
        }
    }

    private bool AllFree(long start, long n)
    {
        for (var i = start; i < start + n; i++)
        {
            if (!Free[(int)i])
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>The PFN the allocator must return for <paramref name="order"/>, or -1.</summary>
    public long Predict(int order)
    {
        if (order < 0 || order > MaxOrder)
        {
            return -1;
        }

        var best = (Pfn: -1L, Order: int.MaxValue);
        foreach (var b in FreeBlocks())
        {
            if (b.Order >= order && b.Order < best.Order)
            {
                best = b;
            }
        }

        return best.Pfn;
    }

    /// <summary>How many free blocks of each order the decomposition has (what /proc/buddyinfo prints).</summary>
    public long[] BlocksPerOrder()
    {
        var counts = new long[MaxOrder + 1];
        foreach (var b in FreeBlocks())
        {
            counts[b.Order]++;
        }

        return counts;
    }

    public override string ToString() => $"free={FreeCount}/{Frames} pcp={Pcp} allocated=[{string.Join(' ', Allocated.Select(a => $"{a.Pfn:x}/{a.Order}"))}]";
}

/// <summary>
/// struct per_cpu_pages of the one CPU: a list per order (head first), the page count, and the counters that
/// size refills (alloc_factor) and drains (free_count, PCPF_PREV_FREE_HIGH_ORDER). pcp->high is fixed.
/// </summary>
public sealed record PcpModel(int Batch, int High, ImmutableArray<ImmutableList<long>> Lists, int Count, int AllocFactor, int FreeCount, bool PrevFreeHighOrder)
{
    public static PcpModel Empty(int batch, int high) =>
        new(batch, high, Enumerable.Repeat(ImmutableList<long>.Empty, BuddyModel.PcpMaxOrder + 1).ToImmutableArray(), 0, 0, 0, false);

    public override string ToString() => $"{Count}:[{string.Join(" | ", Lists.Select(l => string.Join(' ', l.Select(p => p.ToString("x", System.Globalization.CultureInfo.InvariantCulture)))))}]";
}
