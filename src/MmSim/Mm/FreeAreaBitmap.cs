using System.Numerics;
using System.Runtime.CompilerServices;

namespace MmSim.Mm;

/// <summary>
/// One order's free list (zone->free_area[order]), kept as a three-level bitmap so that the lowest free block is
/// found in a few word operations and allocation is deterministic: lowest PFN first.
/// </summary>
internal sealed class FreeAreaBitmap
{
    private readonly ulong[] _l0;
    private readonly ulong[] _l1;
    private readonly ulong[] _l2;

    public FreeAreaBitmap(long blocks)
    {
        Capacity = blocks;
        _l0 = new ulong[(blocks + 63) / 64];
        _l1 = new ulong[(_l0.Length + 63) / 64];
        _l2 = new ulong[(_l1.Length + 63) / 64];
    }

    public long Capacity { get; }

    /// <summary>nr_free of this order.</summary>
    public long Count { get; private set; }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool Test(long i) => (_l0[i >> 6] & (1UL << (int)(i & 63))) != 0;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Set(long i)
    {
        var w = i >> 6;
        var was = _l0[w];
        _l0[w] = was | (1UL << (int)(i & 63));
        Count++;
        if (was == 0)
        {
            var w1 = w >> 6;
            var was1 = _l1[w1];
            _l1[w1] = was1 | (1UL << (int)(w & 63));
            if (was1 == 0)
            {
                _l2[w1 >> 6] |= 1UL << (int)(w1 & 63);
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Clear(long i)
    {
        var w = i >> 6;
        var now = _l0[w] & ~(1UL << (int)(i & 63));
        _l0[w] = now;
        Count--;
        if (now == 0)
        {
            var w1 = w >> 6;
            var now1 = _l1[w1] & ~(1UL << (int)(w & 63));
            _l1[w1] = now1;
            if (now1 == 0)
            {
                _l2[w1 >> 6] &= ~(1UL << (int)(w1 & 63));
            }
        }
    }

    /// <summary>The lowest set index, or -1.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public long FindFirst()
    {
        if (Count == 0)
        {
            return -1;
        }

        for (var i2 = 0; i2 < _l2.Length; i2++)
        {
            var b2 = _l2[i2];
            if (b2 == 0)
            {
                continue;
            }

            long w1 = (i2 << 6) + BitOperations.TrailingZeroCount(b2);
            long w0 = (w1 << 6) + BitOperations.TrailingZeroCount(_l1[w1]);
            return (w0 << 6) + BitOperations.TrailingZeroCount(_l0[w0]);
        }

        return -1;
    }

    /// <summary>Host bytes used by the bitmaps.</summary>
    public long HostBytes => 8L * (_l0.Length + _l1.Length + _l2.Length);

    /// <summary>The bottom level: bit i of word i / 64 is block i (invariant checks read it a word at a time).</summary>
    internal ReadOnlySpan<ulong> Words => _l0;

    /// <summary>Every set index in ascending order (for invariant checks, not hot paths).</summary>
    public IEnumerable<long> SetBits()
    {
        for (long w = 0; w < _l0.Length; w++)
        {
            var bits = _l0[w];
            while (bits != 0)
            {
                var b = BitOperations.TrailingZeroCount(bits);
                yield return (w << 6) + b;
                bits &= bits - 1;
            }
        }
    }
}
