using FsCheck;
using FsCheck.Experimental;
using FsCheck.Fluent;
using MmSim.Kernel;
using MmSim.Mm;
using MmSim.Model;
using Xunit;

namespace MmSim.Tests.Properties;

/// <summary>
/// The vmalloc area against <see cref="VmallocModel"/>: random vmalloc/vzalloc/vmalloc_user/vfree (interior and
/// guard-page addresses too), sparse get_vm_area/map/unmap/free_vm_area, kernel and probe loads and stores, purges.
/// Every step checks the exact address, errno, load value, report counts, counters and slab objects, plus the
/// machine's invariants; a drain step frees everything and checks that nothing is left.
/// </summary>
public class VmallocProperties
{
    private const ulong P = K.PAGE_SIZE;

    /// <summary>The real machine plus what the test itself owns (addresses by model id, pages it mapped).</summary>
    public sealed class Harness
    {
        public Harness()
        {
            M = new Machine(new MachineConfig { RamBytes = 16UL << 20, Cpus = 1, Seed = 3 });
            FreeAtStart = M.PageAlloc.NrFreePages;
            ObjectsAtStart = M.Slab.Caches.Sum(c => c.ActiveObjects);
        }

        public Machine M { get; }

        public long FreeAtStart { get; }

        public long ObjectsAtStart { get; }

        public Dictionary<int, ulong> Addr { get; } = [];

        public Dictionary<int, VmStruct> Sparse { get; } = [];

        /// <summary>Pages the test mapped into sparse areas (kernel address → PFN); it frees them on unmap.</summary>
        public SortedDictionary<ulong, long> Owned { get; } = [];

        public VmStruct Vm(int id) => Sparse.TryGetValue(id, out var s) ? s : M.Vmalloc.FindVmArea(Addr[id])!;

        /// <summary>Free the owned pages in [start, end) that are no longer mapped.</summary>
        public void ReleaseUnmapped(ulong start, ulong end)
        {
            foreach (var a in Owned.Keys.Where(a => a >= start && a < end).ToList())
            {
                if (M.Vmalloc.VmallocToPage(a) != Owned[a])
                {
                    M.PageAlloc.FreePages(Owned[a], 0);
                    Owned.Remove(a);
                }
            }
        }

        /// <summary>What arena_map_free does: free every page still mapped, then the area.</summary>
        public void FreeSparse(int id)
        {
            var vm = Sparse[id];
            M.Vmalloc.ApplyToExistingPageRange(vm.Addr, vm.GetVmAreaSize, (a, pfn) =>
            {
                M.PageAlloc.FreePages(pfn, 0);
                Owned.Remove(a);
                return 0;
            });
            M.Vmalloc.FreeVmArea(vm);
            Sparse.Remove(id);
        }

        public override string ToString() => "machine ram=16M cpus=1";
    }

    /// <summary>The model plus the result the last step must have produced and the expected report counts.</summary>
    public sealed record State(VmallocModel Model, ulong Expected, int Kasan, int Warns, bool WarnedNotSparse)
    {
        public override string ToString() => $"{Model} kasan={Kasan} warns={Warns}";
    }

    private static VmallocModelArea? Pick(State s, int index, Func<VmallocModelArea, bool> which)
    {
        var list = s.Model.Busy.Where(which).OrderBy(a => a.Id).ToList();
        return list.Count == 0 ? null : list[index % list.Count];
    }

    private static Property Agree(Harness h, State s, bool ok, string what)
    {
        var m = h.M;
        var v = m.Vmalloc;
        var violations = m.CheckInvariants();
        var model = s.Model;
        var busyAlloc = model.Busy.Count(a => a.Kind == VmallocAreaKind.Alloc);
        var busySparse = model.Busy.Count(a => a.Kind == VmallocAreaKind.Sparse);
        var objects = m.Slab.Caches.Sum(c => c.ActiveObjects) - h.ObjectsAtStart;
        var expectedObjects = (3L * busyAlloc) + (2L * busySparse) + model.LazyCount;
        var counters = v.NrVmallocPages == model.VmallocPages && v.NrBusyAreas == model.BusyCount &&
                       v.NrLazyAreas == model.LazyCount && v.VmapLazyNr == model.LazyPages &&
                       h.Owned.Count == model.SparseMappedPages;
        var reports = m.Reports.KasanCount == s.Kasan && m.Reports.WarnCount == s.Warns;
        return (ok && violations.Count == 0 && counters && reports && objects == expectedObjects)
            .Label($"{what}; vmalloc pages {v.NrVmallocPages} busy {v.NrBusyAreas} lazy {v.NrLazyAreas}/{v.VmapLazyNr}p " +
                   $"owned {h.Owned.Count}; kasan {m.Reports.KasanCount}/{s.Kasan} warns {m.Reports.WarnCount}/{s.Warns}; " +
                   $"objects {objects}/{expectedObjects}; {string.Join("; ", violations)}");
    }

