using System.Collections.Immutable;

namespace MmSim.Model;

/// <summary>Factory for <see cref="IntervalMapModel{T}"/>.</summary>
public static class IntervalMapModel
{
    /// <summary>An empty tree; <paramref name="allocTree"/> is MT_FLAGS_ALLOC_RANGE.</summary>
    public static IntervalMapModel<T> Empty<T>(bool allocTree) => new(ImmutableList<ModelInterval<T>>.Empty, allocTree);
}

/// <summary>One stored range of <see cref="IntervalMapModel{T}"/>: [First, Last] (both inclusive) holds Entry.</summary>
public readonly record struct ModelInterval<T>(ulong First, ulong Last, T Entry);

/// <summary>
/// The obviously correct model of a maple tree's observable behaviour (shared/kernel notes §1.1, §1.4, §1.6): a
/// sorted list of disjoint, non-NULL ranges over [0, ULONG_MAX]; every index not in a range is NULL
/// (<c>default(T)</c>). Storing overwrites exactly the written indices and truncates the neighbours; adjacent
/// equal entries stay separate ranges; erase removes the whole range containing the index. Gap searches look at
/// maximal NULL runs only. Results use the kernel's convention: 0 or a negative errno.
/// </summary>
public sealed record IntervalMapModel<T>(ImmutableList<ModelInterval<T>> Ranges, bool AllocTree)
{
    public const int EBUSY = 16;
    public const int EEXIST = 17;
    public const int EINVAL = 22;

    private static bool IsNull(T entry) => EqualityComparer<T>.Default.Equals(entry, default!);

    public int Count => Ranges.Count;

