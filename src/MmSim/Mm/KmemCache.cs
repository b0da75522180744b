namespace MmSim.Mm;

/// <summary>SLAB_* cache creation flags (include/linux/slab.h) that MmSim honours.</summary>
[Flags]
public enum SlabFlags
{
    None = 0,

    /// <summary>SLAB_ACCOUNT: every object is charged to the memcg.</summary>
    SLAB_ACCOUNT = 1 << 0,

    /// <summary>SLAB_HWCACHE_ALIGN: align objects to the cache line (64 bytes).</summary>
    SLAB_HWCACHE_ALIGN = 1 << 1,

    /// <summary>SLAB_PANIC: creation failure is a BUG.</summary>
    SLAB_PANIC = 1 << 2,

    /// <summary>SLAB_TYPESAFE_BY_RCU: slab pages are freed after a grace period.</summary>
    SLAB_TYPESAFE_BY_RCU = 1 << 3,
}

/// <summary>One slab: 2^order contiguous frames holding <see cref="KmemCache.ObjectsPerSlab"/> objects.</summary>
internal sealed class Slab
{
    public Slab(KmemCache cache, long pfn)
    {
        Cache = cache;
        Pfn = pfn;
        Live = new bool[cache.ObjectsPerSlab];
        Charged = new bool[cache.ObjectsPerSlab];
        Requested = new int[cache.ObjectsPerSlab];
        Objects = new SlabObject?[cache.ObjectsPerSlab];
    }

    public KmemCache Cache { get; }

    public long Pfn { get; private set; }

    public bool[] Live { get; }

    /// <summary>The size each live slot was requested with: KASAN poisons the rest (kasan_kmalloc()).</summary>
    public int[] Requested { get; }

    /// <summary>Slots charged to the memcg (slab->obj_exts objcg set).</summary>
    public bool[] Charged { get; }

    /// <summary>The typed C# object occupying each slot, when the slot backs one.</summary>
    public SlabObject?[] Objects { get; }

    public int InUse { get; set; }

    /// <summary>Scratch of the slab invariant's quick path (host only): the check that last saw this slab.</summary>
    internal long CheckMark;

    /// <summary>
    /// Reuse this (discarded, empty) slab's host arrays for a new slab at <paramref name="pfn"/>: a cache whose only
    /// slab empties and refills on every allocation then allocates no managed memory.
    /// </summary>
    public void Reset(long pfn)
    {
        Pfn = pfn;
        Array.Clear(Live);
        Array.Clear(Charged);
        Array.Clear(Requested);
        Array.Clear(Objects);
        InUse = 0;
    }

    /// <summary>Lowest free slot (slab freelists are LIFO in SLUB; lowest-first keeps runs readable).</summary>
    public int FirstFree() => Live.AsSpan().IndexOf(false);
}

/// <summary>struct kmem_cache (mm/slab.h): a cache of equal-sized objects carved out of slabs.</summary>
public sealed class KmemCache
{
    internal KmemCache(string name, int objectSize, int size, int order, SlabFlags flags)
    {
        Name = name;
        ObjectSize = objectSize;
        Size = size;
        Order = order;
        Flags = flags;
        ObjectsPerSlab = (int)((Kernel.K.PAGE_SIZE << order) / (ulong)size);
    }

    /// <summary>The cache's name in /proc/slabinfo.</summary>
    public string Name { get; }

    /// <summary>object_size: what the user asked for.</summary>
    public int ObjectSize { get; }

    /// <summary>size: the aligned slot stride.</summary>
    public int Size { get; }

    /// <summary>The slab order (calculate_order()).</summary>
    public int Order { get; }

    public SlabFlags Flags { get; }

    /// <summary>oo_objects(s->oo).</summary>
    public int ObjectsPerSlab { get; }

    /// <summary>Live objects.</summary>
    public long ActiveObjects { get; internal set; }

    /// <summary>Slabs currently allocated.</summary>
    public long NumSlabs { get; internal set; }

    /// <summary>Slabs with at least one free slot, in the order they became partial.</summary>
    internal List<Slab> Partial { get; } = [];

    /// <summary>Scratch of the slab invariant's quick path (host only): the check that last counted this cache, and its counts.</summary>
    internal long CheckMark;

    internal long CheckLive;

    internal long CheckSlabs;

    internal long CheckPartial;

    /// <summary>The host object of the last discarded slab, kept for the next new slab (no kernel state).</summary>
    internal Slab? Spare { get; set; }

    public override string ToString() => Name;
}
