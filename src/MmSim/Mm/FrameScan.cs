using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace MmSim.Mm;

/// <summary>
/// Host-side scans of the frame array for the quick paths of the invariant checks: each 8-byte
/// <see cref="PageFrame"/> read as one little-endian ulong (Refcount in bits 0-31, Mapcount 32-47, Order 48-55,
/// Flags 56-63) and combined a vector at a time. <see cref="Usable"/> says whether the runtime lays the struct out
/// that way (checked once); when it does not, the quick paths vouch for nothing and the full checks run.
/// </summary>
internal static class FrameScan
{
    public const ulong RefcountSign = 0x8000_0000UL;
    public const ulong RefcountMask = 0xFFFF_FFFFUL;
    public const ulong MapcountMask = 0xFFFFUL << 32;
    public const int FlagsShift = 56;

    /// <summary>Whether a frame reads as the ulong described above.</summary>
    public static readonly bool Usable = LayoutIsAsExpected();

    private static bool LayoutIsAsExpected()
    {
        if (!BitConverter.IsLittleEndian || Unsafe.SizeOf<PageFrame>() != sizeof(ulong))
        {
            return false;
        }

        Span<PageFrame> f = [new PageFrame { Refcount = 0x01020304, Mapcount = 0x0506, Order = 7, Flags = (PageFlags)8 }];
        return MemoryMarshal.Cast<PageFrame, ulong>(f)[0] == 0x0807_0506_0102_0304UL;
    }

    /// <summary>The frames of <paramref name="pa"/>, one ulong each (only when <see cref="Usable"/>).</summary>
    public static ReadOnlySpan<ulong> Words(PageAllocator pa) =>
        MemoryMarshal.Cast<PageFrame, ulong>(MemoryMarshal.CreateReadOnlySpan(ref pa.Frame(0), (int)pa.TotalPages));

    /// <summary>The bitwise OR of <paramref name="words"/>.</summary>
    public static ulong Or(ReadOnlySpan<ulong> words)
    {
        ulong acc = 0;
        var i = 0;
        if (Vector.IsHardwareAccelerated && words.Length >= Vector<ulong>.Count)
        {
            var vectors = MemoryMarshal.Cast<ulong, Vector<ulong>>(words);
            var v = Vector<ulong>.Zero;
            foreach (var x in vectors)
            {
                v |= x;
            }

            for (var k = 0; k < Vector<ulong>.Count; k++)
            {
                acc |= v[k];
            }

            i = vectors.Length * Vector<ulong>.Count;
        }

        for (; i < words.Length; i++)
        {
            acc |= words[i];
        }

        return acc;
    }

    /// <summary>How many of <paramref name="words"/> have a bit of <paramref name="mask"/> set.</summary>
    public static long CountAny(ReadOnlySpan<ulong> words, ulong mask)
    {
        long zero = 0;
        var i = 0;
        if (Vector.IsHardwareAccelerated && words.Length >= Vector<ulong>.Count)
        {
            var vectors = MemoryMarshal.Cast<ulong, Vector<ulong>>(words);
            var m = new Vector<ulong>(mask);
            var zeros = Vector<ulong>.Zero;
            foreach (var x in vectors)
            {
                // Equals gives all ones (-1) in each lane where no bit of the mask is set.
                zeros -= Vector.Equals(x & m, Vector<ulong>.Zero);
            }

            zero = (long)Vector.Sum(zeros);
            i = vectors.Length * Vector<ulong>.Count;
        }

        for (; i < words.Length; i++)
        {
            if ((words[i] & mask) == 0)
            {
                zero++;
            }
        }

        return words.Length - zero;
    }
}
