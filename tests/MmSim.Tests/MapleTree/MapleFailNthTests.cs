using MmSim.Kernel;
using MmSim.MapleTree;
using Xunit;

namespace MmSim.Tests.MapleTree;

/// <summary>
/// Node-allocation failure sweep. For each operation of a seeded random sequence, and for every N up to the
/// number of allocation calls the operation makes: (1) with the Nth and every later allocation failing, the
/// operation returns -ENOMEM (mtree_erase returns the entry but keeps it, as the kernel does) and the tree is
/// unchanged, valid, and holds exactly the nodes the allocator has live; (2) with only the Nth failing (fail-nth),
/// the kernel's mas_nomem() retry recovers and the result is the same as without failure.
/// </summary>
public class MapleFailNthTests
{
    private enum Kind
    {
        Insert,
        Store,
        StoreNull,
        Erase,
        Alloc,
        AllocRev,
    }

    private readonly record struct Op(Kind Kind, ulong A, ulong B, ulong Entry)
    {
        public long Apply(MapleTree<ulong> t) => Kind switch
        {
            Kind.Insert => t.MtreeInsertRange(A, B, Entry, Gfp.GFP_KERNEL),
            Kind.Store => t.MtreeStoreRange(A, B, Entry, Gfp.GFP_KERNEL),
            Kind.StoreNull => t.MtreeStoreRange(A, B, 0, Gfp.GFP_KERNEL),
            Kind.Erase => (long)t.MtreeErase(A),
            Kind.Alloc => t.MtreeAllocRange(out var s, Entry, B, A, ulong.MaxValue, Gfp.GFP_KERNEL) == 0 ? (long)s : -1,
            _ => t.MtreeAllocRrange(out var s, Entry, B, 0, A, Gfp.GFP_KERNEL) == 0 ? (long)s : -1,
        };

        public override string ToString() => $"{Kind} {A:x} {B:x} {Entry}";
    }

    private static List<Op> Sequence(ulong seed, int count)
    {
        var r = new SimRandom(seed);
        var ops = new List<Op>();
        for (var i = 0; i < count; i++)
        {
            var a = r.NextBelow(5000);
            var kind = (Kind)r.NextBelow(6);
            var b = kind switch
            {
                Kind.Alloc or Kind.AllocRev => r.NextBelow(20) + 1,
                _ => a + (r.Percent(15) ? r.NextBelow(2000) : r.NextBelow(6)),
            };
            if (kind == Kind.AllocRev)
            {
                a = 3000 + r.NextBelow(3000);
            }

            ops.Add(new Op(kind, a, b, r.NextBelow(1000) + 1));
        }

        return ops;
    }

    private static MapleTree<ulong> Build(FailNthMapleNodeAllocator alloc, List<Op> ops, int upTo)
    {
        var t = new MapleTree<ulong>(MapleFlags.MT_FLAGS_ALLOC_RANGE, alloc);
        for (ulong i = 0; i < 330; i++)
        {
            t.MtreeStoreRange(i * 15, (i * 15) + (i % 7), i + 1, Gfp.GFP_KERNEL);
        }

        for (var i = 0; i < upTo; i++)
        {
            ops[i].Apply(t);
        }

        return t;
    }

    private static string Snapshot(MapleTree<ulong> t) =>
        string.Join(",", t.MtDumpRanges().Select(r => $"{r.First:x}-{r.Last:x}={r.Entry}")) + $"|{t.Count}";

