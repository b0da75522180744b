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
/// The metadata of one page frame (struct page), eight bytes, kept in an array indexed by PFN.
/// Refcount is page_ref_count(); Mapcount is page_mapcount() (the kernel stores it biased by -1).
/// </summary>
public struct PageFrame
{
    public int Refcount;
    public ushort Mapcount;
    public byte Order;
    public PageFlags Flags;

    public readonly bool Has(PageFlags f) => (Flags & f) != 0;
}
