using System.Numerics;
using MmSim.Kernel;

namespace MmSim.Mm;

/// <summary>The quick path of the page_alloc invariant (the full check is <c>CheckInvariants</c> in PageAlloc.cs).</summary>
public sealed partial class PageAllocator
{
    // One bit per frame: in a free or pcp block. Reused across checks.
    private ulong[]? _quickMarks;

    /// <summary>
    /// True only when <c>CheckInvariants</c> would report nothing: the same conditions, tested a word at a time
    /// (the blocks marked in a bitmap, the frames combined with <see cref="FrameScan"/>) and without the messages.
    /// False as soon as anything is off; the full check then says what. Keep it in step with CheckInvariants.
    /// </summary>
    internal bool InvariantsHold()
    {
        if (!FrameScan.Usable)
        {
            return false;
        }

        var total = TotalPages;
        var marks = _quickMarks ??= new ulong[(total + 63) >> 6];
        Array.Clear(marks);
        long free = 0;
        for (var o = 0; o < K.NR_PAGE_ORDERS; o++)
        {
            var area = _freeArea[o];
            var words = area.Words;
            var n = 1L << o;
            for (var w = 0; w < words.Length; w++)
            {
                var bits = words[w];
                while (bits != 0)
                {
                    var pfn = (((long)w << 6) + BitOperations.TrailingZeroCount(bits)) << o;
                    bits &= bits - 1;
                    free += n;
                    if (pfn + n > total || !_frames[pfn].Has(PageFlags.Buddy) || _frames[pfn].Order != o || !Mark(marks, pfn, o))
                    {
                        return false;
                    }

                    var buddy = pfn ^ n;
                    if (o < K.MAX_PAGE_ORDER && buddy + n <= total && area.Test(buddy >> o))
                    {
                        return false;
                    }
                }
            }
        }

        if (free != NrFreeBuddyPages)
        {
            return false;
        }

        long pcp = 0;
        for (var o = 0; o < _pcpLists.Length; o++)
        {
            var list = _pcpLists[o];
            var n = 1L << o;
            for (var i = 0; i < list.Count; i++)
            {
                var pfn = list[i];
                pcp += n;
                if ((pfn & (n - 1)) != 0 || pfn < 0 || pfn + n > total || _frames[pfn].Has(PageFlags.Buddy) || !Mark(marks, pfn, o))
                {
                    return false;
                }
            }
        }

        if (pcp != _pcpCount)
        {
            return false;
        }

        // A free frame has no reference, mapping or contents; no frame has a negative reference count.
        FrameScan.OrByMarks(_frames.AsSpan(0, (int)total), marks, out var inFree, out var inUse);
        return (inUse & FrameScan.RefcountSign) == 0 && (inFree & (FrameScan.RefcountMask | FrameScan.MapcountMask)) == 0 &&
            !Contents.AnyBufferIn(marks);
    }

    // Mark the block [pfn, pfn + 2^order) (aligned, in range); false when a frame of it is marked already.
    private static bool Mark(ulong[] marks, long pfn, int order)
    {
        if (order >= 6)
        {
            var first = (int)(pfn >> 6);
            var last = (int)((pfn + (1L << order)) >> 6);
            for (var w = first; w < last; w++)
            {
                if (marks[w] != 0)
                {
                    return false;
                }

                marks[w] = ulong.MaxValue;
            }

            return true;
        }

        var mask = ((1UL << (1 << order)) - 1) << (int)(pfn & 63);
        ref var word = ref marks[pfn >> 6];
        if ((word & mask) != 0)
        {
            return false;
        }

        word |= mask;
        return true;
    }
}
