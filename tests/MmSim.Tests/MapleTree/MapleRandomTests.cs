using MmSim.Kernel;
using MmSim.MapleTree;
using MmSim.Model;
using Xunit;

namespace MmSim.Tests.MapleTree;

/// <summary>Seeded random operation streams against <see cref="IntervalMapModel{T}"/>, validating after every step.</summary>
public class MapleRandomTests
{
    private static ulong PickIndex(SimRandom r, ulong span)
    {
        return r.NextBelow(20) switch
        {
            0 => 0,
            1 => 1,
            2 => ulong.MaxValue,
            3 => ulong.MaxValue - 1,
            4 => r.NextUInt64(),
            _ => r.NextBelow(span),
        };
    }

    private static void RunStream(ulong seed, bool alloc, int steps, ulong span, int maxLen)
    {
        var r = new SimRandom(seed);
        var heap = new HeapMapleNodeAllocator();
        var tree = new MapleTree<ulong>(alloc ? MapleFlags.MT_FLAGS_ALLOC_RANGE : 0, heap);
        var model = IntervalMapModel.Empty<ulong>(alloc);
        var maxHeight = 0;
        for (var step = 0; step < steps; step++)
        {
            var op = r.NextBelow(10);
            var a = PickIndex(r, span);
            var len = r.NextBelow((ulong)maxLen);
            var b = a > ulong.MaxValue - len ? ulong.MaxValue : a + len;
            var entry = r.NextBelow(1000) + 1;
            string what;
            switch (op)
            {
                case 0:
                case 1:
                case 2:
                    {
                        what = $"insert {a:x} {b:x} {entry}";
                        var got = tree.MtreeInsertRange(a, b, entry, Gfp.GFP_KERNEL);
                        (var want, model) = model.Insert(a, b, entry);
                        Assert.True(got == want, $"step {step} {what}: {got} != {want}");
                        break;
                    }

                case 3:
                case 4:
                    {
                        var e = r.Percent(30) ? 0 : entry;
                        what = $"store {a:x} {b:x} {e}";
                        var got = tree.MtreeStoreRange(a, b, e, Gfp.GFP_KERNEL);
                        (var want, model) = model.Store(a, b, e);
                        Assert.True(got == want, $"step {step} {what}: {got} != {want}");
                        break;
                    }

                case 5:
                case 6:
                    {
                        // Erase an existing range most of the time.
                        if (model.Count > 0 && r.Percent(80))
                        {
                            a = model.Ranges[(int)r.NextBelow((ulong)model.Count)].First + r.NextBelow(2);
                        }

                        what = $"erase {a:x}";
                        var got = tree.MtreeErase(a);
                        (var want, model) = model.Erase(a);
                        Assert.True(got == want, $"step {step} {what}: {got} != {want}");
                        break;
                    }

                case 7:
                    {
                        what = $"load {a:x}";
                        Assert.True(tree.MtreeLoad(a) == model.Load(a), $"step {step} {what}");
                        break;
                    }

                default:
                    {
                        var size = r.NextBelow(40) + 1;
                        var min = r.Percent(50) ? 0 : PickIndex(r, span);
                        var max = r.Percent(50) ? ulong.MaxValue : PickIndex(r, span);
                        var rev = r.Percent(50);
                        what = $"alloc{(rev ? "_rev" : string.Empty)} size={size} min={min:x} max={max:x}";
                        int got;
                        ulong start;
                        if (rev)
                        {
                            got = tree.MtreeAllocRrange(out start, entry, size, min, max, Gfp.GFP_KERNEL);
                        }
                        else
                        {
                            got = tree.MtreeAllocRange(out start, entry, size, min, max, Gfp.GFP_KERNEL);
                        }

                        var (want, wstart, m2) = rev ? model.AllocRrange(size, min, max, entry) : model.AllocRange(size, min, max, entry);
                        model = m2;
                        Assert.True(got == want, $"step {step} {what}: {got} != {want}");
                        if (got == 0)
                        {
                            Assert.True(start == wstart, $"step {step} {what}: start {start:x} != {wstart:x}");
                        }

                        break;
                    }
            }

            MapleTestUtil.AssertValid(tree, $"after step {step} {what}");
            var diff = MapleTestUtil.Diff(tree, model);
            Assert.True(diff is null, $"step {step} {what}: {diff}");
            Assert.Equal(tree.NodeCount, heap.Live);
            maxHeight = Math.Max(maxHeight, tree.Height);
        }

        tree.MtreeDestroy();
        Assert.Equal(0, heap.Live);
        Assert.True(maxHeight >= 1);
    }

    [Theory]
    [InlineData(1UL, true)]
    [InlineData(2UL, false)]
    [InlineData(3UL, true)]
    [InlineData(4UL, false)]
    public void DenseStreamsMatchModel(ulong seed, bool alloc) => RunStream(seed, alloc, 3000, 600, 6);

    [Theory]
    [InlineData(11UL, true)]
    [InlineData(12UL, false)]
    public void WideStreamsMatchModel(ulong seed, bool alloc) => RunStream(seed, alloc, 3000, 100_000, 3000);
}
