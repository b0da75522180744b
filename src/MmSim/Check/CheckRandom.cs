namespace MmSim.Check;

/// <summary>
/// The checker's random source: SplitMix64, so that sequence <c>i</c> of seed <c>s</c> is the same on every
/// machine and every .NET version (System.Random's seeded algorithm is not a contract).
/// </summary>
internal sealed class CheckRandom
{
    private ulong _state;

    public CheckRandom(ulong seed) => _state = seed;

    /// <summary>The random source of sequence <paramref name="index"/> of a run seeded with <paramref name="seed"/>.</summary>
    public static CheckRandom ForSequence(ulong seed, long index) =>
        new(Mix(seed ^ Mix(unchecked((ulong)index * 0x9E3779B97F4A7C15UL + 0x632BE59BD9B4E019UL))));

    public ulong NextU64()
    {
        _state = unchecked(_state + 0x9E3779B97F4A7C15UL);
        return Mix(_state);
    }

    /// <summary>A number in [0, n).</summary>
    public int Next(int n) => n <= 1 ? 0 : (int)(NextU64() % (ulong)n);

    /// <summary>A number in [lo, hi].</summary>
    public int Range(int lo, int hi) => lo + Next(hi - lo + 1);

    /// <summary>True with probability <paramref name="percent"/>%.</summary>
    public bool Chance(int percent) => Next(100) < percent;

    public T Pick<T>(IReadOnlyList<T> items) => items[Next(items.Count)];

    private static ulong Mix(ulong z)
    {
        z = unchecked((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL);
        z = unchecked((z ^ (z >> 27)) * 0x94D049BB133111EBUL);
        return z ^ (z >> 31);
    }
}
