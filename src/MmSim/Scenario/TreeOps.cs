using MmSim.Kernel;
using MmSim.MapleTree;
using MmSim.Mm;

namespace MmSim.Scenario;

/// <summary>
/// The stand-alone maple tree statements: <c>tree T [alloc_range]</c> creates a <c>MapleTree&lt;ulong&gt;</c>
/// whose nodes come from the machine's <c>maple_node</c> slab cache and whose mt_validate() joins the machine's
/// invariant checks; <c>T: insert|store|erase|load|alloc_range|alloc_rrange|empty_area|empty_area_rev</c> call
/// the kernel functions with GFP_KERNEL. Entries are the integers written (0 is NULL): load and erase return
/// the entry or <c>null</c>; insert and store return 0; the allocators and gap searches return the index.
/// </summary>
[ScenarioOps]
internal static class TreeOps
{
    public static void Register(OpRegistry r)
    {
        r.Global("tree", NewTree);
        r.Tree("insert", ctx => StepResult.FromSyscall(Tree(ctx).Insert(ctx.U64("first"), ctx.U64("last"), ctx.U64("entry"))));
        r.Tree("store", ctx => StepResult.FromSyscall(Tree(ctx).Store(ctx.U64("first"), ctx.U64("last"), ctx.U64("entry"))));
        r.Tree("erase", ctx => Entry(Tree(ctx).Erase(ctx.U64("index"))));
        r.Tree("load", ctx => Entry(Tree(ctx).Load(ctx.U64("index"))));
        r.Tree("alloc_range", ctx => Alloc(ctx, rev: false));
        r.Tree("alloc_rrange", ctx => Alloc(ctx, rev: true));
        r.Tree("empty_area", ctx => EmptyArea(ctx, rev: false));
        r.Tree("empty_area_rev", ctx => EmptyArea(ctx, rev: true));
    }

    private static MapleTree<ulong> Tree(OpContext ctx) => ctx.SubjectAs<MapleTree<ulong>>();

    private static StepResult Entry(long entry) => entry == 0 ? StepResult.Null : StepResult.Of(entry);

    /// <summary>mt_init_flags(): MT_FLAGS_ALLOC_RANGE for <c>alloc_range</c>.</summary>
    private static StepResult NewTree(OpContext ctx)
    {
        var name = ctx.Name("tree");
        var flags = (uint)ctx.U64("flags", 0);
        var tree = new MapleTree<ulong>(flags, MapleNodeCache.For(ctx.Machine), reports: ctx.Machine.Reports);
        ctx.Define(name, tree);
        ctx.Machine.Invariants.Register("maple_tree " + name, v => v.AddRange(tree.MtValidate()));
        return StepResult.Done;
    }

    /// <summary>mtree_alloc_range() / mtree_alloc_rrange(): the index allocated.</summary>
    private static StepResult Alloc(OpContext ctx, bool rev)
    {
        var ret = MapleTreeOps.TryAllocRange(Tree(ctx), ctx.U64("size"), ctx.U64("min"), ctx.U64("max"), ctx.U64("entry"), rev,
            out var start);
        return ret == 0 ? StepResult.Of(start) : StepResult.Err((Errno)(-ret));
    }

    /// <summary>mas_empty_area() / mas_empty_area_rev(): the first index of the window found.</summary>
    private static StepResult EmptyArea(OpContext ctx, bool rev)
    {
        var ret = MapleTreeOps.TryEmptyArea(Tree(ctx), ctx.U64("min"), ctx.U64("max"), ctx.U64("size"), rev, out var index);
        return ret == 0 ? StepResult.Of(index) : StepResult.Err((Errno)(-ret));
    }
}
