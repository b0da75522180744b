namespace MmSim.Kernel;

/// <summary>
/// RCU callbacks (kernel/rcu): call_rcu and kfree_rcu queue a callback that runs when a grace period ends.
/// The machine ends a grace period at one defined point (when a syscall returns to user space), so runs are
/// deterministic and deferred frees stay observable in between.
/// </summary>
public sealed class Rcu
{
    private readonly Queue<Action> _pending = new();

    public int Pending => _pending.Count;

    /// <summary>call_rcu(): run <paramref name="callback"/> after the current grace period.</summary>
    public void CallRcu(Action callback) => _pending.Enqueue(callback);

    /// <summary>End the current grace period: run every callback queued before this call (and those they queue).</summary>
    public void GracePeriod()
    {
        var guard = 0;
        while (_pending.Count > 0)
        {
            if (++guard > 1_000_000)
            {
                throw new KernelBugException("RCU callbacks keep queueing callbacks");
            }

            _pending.Dequeue()();
        }
    }
}
