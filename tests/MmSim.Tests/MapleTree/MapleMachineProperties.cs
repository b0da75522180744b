using System.Globalization;
using System.Text;
using FsCheck;
using FsCheck.Experimental;
using FsCheck.Fluent;
using MmSim.Kernel;
using MmSim.MapleTree;
using MmSim.Model;
using Xunit;

namespace MmSim.Tests.MapleTree;

/// <summary>
/// The maple tree against <see cref="IntervalMapModel{T}"/> as an FsCheck state machine: random insert, store
/// (NULL included), erase, load, alloc_range, alloc_rrange, empty_area and empty_area_rev, with mt_validate, the
/// full range list, the range count and the live node count compared after every step. Operations print in the
/// scenario language's <c>tree</c> syntax, so a shrunk counterexample reads as a scenario.
/// </summary>
public class MapleMachineProperties
{
    /// <summary>The system under test: a tree and the allocator that counts its nodes.</summary>
    public sealed class Sut
    {
        public Sut(bool alloc)
        {
            Heap = new HeapMapleNodeAllocator();
            Tree = new MapleTree<ulong>(alloc ? MapleFlags.MT_FLAGS_ALLOC_RANGE : 0, Heap);
        }

        public HeapMapleNodeAllocator Heap { get; }

        public MapleTree<ulong> Tree { get; }

        public override string ToString() => $"tree of {Tree.Count} ranges, height {Tree.Height}";
    }

    /// <summary>The model and what the last operation must have returned.</summary>
    public sealed record State(IntervalMapModel<ulong> Model, long Expected, ulong ExpectedIndex)
    {
        public override string ToString() => $"{Model} expect {Expected}";
    }

    internal static string N(ulong x) =>
        x < 1_000_000 ? x.ToString(CultureInfo.InvariantCulture) : "0x" + x.ToString("x", CultureInfo.InvariantCulture);

    /// <summary>A tree prefilled with <c>Count</c> small ranges (enough for height 3) so every operation meets a deep tree.</summary>
    private sealed class TreeSetup(bool alloc, int count) : Setup<Sut, State>
    {
        public bool Alloc => alloc;

        public int Count => count;

        private IEnumerable<(ulong First, ulong Last, ulong Entry)> Ranges()
        {
            for (var i = 0; i < count; i++)
            {
                var first = (ulong)i * 13;
                yield return (first, first + (ulong)(i % 5), (ulong)i + 1);
            }
        }

        public override Sut Actual()
        {
            var sut = new Sut(alloc);
            foreach (var (f, l, e) in Ranges())
            {
                sut.Tree.MtreeStoreRange(f, l, e, Gfp.GFP_KERNEL);
            }

            return sut;
        }

        public override State Model()
        {
            var m = IntervalMapModel.Empty<ulong>(alloc);
            foreach (var (f, l, e) in Ranges())
            {
                (_, m) = m.Store(f, l, e);
            }

            return new State(m, 0, 0);
        }

        public override string ToString()
        {
            var sb = new StringBuilder(alloc ? "tree t alloc_range" : "tree t");
            foreach (var (f, l, e) in Ranges())
            {
                sb.Append(CultureInfo.InvariantCulture, $"\nt: store {f} {l} {e}");
            }

            return sb.ToString();
        }
    }

    private static Property Agree(Sut sut, State s, bool ok, string what)
    {
        var violations = sut.Tree.MtValidate();
        var diff = MapleTestUtil.Diff(sut.Tree, s.Model);
        var nodes = sut.Heap.Live == sut.Tree.NodeCount;
        return (ok && violations.Count == 0 && diff is null && nodes)
            .Label($"{what}; {string.Join("; ", violations.Take(3))}; {diff}; live {sut.Heap.Live} nodes {sut.Tree.NodeCount}");
    }

    private sealed class InsertOp(ulong first, ulong last, ulong entry) : Operation<Sut, State>
    {
        public override State Run(State s)
        {
            var (r, m) = s.Model.Insert(first, last, entry);
            return new State(m, r, 0);
        }

        public override Property Check(Sut sut, State s)
        {
            var got = sut.Tree.MtreeInsertRange(first, last, entry, Gfp.GFP_KERNEL);
            return Agree(sut, s, got == s.Expected, $"insert returned {got}, model {s.Expected}");
        }

        public override string ToString() => $"t: insert {N(first)} {N(last)} {entry}";
    }

