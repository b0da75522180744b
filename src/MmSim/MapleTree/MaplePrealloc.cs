using MmSim.Kernel;

namespace MmSim.MapleTree;

/// <summary>
/// The nodes a write has allocated but not yet used (the kernel's <c>mas->alloc</c> list of <c>maple_alloc</c>
/// nodes). Nodes a non-RCU write removes from the tree are pushed here too (<c>mas_push_node()</c>) and leave with
/// the rest in <c>mas_destroy()</c>.
/// </summary>
internal sealed class MapleAllocState
{
    private ulong[] _nodes = new ulong[8];

    /// <summary>mas_allocated().</summary>
    public int Count { get; private set; }

    /// <summary>The node count the last plan asked for (mas->node_request / the worst case of the write).</summary>
    public int Request { get; set; }

    /// <summary>Allocated by mas_alloc_nodes (as opposed to pushed back by the write): decides bulk grouping.</summary>
    public int AllocatedByRequest { get; set; }

    public void Push(ulong node)
    {
        if (Count == _nodes.Length)
        {
            Array.Resize(ref _nodes, _nodes.Length * 2);
        }

        _nodes[Count++] = node;
    }

    public bool TryPop(out ulong node)
    {
        if (Count == 0)
        {
            node = 0;
            return false;
        }

        node = _nodes[--Count];
        return true;
    }

    public ReadOnlySpan<ulong> Nodes => _nodes.AsSpan(0, Count);

    public void Clear()
    {
        Count = 0;
        AllocatedByRequest = 0;
        Request = 0;
    }
}

/// <summary>Node allocation for writes: mas_alloc_nodes(), mas_nomem(), mas_destroy(), mas_pop_node(), mas_free().</summary>
public sealed partial class MapleTree<T>
{
    /// <summary>GFP_NOWAIT | __GFP_NOWARN: how a write first tries to preallocate (mas_node_count()).</summary>
    internal const Gfp PreallocGfp = Gfp.GFP_NOWAIT | Gfp.__GFP_NOWARN;

    /// <summary>The write in progress: its node list (null outside a write, e.g. mtree_destroy()).</summary>
    private MapleAllocState? _cur;

    /// <summary>
    /// mas_alloc_nodes(): bring <paramref name="a"/> up to <paramref name="request"/> nodes. The first node of each
    /// group of 31 comes from kmem_cache_alloc() (it is the maple_alloc bookkeeping node), the others from one
    /// kmem_cache_alloc_bulk() per group. On failure the nodes already allocated are kept, as in the kernel.
    /// </summary>
    internal bool MasAllocNodes(MapleAllocState a, int request, Gfp gfp)
    {
        var need = request - a.Count;
        Span<ulong> bulk = stackalloc ulong[MapleNodeLayout.MAPLE_ALLOC_SLOTS];
        while (need > 0)
        {
            const int group = MapleNodeLayout.MAPLE_ALLOC_SLOTS + 1;
            var pos = a.AllocatedByRequest % group;
            if (pos == 0)
            {
                var one = _allocator.AllocOne(gfp);
                if (one == 0)
                {
                    return false;
                }

                a.Push(one);
                a.AllocatedByRequest++;
                need--;
                continue;
            }

            var chunk = Math.Min(need, group - pos);
            var got = _allocator.AllocBulk(gfp, bulk[..chunk]);
            if (got != chunk)
            {
                return false;
            }

            for (var i = 0; i < chunk; i++)
            {
                a.Push(bulk[i]);
            }

            a.AllocatedByRequest += chunk;
            need -= chunk;
        }

        return true;
    }

    /// <summary>
    /// mas_nomem(): after a failed preallocation, allocate the rest with the caller's gfp (the kernel drops the tree
    /// lock here if gfp may sleep). True when the write should be retried. The kernel retries whenever any node is
    /// held; the simulator also gives up when this round made no progress, where the kernel would spin forever on
    /// an allocator that keeps failing.
    /// </summary>
    internal bool MasNomem(MapleAllocState a, Gfp gfp)
    {
        var before = a.Count;
        var ok = MasAllocNodes(a, a.Request, gfp);
        if (a.Count == 0)
        {
            return false;
        }

        return ok || a.Count > before;
    }

    /// <summary>mas_destroy(): free the nodes the write did not use (mt_free_bulk()).</summary>
    internal void MasDestroy(MapleAllocState a)
    {
        if (a.Count > 0)
        {
            _allocator.FreeBulk(a.Nodes);
        }

        a.Clear();
    }

    /// <summary>mas_pop_node(): a preallocated node for the write. Running out is a simulator bug (the kernel BUGs).</summary>
    private ulong PopNode()
    {
        if (_cur is null || !_cur.TryPop(out var node))
        {
            throw new KernelBugException("maple tree: write used more nodes than it preallocated");
        }

        return node;
    }

    /// <summary>mas_free() / ma_free_rcu(): give back a node that left the tree.</summary>
    private void ReleaseObj(ulong obj)
    {
        if (obj == 0)
        {
            return;
        }

        if (InRcu)
        {
            _allocator.FreeRcu(obj);
        }
        else if (_cur is not null)
        {
            _cur.Push(obj);
        }
        else
        {
            _allocator.Free(obj);
        }
    }
}
