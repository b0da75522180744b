using MmSim.Kernel;

namespace MmSim.Scenario;

/// <summary>
/// <c>show vmallocinfo</c> (/proc/vmallocinfo) and extension statements that call the vmalloc layer directly, as a
/// kernel test module would: <c>[A =] vmalloc size=N [gfp=FLAGS]</c>, <c>vmalloc_user size=N</c>, <c>vfree ADDR</c>,
/// <c>kvmalloc size=N [gfp=FLAGS]</c>, <c>kvfree ADDR</c>, <c>bpf_map_area_alloc size=N</c>,
/// <c>bpf_map_area_mmapable_alloc size=N</c>, <c>bpf_map_area_free ADDR</c>, <c>purge_vmap_area_lazy</c> and
/// <c>stat vmalloc_pages</c> (VmallocUsed in pages). Allocations return the kernel address or <c>null</c>; the
/// vmallocinfo caller is the statement's name.
/// </summary>
[ScenarioOps]
internal static class VmallocOps
{
    public static void Register(OpRegistry r)
    {
        const ArgKind E = ArgKind.Expr;
        var g = OpScope.Global;
        r.Show("vmallocinfo", ctx => StepResult.Show(ctx.Machine.Vmalloc.VmallocInfo()));
        r.Add(new OpSchema(g, "vmalloc").Option("size", E, required: true).Option("gfp", ArgKind.Flags, OpSchemas.GfpFlags),
            ctx => Addr(ctx.Machine.Vmalloc.VmallocGfp(ctx.U64("size"), Gfp(ctx), ctx.Op)));
        r.Add(new OpSchema(g, "vmalloc_user").Option("size", E, required: true),
            ctx => Addr(ctx.Machine.Vmalloc.VmallocUser(ctx.U64("size"), ctx.Op)));
        r.Add(new OpSchema(g, "vfree", ResultKind.None).Arg("addr", E), ctx =>
        {
            ctx.Machine.Vmalloc.Vfree(ctx.U64("addr"), ctx.Op);
            return StepResult.Done;
        });
        r.Add(new OpSchema(g, "kvmalloc").Option("size", E, required: true).Option("gfp", ArgKind.Flags, OpSchemas.GfpFlags),
            ctx => Addr(ctx.Machine.Vmalloc.Kvmalloc(ctx.U64("size"), Gfp(ctx), ctx.Op)));
        r.Add(new OpSchema(g, "kvfree", ResultKind.None).Arg("addr", E), ctx =>
        {
            ctx.Machine.Vmalloc.Kvfree(ctx.U64("addr"), ctx.Op);
            return StepResult.Done;
        });
        r.Add(new OpSchema(g, "bpf_map_area_alloc").Option("size", E, required: true),
            ctx => Addr(ctx.Machine.BpfMapArea.BpfMapAreaAlloc(ctx.U64("size"), -1, ctx.Op)));
        r.Add(new OpSchema(g, "bpf_map_area_mmapable_alloc").Option("size", E, required: true), ctx =>
            K.PageAligned(ctx.U64("size"))
                ? Addr(ctx.Machine.BpfMapArea.BpfMapAreaMmapableAlloc(ctx.U64("size"), -1, ctx.Op))
                : ctx.Error("the size must be page aligned (the kernel BUG()s)", "size"));
        r.Add(new OpSchema(g, "bpf_map_area_free", ResultKind.None).Arg("addr", E), ctx =>
        {
            ctx.Machine.BpfMapArea.BpfMapAreaFree(ctx.U64("addr"), ctx.Op);
            return StepResult.Done;
        });
        r.Add(new OpSchema(g, "purge_vmap_area_lazy", ResultKind.None), ctx =>
        {
            ctx.Machine.Vmalloc.PurgeVmapAreaLazy();
            return StepResult.Done;
        });
        r.Add(new OpSchema(g, "stat vmalloc_pages"), ctx => StepResult.Of(ctx.Machine.Vmalloc.NrVmallocPages));
    }

    private static Kernel.Gfp Gfp(OpContext ctx) => (Kernel.Gfp)ctx.U64("gfp", (ulong)Kernel.Gfp.GFP_KERNEL);

    private static StepResult Addr(ulong addr) => addr == 0 ? StepResult.Null : StepResult.Of(addr);
}
