using FsCheck;
using FsCheck.Experimental;
using FsCheck.Fluent;
using MmSim.Kernel;
using MmSim.Model;
using Xunit;

namespace MmSim.Tests.Properties;

/// <summary>The buddy allocator against <see cref="BuddyModel"/>: exact PFN choice, conservation, merging.</summary>
public class BuddyProperties
{
    /// <summary>The model plus what the last operation must have returned.</summary>
    public sealed record State(BuddyModel Model, long Expected)
    {
        public override string ToString() => Model.ToString();
    }

    private sealed class BuddySetup(int frames) : Setup<Machine, State>
    {
        public int Frames => frames;

        public override Machine Actual() => TestMachines.WithFrames(frames);

        public override State Model()
        {
            var pa = TestMachines.WithFrames(frames).PageAlloc;
            return new(BuddyModel.Boot(frames, pa.PcpBatch, pa.PcpHigh), 0);
        }

        public override string ToString() => $"machine ram={frames}p";
    }

    private sealed class AllocOp(int order) : Operation<Machine, State>
    {
        public override State Run(State s)
        {
            var (next, pfn) = s.Model.AllocPages(order, mayReclaim: true);
            return new State(next, pfn);
        }

        public override Property Check(Machine m, State s)
        {
            var got = m.PageAlloc.AllocPages(Gfp.GFP_KERNEL | Gfp.__GFP_NOWARN, order);
            return Agree(m, s, got == s.Expected, $"alloc_pages(order {order}) = {got}, model {s.Expected}");
        }

        public override string ToString() => $"alloc_pages order={order}";
    }

    private sealed class FreeOp(int index) : Operation<Machine, State>
    {
        private (long Pfn, int Order) _block = (-1, 0);

        public override bool Pre(State s) => s.Model.Allocated.Count > 0;

        public override State Run(State s)
        {
            var i = index % s.Model.Allocated.Count;
            _block = s.Model.Allocated[i];
            return new State(s.Model.FreePages(i), 0);
        }

        public override Property Check(Machine m, State s)
        {
            m.PageAlloc.FreePages(_block.Pfn, _block.Order);
            return Agree(m, s, m.Reports.KasanCount == 0, $"__free_pages(0x{_block.Pfn:x}, {_block.Order})");
        }

        public override string ToString() => $"free_pages #{index}";
    }

    private static Property Agree(Machine m, State s, bool ok, string what)
    {
        var violations = m.CheckInvariants();
        var perOrder = s.Model.BlocksPerOrder();
        var buddyinfoOk = true;
        for (var o = 0; o <= K.MAX_PAGE_ORDER; o++)
        {
            buddyinfoOk &= m.PageAlloc.FreeBlocks(o) == perOrder[o];
        }

        var pcpOk = m.PageAlloc.PcpCount == s.Model.Pcp.Count;
        for (var o = 0; o <= BuddyModel.PcpMaxOrder; o++)
        {
            pcpOk &= m.PageAlloc.PcpListPfns(o).SequenceEqual(s.Model.Pcp.Lists[o]);
        }

        return (ok && violations.Count == 0 && buddyinfoOk && pcpOk && m.PageAlloc.NrFreePages == s.Model.FreeCount
                && m.PageAlloc.NrFreeBuddyPages == s.Model.BuddyFreeCount)
            .Label($"{what}; free {m.PageAlloc.NrFreePages} model {s.Model.FreeCount}; buddyinfo ok {buddyinfoOk}; pcp ok {pcpOk}; {string.Join("; ", violations)}");
    }

    private sealed class BuddyMachine : Machine<Machine, State>
    {
        public BuddyMachine()
            : base(60)
        {
        }

        public override Arbitrary<Setup<Machine, State>> Setup => Arb.From(
            Gen.Elements(8, 24, 64, 100, 1024 + 37).Select(n => (Setup<Machine, State>)new BuddySetup(n)),
            s => ((BuddySetup)s).Frames > 8 ? [new BuddySetup(((BuddySetup)s).Frames / 2)] : []);

        public override Gen<Operation<Machine, State>> Next(State s) => Gen.Frequency(
            (5, Gen.Frequency((6, Gen.Choose(0, 2)), (2, Gen.Choose(3, 6)), (1, Gen.Choose(7, 11)))
                .Select(o => (Operation<Machine, State>)new AllocOp(o))),
            (4, Gen.Choose(0, 1000).Select(i => (Operation<Machine, State>)new FreeOp(i))));
    }

    [Fact]
    public void BuddyAllocatorMatchesTheModel() =>
        new BuddyMachine().ToProperty().Check(Config.QuickThrowOnFailure.WithMaxTest(150).WithReplay(20261121UL, 7UL).WithQuietOnSuccess(true));
}
