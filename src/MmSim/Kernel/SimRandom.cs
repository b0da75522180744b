namespace MmSim.Kernel;

/// <summary>
/// The machine's one source of randomness: xoshiro256** seeded through SplitMix64. Its output depends only on
/// the seed, never on the runtime version, so runs are reproducible everywhere.
/// </summary>
public sealed class SimRandom
{
    private ulong _s0, _s1, _s2, _s3;

    public SimRandom(ulong seed)
    {
        Seed = seed;
        var x = seed;
        _s0 = SplitMix(ref x);
        _s1 = SplitMix(ref x);
        _s2 = SplitMix(ref x);
        _s3 = SplitMix(ref x);
    }

    public ulong Seed { get; }

    private static ulong SplitMix(ref ulong x)
    {
        unchecked
        {
            var z = x += 0x9E3779B97F4A7C15UL;
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
            return z ^ (z >> 31);
        }
    }

    public ulong NextUInt64()
    {
        unchecked
        {
            var result = ulong.RotateLeft(_s1 * 5, 7) * 9;
            var t = _s1 << 17;
            _s2 ^= _s0;
            _s3 ^= _s1;
            _s1 ^= _s2;
            _s0 ^= _s3;
            _s2 ^= t;
            _s3 = ulong.RotateLeft(_s3, 45);
            return result;
        }
    }

    /// <summary>A uniform value in [0, bound) (bound &gt; 0), by Lemire's multiply-shift with rejection.</summary>
    public ulong NextBelow(ulong bound)
    {
        if (bound == 0)
        {
            return 0;
        }

        var threshold = (0UL - bound) % bound;
        while (true)
        {
            var r = NextUInt64();
            var hi = Math.BigMul(r, bound, out var lo);
            if (lo >= threshold)
            {
                return hi;
            }
        }
    }

    /// <summary>A uniform int in [minInclusive, maxExclusive).</summary>
    public int Next(int minInclusive, int maxExclusive) =>
        minInclusive + (int)NextBelow((ulong)(maxExclusive - minInclusive));

    /// <summary>True with probability percent/100.</summary>
    public bool Percent(int percent) => NextBelow(100) < (ulong)percent;
}