    private sealed class StoreOp(ulong first, ulong last, ulong entry) : Operation<Sut, State>
    {
        public override State Run(State s)
        {
            var (r, m) = s.Model.Store(first, last, entry);
            return new State(m, r, 0);
        }

        public override Property Check(Sut sut, State s)
        {
            var got = sut.Tree.MtreeStoreRange(first, last, entry, Gfp.GFP_KERNEL);
            return Agree(sut, s, got == s.Expected, $"store returned {got}, model {s.Expected}");
        }

        public override string ToString() => $"t: store {N(first)} {N(last)} {entry}";
    }

    private sealed class EraseOp(ulong index) : Operation<Sut, State>
    {
        public override State Run(State s)
        {
            var (old, m) = s.Model.Erase(index);
            return new State(m, (long)old, 0);
        }

        public override Property Check(Sut sut, State s)
        {
            var got = sut.Tree.MtreeErase(index);
            return Agree(sut, s, (long)got == s.Expected, $"erase returned {got}, model {s.Expected}");
        }

        public override string ToString() => $"t: erase {N(index)}";
    }

    private sealed class LoadOp(ulong index) : Operation<Sut, State>
    {
        public override State Run(State s) => s with { Expected = (long)s.Model.Load(index) };

        public override Property Check(Sut sut, State s)
        {
            var got = sut.Tree.MtreeLoad(index);
            return Agree(sut, s, (long)got == s.Expected, $"load returned {got}, model {s.Expected}");
        }

        public override string ToString() => $"t: load {N(index)}";
    }

    private sealed class AllocOp(ulong size, ulong min, ulong max, ulong entry, bool rev) : Operation<Sut, State>
    {
        public override State Run(State s)
        {
            var (r, start, m) = rev ? s.Model.AllocRrange(size, min, max, entry) : s.Model.AllocRange(size, min, max, entry);
            return new State(m, r, start);
        }

        public override Property Check(Sut sut, State s)
        {
            var got = rev
                ? sut.Tree.MtreeAllocRrange(out var start, entry, size, min, max, Gfp.GFP_KERNEL)
                : sut.Tree.MtreeAllocRange(out start, entry, size, min, max, Gfp.GFP_KERNEL);
            var ok = got == s.Expected && (got != 0 || start == s.ExpectedIndex);
            return Agree(sut, s, ok, $"alloc returned {got} at {start:x}, model {s.Expected} at {s.ExpectedIndex:x}");
        }

        public override string ToString() =>
            $"t: {(rev ? "alloc_rrange" : "alloc_range")} size={N(size)} min={N(min)} max={N(max)} {entry}";
    }

    private sealed class EmptyAreaOp(ulong min, ulong max, ulong size, bool rev) : Operation<Sut, State>
    {
        public override State Run(State s)
        {
            var r = rev ? s.Model.EmptyAreaRev(min, max, size, out var idx) : s.Model.EmptyArea(min, max, size, out idx);
            return s with { Expected = r, ExpectedIndex = idx };
        }

        public override Property Check(Sut sut, State s)
        {
            var mas = new MaState<ulong>(sut.Tree);
            var got = rev ? mas.MasEmptyAreaRev(min, max, size) : mas.MasEmptyArea(min, max, size);
            var ok = got == s.Expected && (got != 0 || (mas.Index == s.ExpectedIndex && mas.Last == mas.Index + size - 1));
            return Agree(sut, s, ok, $"empty_area returned {got} at {mas.Index:x}, model {s.Expected} at {s.ExpectedIndex:x}");
        }

        public override string ToString() =>
            $"t: {(rev ? "empty_area_rev" : "empty_area")} min={N(min)} max={N(max)} size={N(size)}";
    }

    internal static readonly Gen<ulong> Random64 =
        Gen.Zip(Gen.Choose(0, int.MaxValue), Gen.Choose(0, int.MaxValue))
            .Select(p => ((ulong)p.Item1 << 33) ^ ((ulong)p.Item2 << 2) ^ (ulong)(p.Item2 & 3));

