using FsCheck;
using FsCheck.Experimental;
using FsCheck.Fluent;
using MmSim.Bpf;
using MmSim.Kernel;
using MmSim.Mm;
using MmSim.Model;
using MmSim.Vm;
using Xunit;

namespace MmSim.Tests.Properties;

/// <summary>
/// mmap-able array maps against <see cref="BpfMapModel"/>: random map_create, map_update, map_lookup, mmap (shared,
/// fixed, r or rw, with a page offset), partial munmap (splits), mprotect, user loads and stores, fork, exit,
/// map_freeze, close and a full drain, in up to three processes. After every step: the result, every registered
/// invariant, and per map writecnt = live VMAs with VM_MAYWRITE, frozen ⇒ no writable VMA, vm_open / vm_close /
/// mmap counts (so closes = opens + mmaps once unmapped), freed when nothing refers to it; the memcg charge equals
/// the live maps' memory (plus the accounted file and VMA objects); after a drain no map, vmalloc page, page or
/// charge is left. Operations print as scenario lines.
/// </summary>
public sealed class BpfMapStateMachineTests
{
    private const ulong SlotBase = 0x10000000UL;
    private const ulong SlotSize = 16 * BpfMapModel.PAGE;
    private const int Slots = 6;
    private static readonly uint[] EntryChoices = [100, 512, 1000, 1536, 2048];

    private static ulong SlotAddr(int slot) => SlotBase + ((ulong)slot * SlotSize);

    /// <summary>The real system.</summary>
    public sealed class BpfSystem
    {
        public BpfSystem()
        {
            M = new Machine(new MachineConfig { RamBytes = 32UL << 20 });
            FreeAtStart = M.PageAlloc.NrFreePages;
            UsageAtStart = M.Memcg.Usage - SlabCharge();
            Procs["p0"] = M.Tasks.Spawn("p0");
        }

        public Machine M { get; }

        public long FreeAtStart { get; }

        public ulong UsageAtStart { get; }

        public Dictionary<string, TaskStruct> Procs { get; } = new(StringComparer.Ordinal);

        /// <summary>The real map of each model map, by creation order.</summary>
        public List<BpfMap> Maps { get; } = [];

        /// <summary>Bytes charged by accounted slab caches (files, VMAs, maple nodes): not map memory.</summary>
        public ulong SlabCharge() => (ulong)M.Slab.Caches.Where(c => (c.Flags & SlabFlags.SLAB_ACCOUNT) != 0)
            .Sum(c => c.ActiveObjects * c.Size);
    }

    private sealed class BpfSetup : Setup<BpfSystem, BpfMapModel>
    {
        public override BpfSystem Actual() => new();

        public override BpfMapModel Model()
        {
            var m = new BpfMapModel();
            m.Procs["p0"] = new BpfMapModel.ProcM();
            return m;
        }

        public override string ToString() => "machine ram=32M\nspawn p0";
    }

    private abstract class BpfOp(string proc) : Operation<BpfSystem, BpfMapModel>
    {
        public string Proc { get; } = proc;

        public override bool Pre(BpfMapModel m) => m.Procs.ContainsKey(Proc);

        public sealed override BpfMapModel Run(BpfMapModel m)
        {
            var c = m.Clone();
            Apply(c, c.Procs.GetValueOrDefault(Proc)!);
            return c;
        }

        public sealed override Property Check(BpfSystem a, BpfMapModel m)
        {
            var got = Act(a, a.Procs.GetValueOrDefault(Proc)!, m);
            a.M.SyscallExit();
            var errors = new List<string>();
            if (got != m.Result)
            {
                errors.Add($"returned {Ret(got)}, model {Ret(m.Result)}");
            }

            Compare(a, m, errors);
            return (errors.Count == 0).Label($"{this}: {string.Join("; ", errors)}");
        }

        protected abstract void Apply(BpfMapModel m, BpfMapModel.ProcM p);

        protected abstract long Act(BpfSystem a, TaskStruct t, BpfMapModel m);

