using System.Collections.Immutable;

namespace MmSim.Model;

/// <summary>
/// The obviously correct model of kmalloc: which size class serves a request, and the set of live objects as
/// [address, address + usable size) intervals that must never overlap.
/// </summary>
public sealed record KmallocModel(ImmutableList<(ulong Addr, ulong Size, ulong Usable)> Live)
{
    private static readonly ulong[] Classes = [8, 16, 32, 64, 96, 128, 192, 256, 512, 1024, 2048, 4096, 8192];

    public static KmallocModel Empty { get; } = new(ImmutableList<(ulong, ulong, ulong)>.Empty);

    /// <summary>ksize() of a request: its size class, or whole pages (power-of-two order) above 8 KiB.</summary>
    public static ulong UsableSize(ulong size)
    {
        foreach (var c in Classes)
        {
            if (size <= c)
            {
                return c;
            }
        }

        ulong pages = 4096;
        while (pages < size)
        {
            pages *= 2;
        }

        return pages;
    }

    /// <summary>True when [addr, addr + usable) overlaps no live object.</summary>
    public bool Disjoint(ulong addr, ulong usable) =>
        Live.All(o => addr + usable <= o.Addr || o.Addr + o.Usable <= addr);

    public KmallocModel Add(ulong addr, ulong size) => new(Live.Add((addr, size, UsableSize(size))));

    public KmallocModel RemoveAt(int i) => new(Live.RemoveAt(i));

    public override string ToString() => $"live={Live.Count}";
}