    /// <summary>Indices that hit the boundaries: 0, 1, ULONG_MAX, ULONG_MAX-1, the prefilled region, existing range edges.</summary>
    internal static Gen<ulong> Index(IntervalMapModel<ulong> m)
    {
        var edges = Gen.Elements(0UL, 1UL, ulong.MaxValue, ulong.MaxValue - 1, 2UL, ulong.MaxValue - 2);
        var region = Gen.Choose(0, 6000).Select(i => (ulong)i);
        if (m.Count == 0)
        {
            return Gen.Frequency((2, edges), (6, region), (1, Random64));
        }

        var nearRange = Gen.Choose(0, m.Count - 1).SelectMany(i =>
        {
            var r = m.Ranges[i];
            return Gen.Elements(r.First, r.Last, r.First == 0 ? 0 : r.First - 1, r.Last == ulong.MaxValue ? r.Last : r.Last + 1);
        });
        return Gen.Frequency((2, edges), (5, region), (4, nearRange), (1, Random64));
    }

    internal static Gen<ulong> Length => Gen.Frequency(
        (6, Gen.Choose(0, 8).Select(i => (ulong)i)),
        (2, Gen.Choose(0, 400).Select(i => (ulong)i)),
        (1, Gen.Choose(0, 8000).Select(i => (ulong)i)),
        (1, Gen.Constant(ulong.MaxValue)));

    private static ulong End(ulong first, ulong len) => first > ulong.MaxValue - len ? ulong.MaxValue : first + len;

    private static Gen<ulong> Size => Gen.Frequency(
        (6, Gen.Choose(1, 16).Select(i => (ulong)i)),
        (2, Gen.Choose(1, 3000).Select(i => (ulong)i)),
        (1, Gen.Elements(0UL, 1UL << 40, ulong.MaxValue, ulong.MaxValue - 5)));

    private sealed class TreeMachine(bool alloc) : Machine<Sut, State>(40)
    {
        public override Arbitrary<Setup<Sut, State>> Setup => Arb.From(
            Gen.Elements(0, 3, 40, 180, 420).Select(n => (Setup<Sut, State>)new TreeSetup(alloc, n)),
            s => ((TreeSetup)s).Count > 0 ? [new TreeSetup(alloc, ((TreeSetup)s).Count / 2)] : []);

        public override Gen<Operation<Sut, State>> Next(State s)
        {
            var m = s.Model;
            var entry = Gen.Choose(1, 999).Select(i => (ulong)i);
            var insert = Index(m).SelectMany(a => Length.SelectMany(len => entry.Select(e =>
                (Operation<Sut, State>)new InsertOp(a, End(a, len), e))));
            var store = Index(m).SelectMany(a => Length.SelectMany(len => Gen.Frequency((3, entry), (1, Gen.Constant(0UL)))
                .Select(e => (Operation<Sut, State>)new StoreOp(a, End(a, len), e))));
            var erase = Index(m).Select(i => (Operation<Sut, State>)new EraseOp(i));
            var load = Index(m).Select(i => (Operation<Sut, State>)new LoadOp(i));
            var window = Gen.Frequency(
                (2, Gen.Constant((0UL, ulong.MaxValue))),
                (3, Index(m).SelectMany(a => Length.Select(len => (a, End(a, len))))),
                (1, Gen.Zip(Index(m), Index(m))));
            var allocOp = Size.SelectMany(size => window.SelectMany(w => entry.SelectMany(e => Gen.Elements(false, true)
                .Select(rev => (Operation<Sut, State>)new AllocOp(size, w.Item1, w.Item2, e, rev)))));
            var empty = Size.SelectMany(size => window.SelectMany(w => Gen.Elements(false, true)
                .Select(rev => (Operation<Sut, State>)new EmptyAreaOp(w.Item1, w.Item2, size, rev))));
            // Without MT_FLAGS_ALLOC_RANGE the kernel's gap search cannot descend (no gaps in range_64 nodes), so
            // empty_area is only compared on allocation trees.
            return alloc
                ? Gen.Frequency((4, insert), (4, store), (3, erase), (2, load), (3, allocOp), (2, empty))
                : Gen.Frequency((4, insert), (4, store), (3, erase), (2, load), (1, allocOp));
        }
    }

    [Fact]
    public void AllocTreeMatchesTheModel() =>
        new TreeMachine(alloc: true).ToProperty()
            .Check(Config.QuickThrowOnFailure.WithMaxTest(120).WithReplay(20261201UL, 7UL).WithQuietOnSuccess(true));

    [Fact]
    public void PlainTreeMatchesTheModel() =>
        new TreeMachine(alloc: false).ToProperty()
            .Check(Config.QuickThrowOnFailure.WithMaxTest(60).WithReplay(20261202UL, 11UL).WithQuietOnSuccess(true));
}
