using System.Runtime.InteropServices;

namespace MmSim.Mm;

/// <summary>page->flags bits that MmSim keeps (include/linux/page-flags.h, with PG_buddy/PG_slab as page types).</summary>
[Flags]
public enum PageFlags : byte
{
    None = 0,

    /// <summary>PageBuddy: the first page of a free block in the buddy allocator.</summary>
    Buddy = 1 << 0,

    /// <summary>PageSlab: the page belongs to a slab.</summary>
    Slab = 1 << 1,

    /// <summary>The page backs vmalloc memory (counted in VmallocUsed).</summary>
    Vmalloc = 1 << 2,

    /// <summary>PageReserved: never handed to the allocator.</summary>
    Reserved = 1 << 3,

    /// <summary>PageHead: the first page of a compound (__GFP_COMP) allocation.</summary>
    Head = 1 << 4,

    /// <summary>PageTail: a later page of a compound allocation; its order field is the compound order.</summary>
    Tail = 1 << 5,

    /// <summary>The page is charged to the memcg (__GFP_ACCOUNT; page_memcg() set).</summary>
    Accounted = 1 << 6,

    /// <summary>PageAnon: an anonymous user page.</summary>
    Anon = 1 << 7,
}

/// <summary>
/// The metadata of one page frame (struct page), seven bytes, kept in an array indexed by PFN.
/// Refcount is page_ref_count(); Mapcount is page_mapcount() (the kernel stores it biased by -1).
/// The refcount is a 28-bit two's-complement number (-2^27 .. 2^27 - 1) sharing a 32-bit word with the 4-bit
/// order (0..MAX_PAGE_ORDER fits), so the array costs seven bytes per frame; the struct is packed (Pack = 1).
/// </summary>
[StructLayout(LayoutKind.Sequential, Pack = 1)]
public struct PageFrame
{
    /// <summary>The largest refcount; one more wraps to <see cref="MinRefcount"/> (as an int wraps at 2^31).</summary>
    public const int MaxRefcount = (1 << 27) - 1;

    /// <summary>The smallest (most negative) refcount.</summary>
    public const int MinRefcount = -(1 << 27);

    private const int OrderShift = 28;
    private const uint RefcountMask = (1u << OrderShift) - 1;

    // Bits 0..27: the refcount; bits 28..31: the order.
    private uint _refcountOrder;

    public ushort Mapcount;
    public PageFlags Flags;

    /// <summary>page_ref_count(): stored in 28 bits, wrapping like an int does at its own width.</summary>
    public int Refcount
    {
        readonly get => (int)(_refcountOrder << (32 - OrderShift)) >> (32 - OrderShift);
        set => _refcountOrder = (_refcountOrder & ~RefcountMask) | ((uint)value & RefcountMask);
    }

    /// <summary>The order of the block this frame heads (0..MAX_PAGE_ORDER), or the compound order of a tail.</summary>
    public byte Order
    {
        readonly get => (byte)(_refcountOrder >> OrderShift);
        set => _refcountOrder = (_refcountOrder & RefcountMask) | ((uint)value << OrderShift);
    }

    public readonly bool Has(PageFlags f) => (Flags & f) != 0;

    /// <summary>
    /// page_ref_dec_and_test() on a positive refcount: one decrement of the shared word (a refcount of 1..2^27 - 1
    /// never borrows from the order bits).
    /// </summary>
    internal bool PutRefcountTestZero() => (--_refcountOrder & RefcountMask) == 0;

    /// <summary>Refcount and order in one store (prep_new_page()'s set_page_refcounted() and set_page_order()).</summary>
    internal void SetRefcountAndOrder(int refcount, int order) =>
        _refcountOrder = ((uint)refcount & RefcountMask) | ((uint)order << OrderShift);
}