        protected static string Ret(long r) => r < 0 && r >= -4095 ? ((Errno)(int)-r).ToString() : $"0x{r:x}";
    }

    // Everything the model says about the maps, after every step.
    private static void Compare(BpfSystem a, BpfMapModel m, List<string> errors)
    {
        errors.AddRange(a.M.CheckInvariants());
        for (var i = 0; i < m.Maps.Count; i++)
        {
            var mm = m.Maps[i];
            var r = a.Maps[i];
            if (mm.Freed != r.Freed)
            {
                errors.Add($"map {i}: freed {r.Freed}, model {mm.Freed}");
                continue;
            }

            if (mm.Freed)
            {
                continue;
            }

            if (r.Writecnt != m.Writecnt(i))
            {
                errors.Add($"map {i}: writecnt {r.Writecnt}, model {m.Writecnt(i)}");
            }

            if (r.VmOpenCalls != mm.Opens || r.VmCloseCalls != mm.Closes || r.MmapCalls != mm.Mmaps)
            {
                errors.Add($"map {i}: open/close/mmap {r.VmOpenCalls}/{r.VmCloseCalls}/{r.MmapCalls}, model {mm.Opens}/{mm.Closes}/{mm.Mmaps}");
            }

            if (mm.Opens + mm.Mmaps - mm.Closes != m.LiveVmas(i))
            {
                errors.Add($"map {i}: the model's own count is off");
            }

            if (r.Frozen != mm.Frozen)
            {
                errors.Add($"map {i}: frozen {r.Frozen}, model {mm.Frozen}");
            }

            if (mm.Frozen && m.Procs.Values.Any(p => p.Vmas.Exists(v => v.Map == i && v.Write)))
            {
                errors.Add($"map {i}: frozen with a writable mapping");
            }
        }

        var charge = a.M.Memcg.Usage - a.SlabCharge() - a.UsageAtStart;
        if (charge != m.MapMemory())
        {
            errors.Add($"memcg: maps hold {charge} bytes, model {m.MapMemory()}");
        }
    }

    private sealed class CreateOp(string proc, uint entries, bool rdonlyProg) : BpfOp(proc)
    {
        protected override void Apply(BpfMapModel m, BpfMapModel.ProcM p) => m.Result = m.Create(p, entries, rdonlyProg);

        protected override long Act(BpfSystem a, TaskStruct t, BpfMapModel m)
        {
            var fd = a.M.Bpf.MapCreate(t, new MapCreateAttr
            {
                MapType = BpfMapType.BPF_MAP_TYPE_ARRAY,
                KeySize = 4,
                ValueSize = 8,
                MaxEntries = entries,
                MapFlags = BpfF.BPF_F_MMAPABLE | (rdonlyProg ? BpfF.BPF_F_RDONLY_PROG : 0),
            });
            if (fd >= 0)
            {
                a.Maps.Add((BpfMap)t.Files!.Lookup((int)fd)!.PrivateData!);
            }

            return fd;
        }

        public override string ToString() =>
            $"{Proc}: map_create type=array key=4 value=8 entries={entries} flags=mmapable{(rdonlyProg ? "|rdonly_prog" : "")}";
    }

    private sealed class UpdateOp(string proc, int fd, uint key, ulong value) : BpfOp(proc)
    {
        protected override void Apply(BpfMapModel m, BpfMapModel.ProcM p) => m.Result = m.Update(p, fd, key, value);

        protected override long Act(BpfSystem a, TaskStruct t, BpfMapModel m) =>
            a.M.Bpf.MapUpdateElem(t, fd, BitConverter.GetBytes(key), BitConverter.GetBytes(value));

        public override string ToString() => $"{Proc}: map_update {fd} {key} {value}";
    }

    private sealed class LookupOp(string proc, int fd, uint key) : BpfOp(proc)
    {
        protected override void Apply(BpfMapModel m, BpfMapModel.ProcM p) => m.Result = m.Lookup(p, fd, key);

