using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace MmSim.Vm;

/// <summary>
/// Host-side scan of a PTE page for the vm invariant's quick path: whether a block of 16 entries holds a valid one,
/// from 8 vector loads of the entries' flag bytes. <see cref="Usable"/> says whether the runtime lays
/// <see cref="Pte"/> out as 16 bytes with the flags at byte 8 (checked once) and vectors are accelerated; when not,
/// the caller reads each entry.
/// </summary>
internal static class PteScan
{
    public const int Block = 16;

    private const int PteSize = 16;
    private const int FlagsOffset = 8;

    /// <summary>Whether <see cref="AnyValid"/> may be used.</summary>
    public static readonly bool Usable = Vector256.IsHardwareAccelerated && LayoutIsAsExpected();

    // PteFlags.Valid in the flags byte of both entries of a 32-byte vector.
    private static readonly Vector256<byte> ValidMask = Vector256.Create(
        0, 0, 0, 0, 0, 0, 0, 0, (byte)PteFlags.Valid, 0, 0, 0, 0, 0, 0, 0,
        0, 0, 0, 0, 0, 0, 0, 0, (byte)PteFlags.Valid, 0, 0, 0, 0, 0, 0, (byte)0);

    private static bool LayoutIsAsExpected()
    {
        if (Unsafe.SizeOf<Pte>() != PteSize)
        {
            return false;
        }

        var p = new Pte[1];
        return Unsafe.ByteOffset(ref Unsafe.As<Pte, byte>(ref p[0]), ref Unsafe.As<PteFlags, byte>(ref p[0].Flags)) == FlagsOffset;
    }

    /// <summary>Whether one of entries[start .. start + 16) is valid (pte_present()).</summary>
    public static bool AnyValid(Pte[] entries, int start)
    {
        if ((uint)start > (uint)(entries.Length - Block))
        {
            throw new ArgumentOutOfRangeException(nameof(start));
        }

        ref var b = ref Unsafe.As<Pte, byte>(ref entries[start]);
        var acc = Vector256.LoadUnsafe(ref b) | Vector256.LoadUnsafe(ref b, 32) | Vector256.LoadUnsafe(ref b, 64) |
            Vector256.LoadUnsafe(ref b, 96) | Vector256.LoadUnsafe(ref b, 128) | Vector256.LoadUnsafe(ref b, 160) |
            Vector256.LoadUnsafe(ref b, 192) | Vector256.LoadUnsafe(ref b, 224);
        return (acc & ValidMask) != Vector256<byte>.Zero;
    }
}
