using MmSim.Kernel;

namespace MmSim.MapleTree;

/// <summary>
/// Where a <see cref="MapleTree{T}"/> gets its nodes: the kernel's <c>maple_node_cache</c> slab (256-byte objects).
/// A node is identified by the address the allocator returns (never 0). The tree calls these exactly where
/// lib/maple_tree.c calls the slab: <c>mas_alloc_nodes()</c> preallocates the worst case of a write with one
/// <c>kmem_cache_alloc()</c> followed by <c>kmem_cache_alloc_bulk()</c> for the rest; unused preallocations are
/// returned by <c>mas_destroy()</c>; nodes removed from the tree are freed with <c>ma_free_rcu()</c>
/// (RCU trees) or returned to the write's node list and freed with it (other trees).
/// </summary>
public interface IMapleNodeAllocator
{
    /// <summary>mt_alloc_one() = kmem_cache_alloc(maple_node_cache, gfp): a node's address, or 0 on failure.</summary>
    ulong AllocOne(Gfp gfp);

    /// <summary>
    /// mt_alloc_bulk() = kmem_cache_alloc_bulk(maple_node_cache, gfp, size, nodes): fills <paramref name="nodes"/>
    /// and returns its length, or returns 0 and allocates nothing (the kernel's bulk allocation is all or nothing).
    /// </summary>
    int AllocBulk(Gfp gfp, Span<ulong> nodes);

    /// <summary>kmem_cache_free(maple_node_cache, node).</summary>
    void Free(ulong node);

    /// <summary>mt_free_bulk() = kmem_cache_free_bulk(maple_node_cache, size, nodes).</summary>
    void FreeBulk(ReadOnlySpan<ulong> nodes)
    {
        foreach (var n in nodes)
        {
            Free(n);
        }
    }

    /// <summary>ma_free_rcu() = kfree_rcu(node): free after a grace period. The default frees at once.</summary>
    void FreeRcu(ulong node) => Free(node);
}

/// <summary>
/// The default node allocator: host memory, never fails, counts live nodes. Addresses look like direct-map slab
/// objects (256-byte aligned) so dumps read like the kernel's.
/// </summary>
public sealed class HeapMapleNodeAllocator : IMapleNodeAllocator
{
    private const ulong Base = 0xffff888100000000UL;
    private readonly Stack<ulong> _free = new();
    private ulong _next;

    /// <summary>Nodes allocated and not yet freed.</summary>
    public long Live { get; private set; }

    /// <summary>Allocation calls (one per AllocOne, one per AllocBulk).</summary>
    public long Calls { get; private set; }

    /// <summary>Nodes handed out since creation.</summary>
    public long TotalAllocated { get; private set; }

    public ulong AllocOne(Gfp gfp)
    {
        Calls++;
        return Take();
    }

    public int AllocBulk(Gfp gfp, Span<ulong> nodes)
    {
        Calls++;
        for (var i = 0; i < nodes.Length; i++)
        {
            nodes[i] = Take();
        }

        return nodes.Length;
    }

    public void Free(ulong node)
    {
        if (node == 0)
        {
            return;
        }

        Live--;
        _free.Push(node);
    }

    private ulong Take()
    {
        Live++;
        TotalAllocated++;
        return _free.Count > 0 ? _free.Pop() : Base + (_next++ * MapleNodeLayout.MAPLE_NODE_SIZE);
    }
}

/// <summary>
/// A node allocator for tests that injects failures, like the kernel's failslab fail-nth and the radix-tree test
/// harness's <c>mt_set_non_kernel()</c>. Each <see cref="AllocOne"/> or <see cref="AllocBulk"/> call is one
/// allocation (the slab's fault-injection hook runs once per bulk call).
/// </summary>
public sealed class FailNthMapleNodeAllocator : IMapleNodeAllocator
{
    private readonly IMapleNodeAllocator _inner;
    private long _countdown;

    public FailNthMapleNodeAllocator(IMapleNodeAllocator? inner = null)
    {
        _inner = inner ?? new HeapMapleNodeAllocator();
    }

    /// <summary>The wrapped allocator.</summary>
    public IMapleNodeAllocator Inner => _inner;

    /// <summary>Nodes allocated through this allocator and not yet freed.</summary>
    public long Live { get; private set; }

    /// <summary>Allocation calls seen (failed ones included).</summary>
    public long Calls { get; private set; }

    /// <summary>Failures injected.</summary>
    public long Failures { get; private set; }

    /// <summary>When true, every call from the armed Nth on fails; when false only the Nth fails (fail-nth).</summary>
    public bool Persistent { get; private set; }

    /// <summary>
    /// mt_set_non_kernel(): how many allocations that may not sleep (no __GFP_DIRECT_RECLAIM) still succeed; -1
    /// (the default) means all of them. With 0, GFP_ATOMIC and GFP_NOWAIT allocations fail, as in the kernel's
    /// userspace test suite.
    /// </summary>
    public int NonKernel { get; set; } = -1;

    /// <summary>Fail the Nth allocation call from now (1 = the next); with persistent, that one and all after it.</summary>
    public void FailNth(long n, bool persistent = false)
    {
        _countdown = n;
        Persistent = persistent;
    }

    /// <summary>Stop injecting.</summary>
    public void Off()
    {
        _countdown = 0;
        Persistent = false;
        NonKernel = -1;
    }

    public ulong AllocOne(Gfp gfp)
    {
        if (ShouldFail(gfp))
        {
            return 0;
        }

        var n = _inner.AllocOne(gfp);
        if (n != 0)
        {
            Live++;
        }

        return n;
    }

    public int AllocBulk(Gfp gfp, Span<ulong> nodes)
    {
        if (ShouldFail(gfp))
        {
            return 0;
        }

        var got = _inner.AllocBulk(gfp, nodes);
        Live += got;
        return got;
    }

    public void Free(ulong node)
    {
        if (node != 0)
        {
            Live--;
        }

        _inner.Free(node);
    }

    public void FreeRcu(ulong node)
    {
        if (node != 0)
        {
            Live--;
        }

        _inner.FreeRcu(node);
    }

    private bool ShouldFail(Gfp gfp)
    {
        Calls++;
        if (_countdown > 0)
        {
            _countdown--;
            if (_countdown == 0)
            {
                if (Persistent)
                {
                    _countdown = 1;
                }

                Failures++;
                return true;
            }
        }

        if (NonKernel >= 0 && !gfp.AllowsBlocking())
        {
            if (NonKernel == 0)
            {
                Failures++;
                return true;
            }

            NonKernel--;
        }

        return false;
    }
}
