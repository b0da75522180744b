using Microsoft.Extensions.Logging;
using MmSim.Kernel;

namespace MmSim.Mm;

/// <summary>
/// One fault-injection capability (lib/fault-inject.c, struct fault_attr): probability, interval, times, space,
/// plus the task's fail-nth countdown. Deterministic: its randomness comes from the machine's seed.
/// </summary>
public sealed class FaultAttr
{
    private readonly SimRandom _random;
    private readonly ILogger _log;
    private ulong _count;

    internal FaultAttr(string name, SimRandom random, ILogger log)
    {
        Name = name;
        _random = random;
        _log = log;
    }

    /// <summary>"fail_page_alloc" or "failslab".</summary>
    public string Name { get; }

    /// <summary>probability (percent, 0..100).</summary>
    public int Probability { get; set; }

    /// <summary>interval: only every Nth eligible call may fail (1 = every call).</summary>
    public ulong Interval { get; set; } = 1;

    /// <summary>times: how many failures at most; -1 is unlimited.</summary>
    public long Times { get; set; } = 1;

    /// <summary>space: bytes that may be allocated before failures start.</summary>
    public long Space { get; set; }

    /// <summary>ignore-gfp-wait: leave allocations that may sleep alone (the kernel's default is Y).</summary>
    public bool IgnoreGfpReclaim { get; set; }

    /// <summary>min-order (fail_page_alloc only): leave smaller orders alone.</summary>
    public int MinOrder { get; set; }

    /// <summary>The fail-nth countdown (/proc/self/fail-nth): 0 is off; 1 fails the next eligible call.</summary>
    public int FailNth { get; set; }

    /// <summary>Failures injected so far.</summary>
    public long Injected { get; private set; }

    /// <summary>Stop injecting: probability 0 and fail-nth off.</summary>
    public void Off()
    {
        Probability = 0;
        FailNth = 0;
    }

    /// <summary>Arm the fail-nth countdown (writing N to /proc/self/fail-nth): the Nth eligible call fails.</summary>
    public void SetNth(int n)
    {
        FailNth = n;
        IgnoreGfpReclaim = false;
        MinOrder = 0;
    }

    /// <summary>should_fail_ex(): decide whether this eligible call fails.</summary>
    internal bool ShouldFail(ulong size, string callsite)
    {
        if (FailNth > 0)
        {
            FailNth--;
            if (FailNth == 0)
            {
                return Fail(callsite);
            }

            return false;
        }

        if (Probability == 0)
        {
            return false;
        }

        if (Space > 0)
        {
            Space -= (long)Math.Min(size, (ulong)Space);
            if (Space > 0)
            {
                return false;
            }
        }

        if (Times == 0)
        {
            return false;
        }

        if (Interval > 1 && ++_count % Interval != 0)
        {
            return false;
        }

        if (Probability < 100 && (int)_random.NextBelow(100) >= Probability)
        {
            return false;
        }

        if (Times > 0)
        {
            Times--;
        }

        return Fail(callsite);
    }

    private bool Fail(string callsite)
    {
        Injected++;
        Tracepoints.fault_inject(_log, Name, callsite);
        return true;
    }
}

/// <summary>The machine's fault-injection capabilities (Documentation/fault-injection).</summary>
public sealed class FaultInjection
{
    internal FaultInjection(SimRandom random, ILogger log)
    {
        FailPageAlloc = new FaultAttr("fail_page_alloc", random, log);
        FailSlab = new FaultAttr("failslab", random, log);
    }

    public FaultAttr FailPageAlloc { get; }

    public FaultAttr FailSlab { get; }

    /// <summary>The scenario's <c>inject off</c>.</summary>
    public void Off()
    {
        FailPageAlloc.Off();
        FailSlab.Off();
    }

    /// <summary>should_fail_alloc_page() (mm/fail_page_alloc.c).</summary>
    internal bool ShouldFailAllocPage(Gfp gfp, int order, string callsite)
    {
        var a = FailPageAlloc;
        if (a.FailNth == 0 && a.Probability == 0)
        {
            return false;
        }

        if (order < a.MinOrder || (gfp & Gfp.__GFP_NOFAIL) != 0)
        {
            return false;
        }

        if (a.IgnoreGfpReclaim && (gfp & Gfp.__GFP_DIRECT_RECLAIM) != 0)
        {
            return false;
        }

        return a.ShouldFail(K.PAGE_SIZE << order, callsite);
    }

    /// <summary>should_failslab() (mm/failslab.c).</summary>
    internal bool ShouldFailSlab(Gfp gfp, ulong size, string callsite)
    {
        var a = FailSlab;
        if (a.FailNth == 0 && a.Probability == 0)
        {
            return false;
        }

        if ((gfp & Gfp.__GFP_NOFAIL) != 0)
        {
            return false;
        }

        if (a.IgnoreGfpReclaim && (gfp & Gfp.__GFP_DIRECT_RECLAIM) != 0)
        {
            return false;
        }

        return a.ShouldFail(size, callsite);
    }
}