        protected override long Act(BpfSystem a, TaskStruct t, BpfMapModel m)
        {
            var v = new byte[8];
            var r = a.M.Bpf.MapLookupElem(t, fd, BitConverter.GetBytes(key), v);
            return r < 0 ? r : BitConverter.ToInt64(v);
        }

        public override string ToString() => $"{Proc}: map_lookup {fd} {key}";
    }

    private sealed class FreezeOp(string proc, int fd) : BpfOp(proc)
    {
        protected override void Apply(BpfMapModel m, BpfMapModel.ProcM p) => m.Result = m.Freeze(p, fd);

        protected override long Act(BpfSystem a, TaskStruct t, BpfMapModel m) => a.M.Bpf.MapFreeze(t, fd);

        public override string ToString() => $"{Proc}: map_freeze {fd}";
    }

    private sealed class CloseOp(string proc, int fd) : BpfOp(proc)
    {
        protected override void Apply(BpfMapModel m, BpfMapModel.ProcM p) => m.Result = m.Close(p, fd);

        protected override long Act(BpfSystem a, TaskStruct t, BpfMapModel m) => t.Close(fd);

        public override string ToString() => $"{Proc}: close {fd}";
    }

    private sealed class MmapOp(string proc, int slot, int fd, int pages, ulong pgoff, bool write) : BpfOp(proc)
    {
        public override bool Pre(BpfMapModel m) => base.Pre(m) && !m.Procs[Proc].Vmas.Exists(v => v.Slot == slot);

        protected override void Apply(BpfMapModel m, BpfMapModel.ProcM p) =>
            m.Result = m.Mmap(p, slot, fd, pages, pgoff, write) is var r && r < 0 ? r : (long)SlotAddr(slot);

        protected override long Act(BpfSystem a, TaskStruct t, BpfMapModel m) =>
            t.Mmap(SlotAddr(slot), (ulong)pages * BpfMapModel.PAGE, Mman.PROT_READ | (write ? Mman.PROT_WRITE : 0),
                Mman.MAP_SHARED | Mman.MAP_FIXED, fd, pgoff * BpfMapModel.PAGE);

        public override string ToString() =>
            $"{Proc}: mmap addr=0x{SlotAddr(slot):x} len={pages}p prot={(write ? "rw" : "r")} flags=shared|fixed fd={fd} off={pgoff}p";
    }

    private sealed class MunmapOp(string proc, int slot, int first, int count) : BpfOp(proc)
    {
        protected override void Apply(BpfMapModel m, BpfMapModel.ProcM p) => m.Result = m.Munmap(p, slot, first, count);

        protected override long Act(BpfSystem a, TaskStruct t, BpfMapModel m) =>
            t.Munmap(SlotAddr(slot) + ((ulong)first * BpfMapModel.PAGE), (ulong)count * BpfMapModel.PAGE);

        public override string ToString() => $"{Proc}: munmap 0x{SlotAddr(slot) + ((ulong)first * BpfMapModel.PAGE):x} {count}p";
    }

    private sealed class MprotectOp(string proc, int slot, int first, bool write) : BpfOp(proc)
    {
        private BpfMapModel.VmaM? Find(BpfMapModel m) => m.Procs[Proc].Vmas.Find(v => v.Slot == slot && v.First == first);

        public override bool Pre(BpfMapModel m) => base.Pre(m) && Find(m) is not null;

        protected override void Apply(BpfMapModel m, BpfMapModel.ProcM p) => m.Result = BpfMapModel.Mprotect(p, Find(m)!, write);

        protected override long Act(BpfSystem a, TaskStruct t, BpfMapModel m)
        {
            var v = m.Procs[Proc].Vmas.Find(x => x.Slot == slot && x.First == first)!;
            return t.Mprotect(SlotAddr(slot) + ((ulong)first * BpfMapModel.PAGE), (ulong)v.Pages * BpfMapModel.PAGE,
                Mman.PROT_READ | (write ? Mman.PROT_WRITE : 0));
        }

