using System.Collections.Immutable;

namespace MmSim.Model;

/// <summary>What a vmalloc-model area is.</summary>
public enum VmallocAreaKind
{
    /// <summary>vmalloc/vzalloc/vmalloc_user: every usable page mapped.</summary>
    Alloc,

    /// <summary>get_vm_area(VM_SPARSE): pages mapped one by one.</summary>
    Sparse,
}

/// <summary>One reserved range: [Start, End) with the guard page, Pages usable pages, and for sparse areas the mapped ones.</summary>
public sealed record VmallocModelArea(int Id, ulong Start, ulong End, VmallocAreaKind Kind, int Pages, bool Lazy,
    ImmutableSortedSet<int> Mapped)
{
    public ulong PagesOfRange => (End - Start) >> VmallocModel.PageShift;

    public bool IsMapped(int page) => page >= 0 && page < Pages && (Kind == VmallocAreaKind.Alloc || Mapped.Contains(page));
}

/// <summary>
/// The obviously correct model of the vmalloc address space: a sorted set of ranges, each busy or lazy. A new
/// range takes the lowest page-aligned gap in [VMALLOC_START, VMALLOC_END) that fits size plus one guard page;
/// freed ranges stay occupied until a purge, which happens when the lazy pages exceed <see cref="LazyMax"/> or
/// on request. Kernel stores are remembered as 8-byte values per (area, offset).
/// </summary>
public sealed record VmallocModel(
    ImmutableSortedDictionary<ulong, VmallocModelArea> Ranges,
    ImmutableDictionary<(int Id, ulong Offset), ulong> Values,
    long LazyMax,
    int NextId)
{
    public const int PageShift = 12;
    public const ulong PageSize = 1UL << PageShift;
    public const ulong VmallocStart = 0xffffc90000000000UL;
    public const ulong VmallocEnd = VmallocStart + (32UL << 40) - 1;

    public static VmallocModel Empty(long lazyMax) => new(
        ImmutableSortedDictionary<ulong, VmallocModelArea>.Empty,
        ImmutableDictionary<(int, ulong), ulong>.Empty, lazyMax, 1);

    public IEnumerable<VmallocModelArea> Busy => Ranges.Values.Where(r => !r.Lazy);

    public int BusyCount => Ranges.Values.Count(r => !r.Lazy);

    public int LazyCount => Ranges.Values.Count(r => r.Lazy);

    public long LazyPages => Ranges.Values.Where(r => r.Lazy).Sum(r => (long)r.PagesOfRange);

    /// <summary>nr_vmalloc_pages.</summary>
    public long VmallocPages => Busy.Where(r => r.Kind == VmallocAreaKind.Alloc).Sum(r => (long)r.Pages);

    /// <summary>Pages the sparse areas have mapped.</summary>
    public long SparseMappedPages => Busy.Where(r => r.Kind == VmallocAreaKind.Sparse).Sum(r => (long)r.Mapped.Count);

    /// <summary>The lowest start where <paramref name="bytes"/> fit, or null.</summary>
    public ulong? LowestFit(ulong bytes)
    {
        var candidate = VmallocStart;
        foreach (var r in Ranges.Values)
        {
            if (candidate + bytes <= r.Start)
            {
                break;
            }

            candidate = Math.Max(candidate, r.End);
        }

        return candidate + bytes <= VmallocEnd ? candidate : null;
    }

    /// <summary>Reserve <paramref name="pages"/> usable pages plus a guard page; purge and retry when nothing fits.</summary>
    public (VmallocModel Model, VmallocModelArea? Area) Reserve(int pages, VmallocAreaKind kind)
    {
        var bytes = ((ulong)pages + 1) << PageShift;
        var model = this;
        var at = model.LowestFit(bytes);
        if (at is null)
        {
            model = model.Purge();
            at = model.LowestFit(bytes);
            if (at is null)
            {
                return (model, null);
            }
        }

        var area = new VmallocModelArea(model.NextId, at.Value, at.Value + bytes, kind, pages, false, ImmutableSortedSet<int>.Empty);
        return (model with { Ranges = model.Ranges.Add(area.Start, area), NextId = model.NextId + 1 }, area);
    }

    /// <summary>The busy area containing <paramref name="addr"/> (guard page included), or null.</summary>
    public VmallocModelArea? Find(ulong addr) => Busy.FirstOrDefault(r => addr >= r.Start && addr < r.End);

    /// <summary>vfree/free_vm_area: the range goes lazy; past LazyMax everything lazy is purged.</summary>
    public VmallocModel Free(VmallocModelArea area)
    {
        var m = this with
        {
            Ranges = Ranges.SetItem(area.Start, area with { Lazy = true, Mapped = ImmutableSortedSet<int>.Empty }),
            Values = Values.RemoveRange(Values.Keys.Where(k => k.Id == area.Id)),
        };
        return m.LazyPages > LazyMax ? m.Purge() : m;
    }

    public VmallocModel Purge() => this with { Ranges = Ranges.RemoveRange(Ranges.Values.Where(r => r.Lazy).Select(r => r.Start)) };

    /// <summary>
    /// vm_area_map_pages on page range [first, first + count): the errno, and the model with the pages mapped
    /// before a present one (-EBUSY keeps them).
    /// </summary>
    public (VmallocModel Model, int Err, int NewlyMapped) Map(VmallocModelArea area, int first, int count)
    {
        if (area.Kind != VmallocAreaKind.Sparse)
        {
            return (this, -22, 0);
        }

        if (first < 0 || first + count > area.Pages)
        {
            return (this, -34, 0);
        }

        var mapped = area.Mapped;
        var err = 0;
        var n = 0;
        for (var p = first; p < first + count; p++)
        {
            if (mapped.Contains(p))
            {
                err = -16;
                break;
            }

            mapped = mapped.Add(p);
            n++;
        }

        return (With(area with { Mapped = mapped }), err, n);
    }

    /// <summary>vm_area_unmap_pages: nothing for a wrong area or range.</summary>
    public VmallocModel Unmap(VmallocModelArea area, int first, int count)
    {
        if (area.Kind != VmallocAreaKind.Sparse || first < 0 || first + count > area.Pages)
        {
            return this;
        }

        var gone = area.Mapped.Where(p => p >= first && p < first + count).ToList();
        var values = Values.RemoveRange(Values.Keys.Where(k => k.Id == area.Id && gone.Contains((int)(k.Offset >> PageShift))));
        return (this with { Values = values }).With(area with { Mapped = area.Mapped.Except(gone) });
    }

    /// <summary>A kernel store: remembered when the page is mapped.</summary>
    public VmallocModel Store(VmallocModelArea area, ulong offset, ulong value) =>
        area.IsMapped((int)(offset >> PageShift)) ? this with { Values = Values.SetItem((area.Id, offset), value) } : this;

    /// <summary>A kernel load: the stored value (0 for a fresh page), or null when the page is unmapped.</summary>
    public ulong? Load(VmallocModelArea area, ulong offset) =>
        area.IsMapped((int)(offset >> PageShift)) ? Values.GetValueOrDefault((area.Id, offset)) : null;

    private VmallocModel With(VmallocModelArea area) => this with { Ranges = Ranges.SetItem(area.Start, area) };

    public override string ToString() => $"busy={BusyCount} lazy={LazyCount}({LazyPages}p) vmalloc={VmallocPages}p sparse={SparseMappedPages}p";
}
