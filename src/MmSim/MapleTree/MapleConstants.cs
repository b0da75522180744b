namespace MmSim.MapleTree;

/// <summary>Tree flags (include/linux/maple_tree.h, <c>ma_flags</c>).</summary>
public static class MapleFlags
{
    /// <summary>MT_FLAGS_ALLOC_RANGE: track gaps; internal nodes are maple_arange_64.</summary>
    public const uint MT_FLAGS_ALLOC_RANGE = 0x01;

    /// <summary>MT_FLAGS_USE_RCU: the tree is in RCU mode (nodes are replaced, never edited in place).</summary>
    public const uint MT_FLAGS_USE_RCU = 0x02;

    /// <summary>MT_FLAGS_HEIGHT_OFFSET: the height is stored in bits 2..6.</summary>
    public const int MT_FLAGS_HEIGHT_OFFSET = 0x02;

    /// <summary>MT_FLAGS_HEIGHT_MASK.</summary>
    public const uint MT_FLAGS_HEIGHT_MASK = 0x7C;

    public const uint MT_FLAGS_LOCK_MASK = 0x300;
    public const uint MT_FLAGS_LOCK_IRQ = 0x100;
    public const uint MT_FLAGS_LOCK_BH = 0x200;
    public const uint MT_FLAGS_LOCK_EXTERN = 0x300;

    /// <summary>MT_FLAGS_ALLOC_WRAPPED: the cyclic allocator wrapped.</summary>
    public const uint MT_FLAGS_ALLOC_WRAPPED = 0x0800;

    /// <summary>MM_MT_FLAGS: the flags of the VMA tree (mm->mm_mt).</summary>
    public const uint MM_MT_FLAGS = MT_FLAGS_ALLOC_RANGE | MT_FLAGS_LOCK_EXTERN | MT_FLAGS_USE_RCU;
}

/// <summary>Node geometry of the 64-bit kernel (include/linux/maple_tree.h, lib/maple_tree.c).</summary>
public static class MapleNodeLayout
{
    /// <summary>sizeof(struct maple_node): 256 bytes, 256-aligned.</summary>
    public const int MAPLE_NODE_SIZE = 256;

    /// <summary>MAPLE_NODE_SLOTS: slots of a dense node (unused by the normal API).</summary>
    public const int MAPLE_NODE_SLOTS = 31;

    /// <summary>MAPLE_RANGE64_SLOTS: slots of maple_leaf_64 and maple_range_64 (15 pivots).</summary>
    public const int MAPLE_RANGE64_SLOTS = 16;

    /// <summary>MAPLE_ARANGE64_SLOTS: slots of maple_arange_64 (9 pivots, 10 gaps, metadata).</summary>
    public const int MAPLE_ARANGE64_SLOTS = 10;

    /// <summary>MAPLE_ALLOC_SLOTS: nodes one maple_alloc bookkeeping node holds.</summary>
    public const int MAPLE_ALLOC_SLOTS = 30;

    /// <summary>MAPLE_HEIGHT_MAX.</summary>
    public const int MAPLE_HEIGHT_MAX = 31;

    /// <summary>MAPLE_RESERVED_RANGE: internal entries below this are reserved.</summary>
    public const ulong MAPLE_RESERVED_RANGE = 4096;

    /// <summary>mt_min_slots[maple_leaf_64] and [maple_range_64]: (MAPLE_RANGE64_SLOTS / 2) - 2.</summary>
    public const int MinSlotsRange64 = (MAPLE_RANGE64_SLOTS / 2) - 2;

    /// <summary>mt_min_slots[maple_arange_64]: (MAPLE_ARANGE64_SLOTS / 2) - 1.</summary>
    public const int MinSlotsArange64 = (MAPLE_ARANGE64_SLOTS / 2) - 1;
}

/// <summary>enum maple_type.</summary>
public enum MapleType
{
    maple_dense = 0,
    maple_leaf_64 = 1,
    maple_range_64 = 2,
    maple_arange_64 = 3,
}

/// <summary>enum maple_status: the state of an <see cref="MaState{T}"/>.</summary>
public enum MapleStatus
{
    ma_active,
    ma_start,
    ma_root,
    ma_none,
    ma_pause,
    ma_overflow,
    ma_underflow,
    ma_error,
}

/// <summary>enum store_type: how a write modifies the tree (lib/maple_tree.c, mas_wr_store_type()).</summary>
public enum MapleStoreType
{
    wr_invalid,
    wr_new_root,
    wr_store_root,
    wr_exact_fit,
    wr_spanning_store,
    wr_split_store,
    wr_rebalance,
    wr_append,
    wr_node_store,
    wr_slot_store,
}

/// <summary>One stored range: what <c>mt_for_each</c> yields.</summary>
/// <param name="First">The first index of the range (inclusive).</param>
/// <param name="Last">The last index of the range (inclusive).</param>
/// <param name="Entry">The entry stored over the range.</param>
public readonly record struct MapleRange<T>(ulong First, ulong Last, T Entry);