    [Theory]
    [InlineData(31UL)]
    [InlineData(32UL)]
    public void FailingTheNthNodeAllocationLeavesTheTreeUnchanged(ulong seed)
    {
        var ops = Sequence(seed, 40);
        var checkedFailures = 0;
        var maxHeight = 0;
        for (var i = 0; i < ops.Count; i++)
        {
            var op = ops[i];

            // The reference run: no failures.
            var refAlloc = new FailNthMapleNodeAllocator();
            var refTree = Build(refAlloc, ops, i);
            maxHeight = Math.Max(maxHeight, refTree.Height);
            var callsBefore = refAlloc.Calls;
            var refResult = op.Apply(refTree);
            var calls = (int)(refAlloc.Calls - callsBefore);
            var refAfter = Snapshot(refTree);
            Assert.Empty(refTree.MtValidate());

            for (var n = 1; n <= calls + 1; n++)
            {
                // Persistent failure from the Nth call on: -ENOMEM and nothing changed.
                var alloc = new FailNthMapleNodeAllocator();
                var t = Build(alloc, ops, i);
                var before = Snapshot(t);
                var nodes = t.NodeCount;
                alloc.FailNth(n, persistent: true);
                var got = op.Apply(t);
                alloc.Off();
                var why = $"op {i} {op} fail from call {n} of {calls}";
                Assert.True(t.MtValidate().Count == 0, why);
                Assert.True(alloc.Live == t.NodeCount, $"{why}: live {alloc.Live} nodes {t.NodeCount}");
                if (n <= calls)
                {
                    checkedFailures++;
                    Assert.True(before == Snapshot(t), $"{why}: tree changed");
                    Assert.True(nodes == t.NodeCount, $"{why}: node count changed");
                    switch (op.Kind)
                    {
                        case Kind.Erase:
                            Assert.True(got == refResult, $"{why}: erase returned {got}, expected {refResult}");
                            break;
                        case Kind.Alloc:
                        case Kind.AllocRev:
                            Assert.True(got == -1, $"{why}: allocation succeeded");
                            break;
                        default:
                            Assert.True(got == -(int)Errno.ENOMEM, $"{why}: returned {got}");
                            break;
                    }
                }
                else
                {
                    Assert.True(got == refResult && Snapshot(t) == refAfter, $"{why}: unaffected op differs");
                }

                // fail-nth (one-shot): the retry in mas_nomem() recovers.
                alloc = new FailNthMapleNodeAllocator();
                t = Build(alloc, ops, i);
                alloc.FailNth(n, persistent: false);
                got = op.Apply(t);
                Assert.True(got == refResult, $"op {i} {op} one-shot fail {n}: {got} != {refResult}");
                Assert.True(Snapshot(t) == refAfter, $"op {i} {op} one-shot fail {n}: tree differs");
                Assert.True(t.MtValidate().Count == 0);
                Assert.True(alloc.Live == t.NodeCount);
                t.MtreeDestroy();
                Assert.Equal(0, alloc.Live);
            }
        }

        Assert.True(checkedFailures > 20, $"only {checkedFailures} failing allocations exercised");
        Assert.True(maxHeight >= 3);
    }

    [Fact]
    public void AtomicWritesFailWhereTheyNeedNodes()
    {
        // mt_set_non_kernel(0): nothing may be allocated without sleeping.
        var alloc = new FailNthMapleNodeAllocator { NonKernel = 0 };
        var t = new MapleTree<ulong>(MapleFlags.MT_FLAGS_ALLOC_RANGE, alloc);
        Assert.Equal(-(int)Errno.ENOMEM, t.MtreeStoreRange(10, 20, 1, Gfp.GFP_ATOMIC));
        Assert.True(t.MtreeEmpty);
        Assert.Equal(-(int)Errno.ENOMEM, t.MtreeAllocRange(out _, 1, 5, 0, 100, Gfp.GFP_NOWAIT));
        Assert.Equal(0, t.MtreeStoreRange(10, 20, 1, Gfp.GFP_KERNEL));

        // A store that fits in the leaf needs no node, so it succeeds even atomically.
        Assert.Equal(0, t.MtreeStoreRange(30, 40, 2, Gfp.GFP_ATOMIC));
        Assert.Equal(2UL, t.MtreeLoad(35));

        // mas_preallocate() fails cleanly and holds nothing.
        var mas = new MaState<ulong>(t, 100, 200);
        for (ulong i = 0; i < 20; i++)
        {
            Assert.Equal(0, t.MtreeStoreRange(1000 + (i * 10), 1000 + (i * 10) + 2, i + 5, Gfp.GFP_KERNEL));
        }

        mas.MasSetRange(1001, 1192);
        Assert.Equal(-(int)Errno.ENOMEM, mas.MasPreallocate(9, Gfp.GFP_ATOMIC));
        Assert.Equal(0, mas.Allocated);
        Assert.Equal(0, mas.MasPreallocate(9, Gfp.GFP_KERNEL));
        Assert.True(mas.Allocated > 0);
        mas.MasStorePrealloc(9);
        Assert.Equal(0, mas.Allocated);
        Assert.Equal(9UL, t.MtreeLoad(1100));
        Assert.Empty(t.MtValidate());
        Assert.Equal(alloc.Live, t.NodeCount);
    }
}