    /// <summary>The position of the first range whose Last is at or above <paramref name="index"/>.</summary>
    private int FirstEndingAtOrAfter(ulong index)
    {
        int lo = 0, hi = Ranges.Count;
        while (lo < hi)
        {
            var mid = (lo + hi) / 2;
            if (Ranges[mid].Last < index)
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

    /// <summary>mtree_load(): the entry covering <paramref name="index"/>, or NULL.</summary>
    public T Load(ulong index)
    {
        var i = FirstEndingAtOrAfter(index);
        return i < Ranges.Count && Ranges[i].First <= index ? Ranges[i].Entry : default!;
    }

    /// <summary>The range covering <paramref name="index"/>, if any.</summary>
    public ModelInterval<T>? RangeAt(ulong index)
    {
        var i = FirstEndingAtOrAfter(index);
        return i < Ranges.Count && Ranges[i].First <= index ? Ranges[i] : null;
    }

    /// <summary>True when some index of [first, last] holds an entry.</summary>
    public bool Occupied(ulong first, ulong last)
    {
        var i = FirstEndingAtOrAfter(first);
        return i < Ranges.Count && Ranges[i].First <= last;
    }

    /// <summary>mtree_store_range(): overwrite [first, last] with entry (NULL erases just those indices).</summary>
    public (int Result, IntervalMapModel<T> Model) Store(ulong first, ulong last, T entry)
    {
        if (first > last)
        {
            return (-EINVAL, this);
        }

        var b = Ranges.ToBuilder();
        var i = FirstEndingAtOrAfter(first);
        var insertAt = i;
        while (i < b.Count && b[i].First <= last)
        {
            var r = b[i];
            b.RemoveAt(i);
            if (r.First < first)
            {
                b.Insert(i, r with { Last = first - 1 });
                i++;
                insertAt = i;
            }

            if (r.Last > last)
            {
                b.Insert(i, r with { First = last + 1 });
                break;
            }
        }

        if (!IsNull(entry))
        {
            b.Insert(insertAt, new ModelInterval<T>(first, last, entry));
        }

        return (0, this with { Ranges = b.ToImmutable() });
    }

    /// <summary>mtree_insert_range(): store only if every index of [first, last] is NULL.</summary>
    public (int Result, IntervalMapModel<T> Model) Insert(ulong first, ulong last, T entry)
    {
        if (first > last)
        {
            return (-EINVAL, this);
        }

        return Occupied(first, last) ? (-EEXIST, this) : Store(first, last, entry);
    }

    /// <summary>mtree_erase(): remove the whole range containing index; the old entry or NULL.</summary>
    public (T Old, IntervalMapModel<T> Model) Erase(ulong index)
    {
        var i = FirstEndingAtOrAfter(index);
        if (i < Ranges.Count && Ranges[i].First <= index)
        {
            return (Ranges[i].Entry, this with { Ranges = Ranges.RemoveAt(i) });
        }

        return (default!, this);
    }

    /// <summary>The maximal NULL runs [first, last], lowest first.</summary>
    public IEnumerable<(ulong First, ulong Last)> NullRuns()
    {
        ulong cursor = 0;
        foreach (var r in Ranges)
        {
            if (r.First > cursor)
            {
                yield return (cursor, r.First - 1);
            }

            if (r.Last == ulong.MaxValue)
            {
                yield break;
            }

            cursor = r.Last + 1;
        }

        yield return (cursor, ulong.MaxValue);
    }

    private static int CheckWindow(ulong min, ulong max, ulong size)
    {
        if (min > max)
        {
            return -EINVAL;
        }

        return size == 0 || max - min < size - 1 ? -EINVAL : 0;
    }

    /// <summary>mas_empty_area(): the lowest index of a free window of size indices inside [min, max].</summary>
    public int EmptyArea(ulong min, ulong max, ulong size, out ulong index)
    {
        index = 0;
        var err = CheckWindow(min, max, size);
        if (err != 0)
        {
            return err;
        }

        foreach (var (g0, g1) in NullRuns())
        {
            var a = Math.Max(g0, min);
            var b = Math.Min(g1, max);
            if (a <= b && b - a >= size - 1)
            {
                index = a;
                return 0;
            }
        }

        return -EBUSY;
    }

    /// <summary>mas_empty_area_rev(): the lowest index of the highest free window of size indices inside [min, max].</summary>
    public int EmptyAreaRev(ulong min, ulong max, ulong size, out ulong index)
    {
        index = 0;
        var err = CheckWindow(min, max, size);
        if (err != 0)
        {
            return err;
        }

        foreach (var (g0, g1) in NullRuns().Reverse())
        {
            var a = Math.Max(g0, min);
            var b = Math.Min(g1, max);
            if (a <= b && b - a >= size - 1)
            {
                index = b - (size - 1);
                return 0;
            }
        }

        return -EBUSY;
    }

    /// <summary>mtree_alloc_range(): store entry at the lowest fit; -EINVAL without MT_FLAGS_ALLOC_RANGE.</summary>
    public (int Result, ulong Start, IntervalMapModel<T> Model) AllocRange(ulong size, ulong min, ulong max, T entry) =>
        Alloc(size, min, max, entry, rev: false);

    /// <summary>mtree_alloc_rrange(): store entry at the highest fit.</summary>
    public (int Result, ulong Start, IntervalMapModel<T> Model) AllocRrange(ulong size, ulong min, ulong max, T entry) =>
        Alloc(size, min, max, entry, rev: true);

    private (int, ulong, IntervalMapModel<T>) Alloc(ulong size, ulong min, ulong max, T entry, bool rev)
    {
        if (!AllocTree)
        {
            return (-EINVAL, 0, this);
        }

        var r = rev ? EmptyAreaRev(min, max, size, out var index) : EmptyArea(min, max, size, out index);
        if (r != 0)
        {
            return (r, 0, this);
        }

        var (_, m) = Store(index, index + size - 1, entry);
        return (0, index, m);
    }

    public override string ToString() =>
        Ranges.Count <= 6
            ? "{" + string.Join(", ", Ranges.Select(r => $"[{r.First:x}-{r.Last:x}]={r.Entry}")) + "}"
            : $"{{{Ranges.Count} ranges}}";
}
