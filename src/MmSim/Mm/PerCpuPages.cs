using System.Runtime.CompilerServices;
using MmSim.Kernel;

namespace MmSim.Mm;

/// <summary>
/// One list of <c>struct per_cpu_pages</c> (pcp->lists[pindex]): free blocks of one order parked on a CPU without
/// merging. A ring buffer of PFNs, because the kernel uses the list from both ends: frees and allocations work at
/// the head (list_add / list_first_entry, LIFO: cache-hot pages first), refills append at the tail
/// (rmqueue_bulk: list_add_tail) and drains take from the tail (free_pcppages_bulk: list_last_entry).
/// A struct kept in the allocator's array and used by reference, so that a list costs one load less.
/// </summary>
internal struct PcpList
{
    private int[] _buf;
    private int _head;
    private int _mask;

    public PcpList(int capacity)
    {
        var c = 16;
        while (c < capacity)
        {
            c <<= 1;
        }

        _buf = new int[c];
        _mask = c - 1;
    }

    /// <summary>Blocks on the list.</summary>
    public int Count { readonly get; private set; }

    /// <summary>list_add(): push at the head.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void AddHead(long pfn)
    {
        if (Count == _buf.Length)
        {
            Grow();
        }

        _head = (_head - 1) & _mask;
        _buf[_head] = (int)pfn;
        Count++;
    }

    /// <summary>list_add_tail().</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void AddTail(long pfn)
    {
        if (Count == _buf.Length)
        {
            Grow();
        }

        _buf[(_head + Count) & _mask] = (int)pfn;
        Count++;
    }

    /// <summary>list_first_entry() + list_del(). The list must not be empty.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public long RemoveHead()
    {
        var pfn = _buf[_head];
        _head = (_head + 1) & _mask;
        Count--;
        return pfn;
    }

    /// <summary>list_last_entry() + list_del(). The list must not be empty.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public long RemoveTail()
    {
        Count--;
        return _buf[(_head + Count) & _mask];
    }

    /// <summary>Host bytes of the ring buffer.</summary>
    public readonly long HostBytes => 4L * _buf.Length;

    /// <summary>The i-th block from the head (invariant checks, tests).</summary>
    public readonly long this[int i] => _buf[(_head + i) & _mask];

    // The lists are bounded by pcp->high plus one refill; growth happens only while a list first fills.
    private void Grow()
    {
        var next = new int[_buf.Length * 2];
        for (var i = 0; i < Count; i++)
        {
            next[i] = _buf[(_head + i) & _mask];
        }

        _buf = next;
        _head = 0;
        _mask = next.Length - 1;
    }
}

/// <summary>
/// The pcp tunables of the one zone, computed as mm/page_alloc.c does at boot for the machine's size and CPU count.
/// </summary>
internal static class PcpTunables
{
    /// <summary>CONFIG_PCP_BATCH_SCALE_MAX (default 5).</summary>
    public const int PCP_BATCH_SCALE_MAX = 5;

    /// <summary>zone_batchsize(): ~0.1 % of the zone or 1 MiB, /4, clamped to 2^n - 1; at least 1.</summary>
    public static int ZoneBatchsize(long managedPages)
    {
        var batch = Math.Min(managedPages >> 10, (1L << 20) / (long)K.PAGE_SIZE);
        batch /= 4;
        if (batch < 1)
        {
            batch = 1;
        }

        batch = RoundDownPowOfTwo(batch + (batch / 2)) - 1;

        // zone_set_pageset_high_and_batch(): new_batch = max(1, zone_batchsize(zone)).
        return (int)Math.Max(1, batch);
    }

    /// <summary>
    /// zone_highsize() with percpu_pagelist_high_fraction = 0: the zone's low watermark split over the CPUs, at
    /// least 4 batches. The watermark comes from calculate_min_free_kbytes() and __setup_per_zone_wmarks() for a
    /// single zone holding all memory (watermark_scale_factor 10).
    /// </summary>
    public static int ZoneHighsize(long managedPages, int batch, int cpus)
    {
        var lowmemKbytes = managedPages * (long)(K.PAGE_SIZE >> 10);
        var minFreeKbytes = Math.Clamp((long)Math.Sqrt(lowmemKbytes * 16.0), 128, 262144);
        var pagesMin = minFreeKbytes >> (K.PAGE_SHIFT - 10);
        var low = pagesMin + Math.Max(pagesMin >> 2, managedPages * 10 / 10000);
        var high = low / Math.Max(1, cpus);
        return (int)Math.Max(high, (long)batch << 2);
    }

    private static long RoundDownPowOfTwo(long n) => 1L << (63 - System.Numerics.BitOperations.LeadingZeroCount((ulong)n));
}
