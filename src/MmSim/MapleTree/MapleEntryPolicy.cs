namespace MmSim.MapleTree;

/// <summary>
/// How a tree's entry type encodes the XArray entry classes the kernel checks (include/linux/xarray.h). A
/// <see cref="MapleTree{T}"/> without a policy treats every non-default entry as an ordinary pointer: nothing is
/// reserved, nothing is rejected and nothing is hidden. Trees of raw kernel words (<c>ulong</c>) use
/// <see cref="XArrayEntryPolicy"/>, which applies the kernel's rules bit for bit.
/// </summary>
public interface IMapleEntryPolicy<in T>
{
    /// <summary>xa_is_internal(): low bits 10. Such an entry is never kept in the root pointer (it forces a node).</summary>
    bool IsInternal(T entry);

    /// <summary>xa_is_advanced(): internal and at most XA_RETRY_ENTRY. mtree_store/insert refuse it (-EINVAL, WARN).</summary>
    bool IsAdvanced(T entry);

    /// <summary>mt_is_reserved(): internal and below MAPLE_RESERVED_RANGE. mtree_alloc_* refuse it (-EINVAL, WARN).</summary>
    bool IsReserved(T entry);

    /// <summary>xa_is_zero(): XA_ZERO_ENTRY. Occupies its range but mtree_load and mt_find report NULL for it.</summary>
    bool IsZero(T entry);
}

/// <summary>The XArray encoding of a pointer-sized word (include/linux/xarray.h), for trees of <c>ulong</c>.</summary>
public sealed class XArrayEntryPolicy : IMapleEntryPolicy<ulong>
{
    /// <summary>XA_RETRY_ENTRY = xa_mk_internal(256).</summary>
    public const ulong XA_RETRY_ENTRY = (256UL << 2) | 2;

    /// <summary>XA_ZERO_ENTRY = xa_mk_internal(257).</summary>
    public const ulong XA_ZERO_ENTRY = (257UL << 2) | 2;

    /// <summary>The shared instance.</summary>
    public static XArrayEntryPolicy Instance { get; } = new();

    /// <summary>xa_mk_value(v) = (v &lt;&lt; 1) | 1.</summary>
    public static ulong XaMkValue(ulong v) => (v << 1) | 1;

    /// <summary>xa_to_value(e) = e &gt;&gt; 1.</summary>
    public static ulong XaToValue(ulong e) => e >> 1;

    /// <summary>xa_is_value(e): low bit 1.</summary>
    public static bool XaIsValue(ulong e) => (e & 1) != 0;

    /// <summary>xa_mk_internal(v) = (v &lt;&lt; 2) | 2.</summary>
    public static ulong XaMkInternal(ulong v) => (v << 2) | 2;

    public bool IsInternal(ulong entry) => (entry & 3) == 2;

    public bool IsAdvanced(ulong entry) => IsInternal(entry) && entry <= XA_RETRY_ENTRY;

    public bool IsReserved(ulong entry) => entry < MapleNodeLayout.MAPLE_RESERVED_RANGE && IsInternal(entry);

    public bool IsZero(ulong entry) => entry == XA_ZERO_ENTRY;
}