        public override string ToString() => $"{Proc}: mprotect 0x{SlotAddr(slot) + ((ulong)first * BpfMapModel.PAGE):x} (vma) {(write ? "rw" : "r")}";
    }

    private sealed class AccessOp(string proc, int slot, int first, int elem, bool write, ulong value) : BpfOp(proc)
    {
        private BpfMapModel.VmaM? Find(BpfMapModel m) => m.Procs[Proc].Vmas.Find(v => v.Slot == slot && v.First == first);

        private ulong Addr => SlotAddr(slot) + ((ulong)first * BpfMapModel.PAGE) + ((ulong)elem * 8);

        public override bool Pre(BpfMapModel m) => base.Pre(m) && Find(m) is { } v && elem < v.Pages * 512;

        protected override void Apply(BpfMapModel m, BpfMapModel.ProcM p)
        {
            var r = m.Access(Find(m)!, elem, write, value, out var segv);
            m.Result = segv ? -1000 : r;
        }

        protected override long Act(BpfSystem a, TaskStruct t, BpfMapModel m)
        {
            var r = write ? t.UserWrite(Addr, 8, value) : t.UserRead(Addr, 8);
            return r.Signal is not null ? -1000 : write ? 0 : (long)r.Value;
        }

        public override string ToString() => write ? $"{Proc}: write 0x{Addr:x} {value}" : $"{Proc}: read 0x{Addr:x}";
    }

    private sealed class ForkOp(string proc) : BpfOp(proc)
    {
        private string Child(BpfMapModel m) => $"c{m.Forks}";

        public override bool Pre(BpfMapModel m) => base.Pre(m) && m.Procs.Count < 3;

        protected override void Apply(BpfMapModel m, BpfMapModel.ProcM p)
        {
            m.Fork(p, Child(m));
            m.Result = 0;
        }

        protected override long Act(BpfSystem a, TaskStruct t, BpfMapModel m)
        {
            var name = $"c{m.Forks - 1}";
            var r = t.Fork(name, out var child);
            if (child is not null)
            {
                a.Procs[name] = child;
            }

            return r > 0 ? 0 : r;
        }

        public override string ToString() => $"{Proc}: fork (child)";
    }

    private sealed class ExitOp(string proc) : BpfOp(proc)
    {
        public override bool Pre(BpfMapModel m) => base.Pre(m) && m.Procs.Count > 1;

        protected override void Apply(BpfMapModel m, BpfMapModel.ProcM p)
        {
            m.Exit(Proc);
            m.Result = 0;
        }

        protected override long Act(BpfSystem a, TaskStruct t, BpfMapModel m)
        {
            t.Exit();
            a.Procs.Remove(Proc);
            return 0;
        }

        public override string ToString() => $"{Proc}: exit";
    }

    /// <summary>Every process exits: nothing may be left (maps, vmalloc pages, frames, charge); then p0 again.</summary>
    private sealed class DrainOp() : BpfOp("p0")
    {
        public override bool Pre(BpfMapModel m) => true;

        protected override void Apply(BpfMapModel m, BpfMapModel.ProcM p)
        {
            foreach (var n in m.Procs.Keys.ToList())
            {
                m.Exit(n);
            }

            m.Procs["p0"] = new BpfMapModel.ProcM();
            m.Result = 0;
        }

        protected override long Act(BpfSystem a, TaskStruct t, BpfMapModel m)
        {
            foreach (var p in a.Procs.Values)
            {
                p.Exit();
            }

            a.Procs.Clear();
            a.M.SyscallExit();
            a.M.Vmalloc.PurgeVmapAreaLazy();
            var clean = a.M.Bpf.Maps.Count == 0 && a.M.Vmalloc.NrVmallocPages == 0
                && a.M.PageAlloc.NrFreePages == a.FreeAtStart && a.M.Memcg.Usage - a.SlabCharge() == a.UsageAtStart;
            a.Procs["p0"] = a.M.Tasks.Spawn("p0");
            return clean ? 0 : -1;
        }

        public override string ToString() => "(every process exits; nothing left) spawn p0";
    }

