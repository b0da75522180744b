using MmSim.Kernel;
using MmSim.Mm;

namespace MmSim.Scenario;

/// <summary>
/// Extension statements that call the page and slab allocators directly, as a kernel test module would:
/// <c>[NAME =] alloc_pages [order=N] [gfp=kernel|account|...]</c> returns the PFN of the block (or <c>null</c>),
/// <c>__free_pages PFN [order=N]</c> gives it back; <c>[NAME =] kmalloc size=N [gfp=...]</c> returns the object's
/// kernel address (or <c>null</c>), <c>kfree PTR</c> frees it.
/// </summary>
[ScenarioOps]
internal static class KernelTestOps
{
    public static void Register(OpRegistry r)
    {
        r.Global("alloc_pages", AllocPages);
        r.Global("__free_pages", FreePages);
        r.Global("kmalloc", ctx =>
        {
            var gfp = (Gfp)ctx.U64("gfp", (ulong)Gfp.GFP_KERNEL);
            var ptr = ctx.Machine.Slab.Kmalloc(ctx.U64("size"), gfp, "kmalloc");
            return ptr == 0 ? StepResult.Null : StepResult.Of(ptr);
        });
        r.Global("kfree", ctx =>
        {
            ctx.Machine.Slab.Kfree(ctx.U64("ptr"), "kfree");
            return StepResult.Done;
        });
    }

    private static StepResult AllocPages(OpContext ctx)
    {
        var order = ctx.IntOr("order", 0);
        var gfp = (Gfp)ctx.U64("gfp", (ulong)Gfp.GFP_KERNEL);
        var pfn = ctx.Machine.PageAlloc.AllocPages(gfp, order, "alloc_pages");
        return pfn == PageAllocator.NoPage ? StepResult.Null : StepResult.Of(pfn);
    }

    private static StepResult FreePages(OpContext ctx)
    {
        var order = ctx.IntOr("order", 0, 0, K.MAX_PAGE_ORDER);
        ctx.Machine.PageAlloc.FreePages(ctx.I64("pfn"), order, "__free_pages");
        return StepResult.Done;
    }
}
