using System.Collections.Immutable;

namespace MmSim.Model;

/// <summary>
/// The obviously correct model of a buddy allocator with full merging: a free bit per frame. Because free
/// buddies always merge, the free set has exactly one decomposition into maximal aligned blocks; allocation takes
/// the smallest block of sufficient order, lowest frame first, and keeps its lowest part.
/// </summary>
public sealed record BuddyModel(int Frames, int MaxOrder, ImmutableArray<bool> Free, ImmutableList<(long Pfn, int Order)> Allocated)
{
    public static BuddyModel Boot(int frames, int maxOrder = 10) =>
        new(frames, maxOrder, Enumerable.Repeat(true, frames).ToImmutableArray(), []);

    public long FreeCount => Free.Count(f => f);

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

    public BuddyModel Alloc(long pfn, int order)
    {
        var free = Free.ToBuilder();
        for (var i = pfn; i < pfn + (1L << order); i++)
        {
            free[(int)i] = false;
        }

        return this with { Free = free.ToImmutable(), Allocated = Allocated.Add((pfn, order)) };
    }

    public BuddyModel FreeBlock(int index)
    {
        var (pfn, order) = Allocated[index];
        var free = Free.ToBuilder();
        for (var i = pfn; i < pfn + (1L << order); i++)
        {
            free[(int)i] = true;
        }

        return this with { Free = free.ToImmutable(), Allocated = Allocated.RemoveAt(index) };
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

    public override string ToString() => $"free={FreeCount}/{Frames} allocated=[{string.Join(' ', Allocated.Select(a => $"{a.Pfn:x}/{a.Order}"))}]";
}