    private sealed class BpfMachine() : Machine<BpfSystem, BpfMapModel>(40)
    {
        public override Arbitrary<Setup<BpfSystem, BpfMapModel>> Setup =>
            Gen.Constant<Setup<BpfSystem, BpfMapModel>>(new BpfSetup()).ToArbitrary();

        public override Gen<Operation<BpfSystem, BpfMapModel>> Next(BpfMapModel m)
        {
            var procs = m.Procs.Keys.ToArray();
            var proc = Gen.Elements(procs);
            Gen<int> Fd(string p) => m.Procs[p].Fds.Count == 0 ? Gen.Choose(0, 3)
                : Gen.Frequency((6, Gen.Elements(m.Procs[p].Fds.Keys.ToArray())), (1, Gen.Choose(0, 4)));
            var vmas = m.Procs.SelectMany(p => p.Value.Vmas.Select(v => (p.Key, v))).ToArray();
            var ops = new List<(int, Gen<Operation<BpfSystem, BpfMapModel>>)>
            {
                (3, from p in proc from e in Gen.Elements(EntryChoices) from ro in Gen.Frequency((5, Gen.Constant(false)), (1, Gen.Constant(true)))
                    select (Operation<BpfSystem, BpfMapModel>)new CreateOp(p, e, ro)),
                (3, from p in proc from fd in Fd(p) from k in Gen.Choose(0, 2100) from v in Gen.Choose(1, 1000)
                    select (Operation<BpfSystem, BpfMapModel>)new UpdateOp(p, fd, (uint)k, (ulong)v)),
                (3, from p in proc from fd in Fd(p) from k in Gen.Choose(0, 2100)
                    select (Operation<BpfSystem, BpfMapModel>)new LookupOp(p, fd, (uint)k)),
                (5, from p in proc from s in Gen.Choose(0, Slots - 1) from fd in Fd(p) from n in Gen.Choose(1, 4)
                    from off in Gen.Choose(0, 2) from w in Gen.Elements(false, true)
                    select (Operation<BpfSystem, BpfMapModel>)new MmapOp(p, s, fd, n, (ulong)off, w)),
                (2, from p in proc from fd in Fd(p) select (Operation<BpfSystem, BpfMapModel>)new FreezeOp(p, fd)),
                (2, from p in proc from fd in Fd(p) select (Operation<BpfSystem, BpfMapModel>)new CloseOp(p, fd)),
                (1, from p in proc select (Operation<BpfSystem, BpfMapModel>)new ForkOp(p)),
                (1, from p in proc select (Operation<BpfSystem, BpfMapModel>)new ExitOp(p)),
                (1, Gen.Constant<Operation<BpfSystem, BpfMapModel>>(new DrainOp())),
            };
            if (vmas.Length > 0)
            {
                var vma = Gen.Elements(vmas);
                ops.Add((4, from x in vma
                            from f in Gen.Choose(0, x.v.Pages - 1)
                            from c in Gen.Choose(1, x.v.Pages)
                            select (Operation<BpfSystem, BpfMapModel>)new MunmapOp(x.Key, x.v.Slot, x.v.First + f, c)));
                ops.Add((3, from x in vma
                            from w in Gen.Elements(false, true)
                            select (Operation<BpfSystem, BpfMapModel>)new MprotectOp(x.Key, x.v.Slot, x.v.First, w)));
                ops.Add((6, from x in vma
                            from e in Gen.Choose(0, (x.v.Pages * 512) - 1)
                            from w in Gen.Elements(false, true)
                            from v in Gen.Choose(1, 1000)
                            select (Operation<BpfSystem, BpfMapModel>)new AccessOp(x.Key, x.v.Slot, x.v.First, e, w, (ulong)v)));
            }

            return Gen.Frequency(ops.ToArray());
        }
    }

    [Fact]
    public void ArrayMapsMatchTheModel() =>
        new BpfMachine().ToProperty().Check(Config.QuickThrowOnFailure.WithMaxTest(150).WithReplay(20261121UL, 4242424243UL));
}
