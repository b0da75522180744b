using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

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
        // Eight frames are seven ulongs (one group): OR the groups in seven lanes, then fold the lanes into frames.
        // 32 frames are seven 256-bit vectors (four groups), ORed a vector at a time where the host has them.
        ref var u = ref Unsafe.As<PageFrame, ulong>(ref MemoryMarshal.GetReference(frames));
        ulong l0 = 0, l1 = 0, l2 = 0, l3 = 0, l4 = 0, l5 = 0, l6 = 0;
        var groups = frames.Length / 8;
        var g = 0;
        if (Vector256.IsHardwareAccelerated && groups >= 4)
        {
            Vector256<ulong> v0 = default, v1 = default, v2 = default, v3 = default, v4 = default, v5 = default, v6 = default;
            var end = (nuint)(groups / 4 * 28);
            for (nuint w = 0; w < end; w += 28)
            {
                v0 |= Vector256.LoadUnsafe(ref u, w);
                v1 |= Vector256.LoadUnsafe(ref u, w + 4);
                v2 |= Vector256.LoadUnsafe(ref u, w + 8);
                v3 |= Vector256.LoadUnsafe(ref u, w + 12);
                v4 |= Vector256.LoadUnsafe(ref u, w + 16);
                v5 |= Vector256.LoadUnsafe(ref u, w + 20);
                v6 |= Vector256.LoadUnsafe(ref u, w + 24);
            }

            // The 28 ulongs (vector t / 4, element t % 4) are four groups of seven: ulong t goes to lane t % 7.
            l0 = v0.GetElement(0) | v1.GetElement(3) | v3.GetElement(2) | v5.GetElement(1);
            l1 = v0.GetElement(1) | v2.GetElement(0) | v3.GetElement(3) | v5.GetElement(2);
            l2 = v0.GetElement(2) | v2.GetElement(1) | v4.GetElement(0) | v5.GetElement(3);
            l3 = v0.GetElement(3) | v2.GetElement(2) | v4.GetElement(1) | v6.GetElement(0);
            l4 = v1.GetElement(0) | v2.GetElement(3) | v4.GetElement(2) | v6.GetElement(1);
            l5 = v1.GetElement(1) | v3.GetElement(0) | v4.GetElement(3) | v6.GetElement(2);
            l6 = v1.GetElement(2) | v3.GetElement(1) | v5.GetElement(0) | v6.GetElement(3);
            g = groups / 4 * 4;
        }

        for (; g < groups; g++)
        {
            ref var w = ref Unsafe.Add(ref u, g * 7);
            l0 |= w;
            l1 |= Unsafe.Add(ref w, 1);
            l2 |= Unsafe.Add(ref w, 2);
            l3 |= Unsafe.Add(ref w, 3);
            l4 |= Unsafe.Add(ref w, 4);
            l5 |= Unsafe.Add(ref w, 5);
            l6 |= Unsafe.Add(ref w, 6);
        }

        // Frame k of a group starts at byte 7k: its bits are spread over lanes (7k) / 8 and (7k + 6) / 8.
        var acc = l0 | (l0 >> 56) | (l1 << 8) | (l1 >> 48) | (l2 << 16) | (l2 >> 40) | (l3 << 24) | (l3 >> 32) |
            (l4 << 32) | (l4 >> 24) | (l5 << 40) | (l5 >> 16) | (l6 << 48) | (l6 >> 8);
        acc &= FrameMask;
        for (var i = groups * 8; i < frames.Length; i++)
        {
            acc |= Word(frames, i);
        }

        return acc;
    }

    /// <summary>
    /// Whether no frame outside <paramref name="marks"/> (one bit per frame, set = skip) has a bit of
    /// <paramref name="mask"/> set.
    /// </summary>
    public static bool NoneOutside(ReadOnlySpan<PageFrame> frames, ReadOnlySpan<ulong> marks, ulong mask)
    {
        OrByMarks(frames, marks, out _, out var outside);
        return (outside & mask) == 0;
    }

    /// <summary>
    /// The OR of the frames whose bit in <paramref name="marks"/> is set (<paramref name="marked"/>) and of the
    /// others (<paramref name="unmarked"/>; frames past the end of the marks are unmarked): each run of frames
    /// marked alike is combined with one <see cref="Or"/>.
    /// </summary>
    public static void OrByMarks(ReadOnlySpan<PageFrame> frames, ReadOnlySpan<ulong> marks, out ulong marked, out ulong unmarked)
    {
        marked = unmarked = 0;
        var n = frames.Length;
        var pos = 0;
        while (pos < n)
        {
            var w = pos >> 6;
            if (w >= marks.Length)
            {
                unmarked |= Or(frames[pos..]);
                return;
            }

            // The run ends at the first frame from pos whose mark differs.
            var set = ((marks[w] >> (pos & 63)) & 1) != 0;
            var differs = (set ? ~marks[w] : marks[w]) & (ulong.MaxValue << (pos & 63));
            while (differs == 0 && ++w < marks.Length)
            {
                differs = set ? ~marks[w] : marks[w];
            }

            var end = differs != 0 ? ((long)w << 6) + BitOperations.TrailingZeroCount(differs) :
                set ? (long)marks.Length << 6 : n;
            var stop = (int)Math.Min(end, n);
            var run = Or(frames[pos..stop]);
            if (set)
            {
                marked |= run;
            }
            else
            {
                unmarked |= run;
            }

            pos = stop;
        }
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
