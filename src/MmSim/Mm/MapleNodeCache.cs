using MmSim.Kernel;
using MmSim.MapleTree;

namespace MmSim.Mm;

/// <summary>
/// maple_node_cache (lib/maple_tree.c, maple_tree_init()): the slab cache of 256-byte, 256-aligned maple nodes,
/// as the node allocator of a <see cref="MapleTree{T}"/>. Nodes come from the machine's SLUB, so failslab
/// injection, KASAN and the slab invariants see them; nodes an RCU tree drops are freed after a grace period
/// (kfree_rcu). The kernel's kmem_cache_alloc_bulk() consults failslab once per call; here each object of a bulk
/// allocation goes through kmem_cache_alloc() and so is its own injection point.
/// </summary>
public sealed class MapleNodeCache : IMapleNodeAllocator
{
    public const string CacheName = "maple_node";

    private readonly SlabAllocator _slab;
    private readonly Rcu _rcu;
    private readonly KmemCache _cache;

    public MapleNodeCache(SlabAllocator slab, Rcu rcu)
    {
        _slab = slab;
        _rcu = rcu;
        _cache = slab.Caches.FirstOrDefault(c => c.Name == CacheName)
            ?? slab.KmemCacheCreate(CacheName, MapleNodeLayout.MAPLE_NODE_SIZE, MapleNodeLayout.MAPLE_NODE_SIZE);
    }

    /// <summary>The machine's maple_node cache (created on first use).</summary>
    public static MapleNodeCache For(Machine machine) => new(machine.Slab, machine.Rcu);

    public KmemCache Cache => _cache;

    /// <summary>mt_alloc_one(): kmem_cache_alloc(maple_node_cache, gfp).</summary>
    public ulong AllocOne(Gfp gfp) => _slab.KmemCacheAlloc(_cache, gfp, "mt_alloc_one");

    /// <summary>mt_alloc_bulk(): all of them or none.</summary>
    public int AllocBulk(Gfp gfp, Span<ulong> nodes)
    {
        for (var i = 0; i < nodes.Length; i++)
        {
            nodes[i] = _slab.KmemCacheAlloc(_cache, gfp, "mt_alloc_bulk");
            if (nodes[i] == 0)
            {
                for (var j = 0; j < i; j++)
                {
                    _slab.KmemCacheFree(_cache, nodes[j], "mt_alloc_bulk");
                }

                return 0;
            }
        }

        return nodes.Length;
    }

    /// <summary>kmem_cache_free(maple_node_cache, node).</summary>
    public void Free(ulong node) => _slab.KmemCacheFree(_cache, node, "mt_free_one");

    /// <summary>mt_free_bulk(): kmem_cache_free_bulk(maple_node_cache, ...), each node as a kmem_cache_free().</summary>
    public void FreeBulk(ReadOnlySpan<ulong> nodes) => _slab.KmemCacheFreeBulk(_cache, nodes, "mt_free_one");

    /// <summary>ma_free_rcu(): kfree_rcu(), freed when the current grace period ends.</summary>
    public void FreeRcu(ulong node) => _rcu.CallRcu(() => _slab.KmemCacheFree(_cache, node, "ma_free_rcu"));
}