    private sealed class VmallocOp(int kind, int pages, int delta) : Operation<Harness, State>
    {
        private int _id;

        public override State Run(State s)
        {
            var (model, area) = s.Model.Reserve(pages, VmallocAreaKind.Alloc);
            _id = area?.Id ?? 0;
            return s with { Model = model, Expected = area?.Start ?? 0 };
        }

        public override Property Check(Harness h, State s)
        {
            var size = ((ulong)pages * P) - (ulong)delta;
            var v = h.M.Vmalloc;
            var got = kind switch
            {
                0 => v.Vmalloc(size, "prop"),
                1 => v.Vzalloc(size, "prop"),
                _ => v.VmallocUser(size, "prop"),
            };
            h.Addr[_id] = got;
            var vm = v.FindVmArea(got);
            var flagsOk = vm is not null && (vm.Flags & VmStructFlags.VM_USERMAP) == (kind == 2 ? VmStructFlags.VM_USERMAP : 0);
            return Agree(h, s, got == s.Expected && flagsOk, $"{this} = 0x{got:x}, model 0x{s.Expected:x}");
        }

        public override string ToString() => $"{(kind == 0 ? "vmalloc" : kind == 1 ? "vzalloc" : "vmalloc_user")}({pages}p-{delta})";
    }

    private sealed class VfreeOp(int index, int page) : Operation<Harness, State>
    {
        private int _id;
        private ulong _addr;

        public override bool Pre(State s) => s.Model.Busy.Any(a => a.Kind == VmallocAreaKind.Alloc);

        public override State Run(State s)
        {
            var area = Pick(s, index, a => a.Kind == VmallocAreaKind.Alloc)!;
            _id = area.Id;
            _addr = area.Start + ((ulong)(page % (area.Pages + 1)) * P);
            return s with { Model = s.Model.Free(area) };
        }

        public override Property Check(Harness h, State s)
        {
            h.M.Vmalloc.Vfree(_addr);
            h.Addr.Remove(_id);
            return Agree(h, s, true, $"vfree(0x{_addr:x})");
        }

        public override string ToString() => $"vfree(#{index} page {page})";
    }

    private sealed class GetVmAreaOp(int pages) : Operation<Harness, State>
    {
        private int _id;

        public override State Run(State s)
        {
            var (model, area) = s.Model.Reserve(pages, VmallocAreaKind.Sparse);
            _id = area?.Id ?? 0;
            return s with { Model = model, Expected = area?.Start ?? 0 };
        }

        public override Property Check(Harness h, State s)
        {
            var area = h.M.Vmalloc.GetVmArea((ulong)pages * P, VmStructFlags.VM_SPARSE | VmStructFlags.VM_USERMAP, "prop");
            if (area is not null)
            {
                h.Sparse[_id] = area;
            }

            return Agree(h, s, area?.Addr == s.Expected, $"get_vm_area({pages}p) = 0x{area?.Addr:x}, model 0x{s.Expected:x}");
        }

        public override string ToString() => $"get_vm_area({pages}p, VM_SPARSE)";
    }

    private sealed class FreeVmAreaOp(int index) : Operation<Harness, State>
    {
        private int _id;

        public override bool Pre(State s) => s.Model.Busy.Any(a => a.Kind == VmallocAreaKind.Sparse);

        public override State Run(State s)
        {
            var area = Pick(s, index, a => a.Kind == VmallocAreaKind.Sparse)!;
            _id = area.Id;
            return s with { Model = s.Model.Free(area) };
        }

        public override Property Check(Harness h, State s)
        {
            h.FreeSparse(_id);
            return Agree(h, s, true, "free_vm_area");
        }

        public override string ToString() => $"free_vm_area(#{index})";
    }

    private sealed class MapOp(int index, int first, int count) : Operation<Harness, State>
    {
        private int _id;
        private int _first;

