namespace MmSim.Mm;

/// <summary>
/// The one memory cgroup every simulated process runs in (mm/memcontrol.c): __GFP_ACCOUNT allocations are charged
/// to it and fail once memory.max would be exceeded. MmSim has no reclaim, so try_charge fails at the limit.
/// </summary>
public sealed class MemCgroup
{
    public MemCgroup(ulong? limit) => Limit = limit;

    /// <summary>memory.max in bytes; null is "max".</summary>
    public ulong? Limit { get; }

    /// <summary>memory.current in bytes.</summary>
    public ulong Usage { get; private set; }

    /// <summary>memory.peak in bytes.</summary>
    public ulong Peak { get; private set; }

    /// <summary>memory.events "max": how many charges hit the limit.</summary>
    public long FailCount { get; private set; }

    /// <summary>try_charge_memcg(): charge <paramref name="bytes"/>, or fail (-ENOMEM) when over memory.max.</summary>
    public bool TryCharge(ulong bytes)
    {
        if (Limit is { } max && (bytes > max || Usage > max - bytes))
        {
            FailCount++;
            return false;
        }

        Usage += bytes;
        if (Usage > Peak)
        {
            Peak = Usage;
        }

        return true;
    }

    /// <summary>memcg_uncharge / refill_stock: give back a charge.</summary>
    public void Uncharge(ulong bytes)
    {
        if (bytes > Usage)
        {
            throw new Kernel.KernelBugException($"memcg uncharge of {bytes} bytes exceeds usage {Usage}");
        }

        Usage -= bytes;
    }
}
