using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace MmSim.Mm;

/// <summary>
/// Host-side scans of the frame array for the quick paths of the invariant checks: each 7-byte
/// <see cref="PageFrame"/> read as the low 56 bits of a little-endian ulong (refcount in bits 0-27 with its sign
/// in bit 27, order 28-31, Mapcount 32-47, Flags 48-55). <see cref="Usable"/> says whether the runtime lays the
/// struct out that way (checked once); when it does not, the quick paths vouch for nothing and the full checks run.
/// </summary>
internal static class FrameScan
{
    public const ulong RefcountSign = 1UL << 27;
    public const ulong RefcountMask = (1UL << 28) - 1;
    public const ulong MapcountMask = 0xFFFFUL << 32;
    public const int FlagsShift = 48;

    private const int FrameSize = 7;
    private const ulong FrameMask = (1UL << 56) - 1;

    /// <summary>Whether a frame reads as the value described above.</summary>
    public static readonly bool Usable = LayoutIsAsExpected();

    private static bool LayoutIsAsExpected()
    {
        if (!BitConverter.IsLittleEndian || Unsafe.SizeOf<PageFrame>() != FrameSize)
        {
            return false;
        }

        Span<PageFrame> f = [new PageFrame { Refcount = -2, Order = 7, Mapcount = 0x0506, Flags = (PageFlags)8 }];
        return Word(f, 0) == 0x08_0506_7FFF_FFFEUL;
    }

    /// <summary>The frames of <paramref name="pa"/>.</summary>
    public static ReadOnlySpan<PageFrame> Frames(PageAllocator pa) =>
        MemoryMarshal.CreateReadOnlySpan(ref pa.Frame(0), (int)pa.TotalPages);

    /// <summary>Frame <paramref name="i"/> of <paramref name="frames"/> as a 56-bit value.</summary>
    public static ulong Word(ReadOnlySpan<PageFrame> frames, int i)
    {
        var bytes = MemoryMarshal.AsBytes(frames);
        ref var b = ref MemoryMarshal.GetReference(bytes);
        var at = i * FrameSize;
        if (at + sizeof(ulong) <= bytes.Length)
        {
            return Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref b, at)) & FrameMask;
        }

        // The last frame: the eighth byte would be past the array.
        _ = bytes[at + FrameSize - 1];
        return Unsafe.ReadUnaligned<uint>(ref Unsafe.Add(ref b, at)) |
            ((ulong)Unsafe.ReadUnaligned<ushort>(ref Unsafe.Add(ref b, at + 4)) << 32) |
            ((ulong)Unsafe.Add(ref b, at + 6) << 48);
    }

    /// <summary>The bitwise OR of the frames' values.</summary>
    public static ulong Or(ReadOnlySpan<PageFrame> frames)
    {
        // Eight frames are seven ulongs: OR them in seven lanes, then fold the lanes back into frames.
        var bytes = MemoryMarshal.AsBytes(frames);
        var blocks = frames.Length / 8;
        var words = MemoryMarshal.Cast<byte, ulong>(bytes[..(blocks * 8 * FrameSize)]);
        Span<ulong> lanes = stackalloc ulong[8];
        lanes.Clear();
        for (var w = 0; w + 7 <= words.Length; w += 7)
        {
            lanes[0] |= words[w];
            lanes[1] |= words[w + 1];
            lanes[2] |= words[w + 2];
            lanes[3] |= words[w + 3];
            lanes[4] |= words[w + 4];
            lanes[5] |= words[w + 5];
            lanes[6] |= words[w + 6];
        }

        ulong acc = 0;
        ReadOnlySpan<PageFrame> folded = MemoryMarshal.Cast<ulong, PageFrame>(lanes)[..8];
        for (var k = 0; k < 8; k++)
        {
            acc |= Word(folded, k);
        }

        for (var i = blocks * 8; i < frames.Length; i++)
        {
            acc |= Word(frames, i);
        }

        return acc;
    }

    /// <summary>
    /// Whether no frame outside <paramref name="marks"/> (one bit per frame, set = skip) has a bit of
    /// <paramref name="mask"/> set: runs of unmarked 64-frame chunks are combined with <see cref="Or"/>.
    /// </summary>
    public static bool NoneOutside(ReadOnlySpan<PageFrame> frames, ReadOnlySpan<ulong> marks, ulong mask)
    {
        var runStart = 0;
        for (var w = 0; w <= marks.Length; w++)
        {
            var m = w < marks.Length ? marks[w] : ulong.MaxValue;
            if (m == 0)
            {
                continue;
            }

            var runEnd = Math.Min(w << 6, frames.Length);
            if (runEnd > runStart && (Or(frames[runStart..runEnd]) & mask) != 0)
            {
                return false;
            }

            runStart = Math.Min((w + 1) << 6, frames.Length);
            if (w == marks.Length)
            {
                break;
            }

            for (var bits = ~m; bits != 0; bits &= bits - 1)
            {
                var i = (w << 6) + BitOperations.TrailingZeroCount(bits);
                if (i < frames.Length && (Word(frames, i) & mask) != 0)
                {
                    return false;
                }
            }
        }

        return true;
    }

    /// <summary>Set bit <paramref name="pfn"/> of <paramref name="marks"/>; false when it was set already.</summary>
    public static bool TestAndSet(ulong[] marks, long pfn)
    {
        ref var word = ref marks[pfn >> 6];
        var bit = 1UL << (int)(pfn & 63);
        if ((word & bit) != 0)
        {
            return false;
        }

        word |= bit;
        return true;
    }
}