        public override bool Pre(State s) => s.Model.BusyCount > 0;

        public override State Run(State s)
        {
            var area = Pick(s, index, _ => true)!;
            _id = area.Id;
            _first = first % (area.Pages + 2);
            var (model, err, _) = s.Model.Map(area, _first, count);
            var warns = s.Warns + (err == -16 || (err == -22 && !s.WarnedNotSparse) ? 1 : 0);
            return s with { Model = model, Expected = unchecked((ulong)err), Warns = warns, WarnedNotSparse = s.WarnedNotSparse || err == -22 };
        }

        public override Property Check(Harness h, State s)
        {
            var vm = h.Vm(_id);
            var start = vm.Addr + ((ulong)_first * P);
            var pages = Enumerable.Range(0, count).Select(_ => h.M.PageAlloc.AllocPage(Gfp.GFP_KERNEL | Gfp.__GFP_ZERO)).ToArray();
            var err = h.M.Vmalloc.VmAreaMapPages(vm, start, start + ((ulong)count * P), pages);
            for (var i = 0; i < count; i++)
            {
                var a = start + ((ulong)i * P);
                if (h.M.Vmalloc.VmallocToPage(a) == pages[i])
                {
                    h.Owned[a] = pages[i];
                }
                else
                {
                    h.M.PageAlloc.FreePages(pages[i], 0);
                }
            }

            return Agree(h, s, unchecked((ulong)err) == s.Expected, $"vm_area_map_pages = {err}, model {(int)s.Expected}");
        }

        public override string ToString() => $"map(#{index} first {first} count {count})";
    }

    private sealed class UnmapOp(int index, int first, int count) : Operation<Harness, State>
    {
        private int _id;
        private int _first;

        public override bool Pre(State s) => s.Model.BusyCount > 0;

        public override State Run(State s)
        {
            var area = Pick(s, index, _ => true)!;
            _id = area.Id;
            _first = first % (area.Pages + 2);
            var notSparse = area.Kind != VmallocAreaKind.Sparse;
            var warns = s.Warns + (notSparse && !s.WarnedNotSparse ? 1 : 0);
            return s with { Model = s.Model.Unmap(area, _first, count), Warns = warns, WarnedNotSparse = s.WarnedNotSparse || notSparse };
        }

        public override Property Check(Harness h, State s)
        {
            var vm = h.Vm(_id);
            var start = vm.Addr + ((ulong)_first * P);
            h.M.Vmalloc.VmAreaUnmapPages(vm, start, start + ((ulong)count * P));
            h.ReleaseUnmapped(start, start + ((ulong)count * P));
            return Agree(h, s, true, "vm_area_unmap_pages");
        }

        public override string ToString() => $"unmap(#{index} first {first} count {count})";
    }

    private sealed class AccessOp(int index, int page, int slot, bool write, bool probe, ulong value) : Operation<Harness, State>
    {
        private int _id;
        private ulong _offset;

        public override bool Pre(State s) => s.Model.BusyCount > 0;

        public override State Run(State s)
        {
            var area = Pick(s, index, _ => true)!;
            _id = area.Id;
            _offset = ((ulong)(page % (area.Pages + 1)) * P) + ((ulong)slot * 8);
            var loaded = s.Model.Load(area, _offset);
            var kasan = s.Kasan + (loaded is null && !probe ? 1 : 0);
            return write
                ? s with { Model = s.Model.Store(area, _offset, value), Expected = loaded is null ? 0UL : 1UL, Kasan = kasan }
                : s with { Expected = loaded ?? 0, Kasan = kasan, Warns = s.Warns + 0 };
        }

        public override Property Check(Harness h, State s)
        {
            var addr = h.Vm(_id).Addr + _offset;
            var v = h.M.Vmalloc;
            bool ok;
            if (write)
            {
                var done = probe ? v.ProbeWriteValue(addr, 8, value) : h.M.KernelMem.WriteValue(addr, 8, value, "prop");
                ok = done == (s.Expected == 1);
            }
            else
            {
                ulong got;
                _ = probe ? v.ProbeReadValue(addr, 8, out got) : h.M.KernelMem.ReadValue(addr, 8, "prop", out got);
                ok = got == s.Expected;
            }

            return Agree(h, s, ok, $"{this} at 0x{addr:x}, model {s.Expected:x}");
        }

        public override string ToString() => $"{(probe ? "probe_" : "")}{(write ? "write" : "read")}(#{index} page {page} slot {slot})";
    }

