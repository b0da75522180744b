using MmSim.Mm;

namespace MmSim.Scenario;

/// <summary>
/// The global statements of the foundation: machine (applied by the runner before the first step), spawn,
/// check, show buddyinfo/meminfo, inject, stat free_pages.
/// </summary>
[ScenarioOps]
internal static class GlobalOps
{
    public static void Register(OpRegistry r)
    {
        // The runner builds the machine from this statement's options before the first step.
        r.Global("machine", _ => StepResult.Done);
        r.Global("spawn", Spawn);
        r.Global("check", Check);
        r.Show("buddyinfo", ctx => StepResult.Show(ProcViews.Buddyinfo(ctx.Machine)));
        r.Show("meminfo", ctx => StepResult.Show(ProcViews.Meminfo(ctx.Machine)));
        r.Inject("fail_page_alloc", ctx => Inject(ctx, ctx.Machine.FaultInject.FailPageAlloc));
        r.Inject("failslab", ctx => Inject(ctx, ctx.Machine.FaultInject.FailSlab));
        r.Inject("off", ctx =>
        {
            ctx.Machine.FaultInject.Off();
            return StepResult.Done;
        });
        r.Stat("free_pages", ctx => StepResult.Of(ctx.Machine.PageAlloc.NrFreePages));
    }

    private static StepResult Spawn(OpContext ctx)
    {
        var name = ctx.Name("proc");
        ctx.Define(name, ctx.Machine.Tasks.Spawn(name));
        return StepResult.Done;
    }

    private static StepResult Check(OpContext ctx)
    {
        var violations = ctx.Machine.CheckInvariants();
        return violations.Count == 0 ? StepResult.Done : StepResult.Violations(violations);
    }

    /// <summary>
    /// inject fail_page_alloc|failslab nth=N: the Nth allocation of that kind from now on fails (/proc/self/fail-nth).
    /// Extension: probability=P (percent), interval=N, times=N (-1: no limit), space=BYTES, as the debugfs knobs.
    /// </summary>
    private static StepResult Inject(OpContext ctx, FaultAttr attr)
    {
        if (!ctx.Has("nth") && !ctx.Has("probability"))
        {
            return ctx.Error($"'{ctx.Op}' needs nth=N, or probability=P (with interval=, times=, space=)");
        }

        if (ctx.Has("nth"))
        {
            attr.SetNth(ctx.Int("nth", 0, int.MaxValue));
        }

        if (ctx.Has("interval"))
        {
            attr.Interval = (ulong)ctx.Int("interval", 1, int.MaxValue);
        }

        if (ctx.Has("times"))
        {
            attr.Times = ctx.I64("times") >= -1 ? ctx.I64("times") : throw ctx.Fail("times must be -1 (no limit) or a count", "times");
        }

        if (ctx.Has("space"))
        {
            attr.Space = ctx.Int("space", 0, int.MaxValue);
        }

        if (ctx.Has("probability"))
        {
            attr.Probability = ctx.Int("probability", 0, 100);
        }

        return StepResult.Done;
    }
}