    private sealed class PurgeOp : Operation<Harness, State>
    {
        public override State Run(State s) => s with { Model = s.Model.Purge() };

        public override Property Check(Harness h, State s)
        {
            h.M.Vmalloc.PurgeVmapAreaLazy();
            return Agree(h, s, true, "purge_vmap_area_lazy");
        }

        public override string ToString() => "purge";
    }

    private sealed class DrainOp : Operation<Harness, State>
    {
        public override State Run(State s) =>
            s with { Model = VmallocModel.Empty(s.Model.LazyMax) with { NextId = s.Model.NextId } };

        public override Property Check(Harness h, State s)
        {
            foreach (var id in h.Sparse.Keys.Order().ToList())
            {
                h.FreeSparse(id);
            }

            foreach (var id in h.Addr.Keys.Order().ToList())
            {
                h.M.Vmalloc.Vfree(h.Addr[id]);
                h.Addr.Remove(id);
            }

            h.M.Vmalloc.PurgeVmapAreaLazy();
            var pristine = h.M.PageAlloc.NrFreePages == h.FreeAtStart && h.Owned.Count == 0 &&
                           h.M.Slab.Caches.Sum(c => c.ActiveObjects) == h.ObjectsAtStart && h.M.Slab.SlabPages == 0;
            return Agree(h, s, pristine, $"drain: free pages {h.M.PageAlloc.NrFreePages}/{h.FreeAtStart}, slab pages {h.M.Slab.SlabPages}");
        }

        public override string ToString() => "drain";
    }

    private sealed class VmallocMachine : Machine<Harness, State>
    {
        public VmallocMachine()
            : base(60)
        {
        }

        public override Arbitrary<Setup<Harness, State>> Setup =>
            Gen.Constant(StateMachine.Setup(() => new Harness(), () => new State(VmallocModel.Empty(8192), 0, 0, 0, false)))
                .ToArbitrary();

        public override Gen<Operation<Harness, State>> Next(State s) => Gen.Frequency(
            (4, Gen.Choose(0, 2).SelectMany(k => Gen.Choose(1, 40), (k, p) => (k, p))
                .SelectMany(_ => Gen.Choose(0, 4095), (kp, d) => Op(new VmallocOp(kp.k, kp.p, d)))),
            (3, Gen.Choose(0, 1000).SelectMany(_ => Gen.Choose(0, 50), (i, p) => Op(new VfreeOp(i, p)))),
            (2, Gen.Frequency((3, Gen.Choose(1, 16)), (1, Gen.Constant(2048))).Select(p => Op(new GetVmAreaOp(p)))),
            (2, Gen.Choose(0, 1000).Select(i => Op(new FreeVmAreaOp(i)))),
            (3, Gen.Choose(0, 1000).SelectMany(_ => Gen.Choose(0, 20), (i, f) => (i, f))
                .SelectMany(_ => Gen.Choose(1, 4), (t, c) => Op(new MapOp(t.i, t.f, c)))),
            (2, Gen.Choose(0, 1000).SelectMany(_ => Gen.Choose(0, 20), (i, f) => (i, f))
                .SelectMany(_ => Gen.Choose(1, 4), (t, c) => Op(new UnmapOp(t.i, t.f, c)))),
            (5, Gen.Choose(0, 1000).SelectMany(_ => Gen.Choose(0, 50), (i, p) => (i, p))
                .SelectMany(_ => Gen.Choose(0, 511), (t, slot) => (t.i, t.p, slot))
                .SelectMany(_ => Gen.Choose(0, 3), (t, mode) => (t.i, t.p, t.slot, mode))
                .SelectMany(_ => ArbMap.Default.GeneratorFor<ulong>(), (t, value) =>
                    Op(new AccessOp(t.i, t.p, t.slot, (t.mode & 1) != 0, (t.mode & 2) != 0, value)))),
            (1, Gen.Constant(Op(new PurgeOp()))),
            (1, Gen.Constant(Op(new DrainOp()))));

        private static Operation<Harness, State> Op(Operation<Harness, State> op) => op;
    }

    [Fact]
    public void VmallocAreaMatchesTheModel() =>
        new VmallocMachine().ToProperty().Check(Config.QuickThrowOnFailure.WithMaxTest(120).WithReplay(20261122UL, 11UL).WithQuietOnSuccess(true));
}
