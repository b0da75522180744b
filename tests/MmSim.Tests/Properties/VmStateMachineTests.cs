using FsCheck;
using FsCheck.Experimental;
using FsCheck.Fluent;
using MmSim.Kernel;
using MmSim.Model;
using MmSim.Vm;
using Xunit;

namespace MmSim.Tests.Properties;

/// <summary>
/// The process layer against <see cref="VmModel"/>: random mmap (anonymous, shared anonymous, and a test device whose
/// vm_ops count open/close per mmap lineage), munmap, mprotect, mremap, fork, exit, read and write sequences over
/// several processes. After every step: the syscall result or access outcome, every process's VMA list (range,
/// flags, pgoff, object), open/close per lineage (live VMAs = 1 + opens - closes; closes = opens + 1 once the last
/// is gone), every registered invariant (tree order and validity, map_count, PTEs inside VMAs, page mapcounts and
/// references, file references), and, once every process has exited, the free page count back at its start.
/// Operations print as scenario lines, so a shrunk counterexample reads as a scenario file.
/// </summary>
public sealed class VmStateMachineTests
{
    private const ulong P = VmModel.PAGE;
    private const ulong Window = 0x100000000UL;
    private const int Slots = 24;
    private const int DevId = 1;
    private const int RefusingId = 2;

    /// <summary>The real system: a machine, its processes by name, the two test devices.</summary>
    public sealed class VmSystem
    {
        public VmSystem()
        {
            M = new Machine(new MachineConfig { RamBytes = 16UL << 20 });
            FreeAtStart = M.PageAlloc.NrFreePages;
            var p0 = M.Tasks.Spawn("p0");
            Procs["p0"] = p0;
            Dev = new TestDevice(M, "d", 256);
            Refusing = new TestDevice(M, "r", 256) { MaySplitError = -(int)Errno.EINVAL };
            Assert.Equal(0, Dev.Open(p0, OpenFlags.O_RDWR));
            Assert.Equal(1, Refusing.Open(p0, OpenFlags.O_RDWR));
            M.SyscallExit();
        }

        public Machine M { get; }

        public Dictionary<string, TaskStruct> Procs { get; } = new(StringComparer.Ordinal);

        public TestDevice Dev { get; }

        public TestDevice Refusing { get; }

        public long FreeAtStart { get; }

        /// <summary>Model shmem file ids and the real files they stand for.</summary>
        public Dictionary<int, VfsFile> Shmem { get; } = [];

        public TestDevice Device(int id) => id == DevId ? Dev : Refusing;
    }

    private sealed class VmSetup : Setup<VmSystem, VmModel>
    {
        public override VmSystem Actual() => new();

        public override VmModel Model()
        {
            var m = new VmModel();
            m.AddDevice(256, 0);
            m.AddDevice(256, (int)VmModel.EINVAL);
            m.Spawn("p0");
            return m;
        }

        public override string ToString() =>
            "machine ram=16M\nspawn p0\np0: d = open_test pages=256\np0: r = open_test pages=256 refuse=split";
    }

    private abstract class VmOp(string proc) : Operation<VmSystem, VmModel>
    {
        public string Proc { get; } = proc;

        public override bool Pre(VmModel m) => m.Procs.ContainsKey(Proc);

        public sealed override VmModel Run(VmModel m)
        {
            var c = m.Clone();
            Apply(c, c.Procs[Proc]);
            return c;
        }

        public sealed override Property Check(VmSystem a, VmModel m)
        {
            var what = Act(a, a.Procs[Proc], m, out var ok);
            a.M.SyscallExit();
            return Compare(a, m, ok, $"{this} -> {what}");
        }

        protected abstract void Apply(VmModel m, ProcM p);

        /// <summary>Do it on the real system; say what happened and whether it matched the model's result.</summary>
        protected abstract string Act(VmSystem a, TaskStruct t, VmModel m, out bool ok);

        protected static string Prot(ulong prot) => prot == 0 ? "none" :
            ((prot & 1) != 0 ? "r" : "") + ((prot & 2) != 0 ? "w" : "") + ((prot & 4) != 0 ? "x" : "");

        protected static string Hex(ulong v) => $"0x{v:x}";

        protected static string Ret(long r) => r < 0 && r >= -4095 ? ((Errno)(int)-r).ToString() : Hex((ulong)r);
    }

    private sealed class MmapOp(string proc, VmBacking kind, bool isPrivate, int dev, bool isFixed, bool noReplace, ulong addr,
        ulong pages, ulong prot, ulong off) : VmOp(proc)
    {
        protected override void Apply(VmModel m, ProcM p) =>
            m.Result = m.Mmap(p, addr, pages * P, prot, kind, dev, isPrivate, isFixed, noReplace, off);

        protected override string Act(VmSystem a, TaskStruct t, VmModel m, out bool ok)
        {
            var flags = kind switch
            {
                VmBacking.Anon => Mman.MAP_PRIVATE | Mman.MAP_ANONYMOUS,
                VmBacking.Shmem => Mman.MAP_SHARED | Mman.MAP_ANONYMOUS,
                _ => isPrivate ? Mman.MAP_PRIVATE : Mman.MAP_SHARED,
            };
            if (isFixed)
            {
                flags |= noReplace ? Mman.MAP_FIXED_NOREPLACE : Mman.MAP_FIXED;
            }

            var r = t.Mmap(isFixed ? addr : 0, pages * P, prot, flags, kind == VmBacking.Device ? dev - 1 : -1, off * P);
            ok = r == m.Result;
            return $"{Ret(r)} (model {Ret(m.Result)})";
        }

        public override string ToString()
        {
            var flags = kind switch
            {
                VmBacking.Anon => "private|anonymous",
                VmBacking.Shmem => "shared|anonymous",
                _ => isPrivate ? "private" : "shared",
            };
            if (isFixed)
            {
                flags += noReplace ? "|fixed_noreplace" : "|fixed";
            }

            var s = $"{Proc}: mmap len={pages}p prot={Prot(prot)} flags={flags}";
            if (isFixed)
            {
                s += $" addr={Hex(addr)}";
            }

            if (kind == VmBacking.Device)
            {
                s += $" fd={(dev == DevId ? "d" : "r")}" + (off != 0 ? $" off={off}p" : "");
            }

            return s;
        }
    }

    private sealed class MunmapOp(string proc, ulong addr, ulong pages) : VmOp(proc)
    {
        protected override void Apply(VmModel m, ProcM p) => m.Result = m.Munmap(p, addr, pages * P);

        protected override string Act(VmSystem a, TaskStruct t, VmModel m, out bool ok)
        {
            var r = t.Munmap(addr, pages * P);
            ok = r == m.Result;
            return $"{Ret(r)} (model {Ret(m.Result)})";
        }

        public override string ToString() => $"{Proc}: munmap {Hex(addr)} {pages}p";
    }

    private sealed class MprotectOp(string proc, ulong addr, ulong pages, ulong prot) : VmOp(proc)
    {
        protected override void Apply(VmModel m, ProcM p) => m.Result = m.Mprotect(p, addr, pages * P, prot);

        protected override string Act(VmSystem a, TaskStruct t, VmModel m, out bool ok)
        {
            var r = t.Mprotect(addr, pages * P, prot);
            ok = r == m.Result;
            return $"{Ret(r)} (model {Ret(m.Result)})";
        }

        public override string ToString() => $"{Proc}: mprotect {Hex(addr)} {pages}p {Prot(prot)}";
    }

    private sealed class MremapOp(string proc, ulong addr, ulong oldPages, ulong newPages, bool mayMove, bool isFixed, ulong newAddr)
        : VmOp(proc)
    {
        protected override void Apply(VmModel m, ProcM p) =>
            m.Result = m.Mremap(p, addr, oldPages * P, newPages * P, mayMove, isFixed, newAddr);

        protected override string Act(VmSystem a, TaskStruct t, VmModel m, out bool ok)
        {
            var flags = (mayMove ? Mman.MREMAP_MAYMOVE : 0) | (isFixed ? Mman.MREMAP_FIXED : 0);
            var r = t.Mremap(addr, oldPages * P, newPages * P, flags, isFixed ? newAddr : 0);
            ok = r == m.Result;
            return $"{Ret(r)} (model {Ret(m.Result)})";
        }

        public override string ToString()
        {
            var s = $"{Proc}: mremap {Hex(addr)} {oldPages}p {newPages}p";
            if (mayMove)
            {
                s += isFixed ? $" flags=maymove|fixed new={Hex(newAddr)}" : " flags=maymove";
            }

            return s;
        }
    }

    private sealed class ForkOp(string proc, string child) : VmOp(proc)
    {
        public override bool Pre(VmModel m) => base.Pre(m) && !m.Procs.ContainsKey(child);

        protected override void Apply(VmModel m, ProcM p)
        {
            m.Fork(p, child);
            m.NextProc = Math.Max(m.NextProc, int.Parse(child[1..], System.Globalization.CultureInfo.InvariantCulture) + 1);
        }

        protected override string Act(VmSystem a, TaskStruct t, VmModel m, out bool ok)
        {
            var r = t.Fork(child, out var c);
            ok = r > 0 && c is not null;
            if (c is not null)
            {
                a.Procs[child] = c;
            }

            return Ret(r);
        }

        public override string ToString() => $"{Proc}: fork {child}";
    }

    private sealed class ExitOp(string proc) : VmOp(proc)
    {
        protected override void Apply(VmModel m, ProcM p) => m.Exit(p);

        protected override string Act(VmSystem a, TaskStruct t, VmModel m, out bool ok)
        {
            t.Exit();
            a.Procs.Remove(Proc);
            ok = true;
            return "exited";
        }

        public override string ToString() => $"{Proc}: exit";
    }

    private sealed class ReadOp(string proc, ulong addr) : VmOp(proc)
    {
        protected override void Apply(VmModel m, ProcM p) => m.Read(p, addr);

        protected override string Act(VmSystem a, TaskStruct t, VmModel m, out bool ok)
        {
            var r = t.UserRead(addr);
            ok = Same(r, m);
            return $"{r} (model {Outcome(m)})";
        }

        public override string ToString() => $"{Proc}: read {Hex(addr)}";
    }

    private sealed class WriteOp(string proc, ulong addr, ulong value) : VmOp(proc)
    {
        protected override void Apply(VmModel m, ProcM p) => m.Write(p, addr, value);

        protected override string Act(VmSystem a, TaskStruct t, VmModel m, out bool ok)
        {
            var r = t.UserWrite(addr, 8, value);
            ok = Same(r, m);
            return $"{r} (model {Outcome(m)})";
        }

        public override string ToString() => $"{Proc}: write {Hex(addr)} {Hex(value)}";
    }

    private sealed class CheckOp : Operation<VmSystem, VmModel>
    {
        public override VmModel Run(VmModel m) => m;

        public override Property Check(VmSystem a, VmModel m) => Compare(a, m, true, "check");

        public override string ToString() => "check";
    }

    private static bool Same(UserAccessResult r, VmModel m) =>
        m.Signal is { } s
            ? r.Signal is { } rs && (int)rs.Signo == s.Signo && rs.Code == s.Code && rs.Address == s.Addr
            : r.Ok && r.Value == m.Value;

    private static string Outcome(VmModel m) => m.Signal is { } s ? $"signal {s.Signo} code {s.Code} at 0x{s.Addr:x}" : $"0x{m.Value:x}";

    // Everything the model predicts, compared with the real system.
    private static Property Compare(VmSystem a, VmModel m, bool ok, string what)
    {
        var problems = new List<string>();
        if (!ok)
        {
            problems.Add("result differs");
        }

        foreach (var (name, pm) in m.Procs)
        {
            if (!a.Procs.TryGetValue(name, out var t) || t.Mm is null)
            {
                problems.Add($"{name} missing");
                continue;
            }

            var actual = t.Mm.MmMt.Snapshot();
            if (actual.Length != pm.Vmas.Count)
            {
                problems.Add($"{name}: {actual.Length} VMAs, model {pm.Vmas.Count}");
            }

            for (var i = 0; i < Math.Min(actual.Length, pm.Vmas.Count); i++)
            {
                var v = actual[i];
                var mv = pm.Vmas[i];
                if (v.VmStart != mv.Start || v.VmEnd != mv.End || (ulong)v.VmFlags != mv.Flags || v.VmPgoff != mv.Pgoff
                    || !SameObject(a, v, mv))
                {
                    problems.Add($"{name}: vma {v} pgoff {v.VmPgoff:x} file {v.VmFile?.Path}, model {mv}");
                }
            }
        }

        foreach (var (id, f) in m.Files)
        {
            if (f.Kind != VmBacking.Device)
            {
                continue;
            }

            var dev = a.Device(id);
            if (dev.Lineages.Count != f.Lineages.Count)
            {
                problems.Add($"device {id}: {dev.Lineages.Count} mmaps, model {f.Lineages.Count}");
                continue;
            }

            for (var i = 0; i < f.Lineages.Count; i++)
            {
                var l = dev.Lineages[i];
                var live = a.Procs.Values.Where(t => t.Mm is not null)
                    .Sum(t => t.Mm!.MmMt.Snapshot().Count(v => v.VmPrivateData == l));
                if ((l.Opens, l.Closes) != f.Lineages[i])
                {
                    problems.Add($"device {id} lineage {i + 1}: open {l.Opens} close {l.Closes}, model {f.Lineages[i]}");
                }

                if (live != l.Live || (live == 0 && l.Closes != l.Opens + 1))
                {
                    problems.Add($"device {id} lineage {i + 1}: {live} live VMAs with open {l.Opens} close {l.Closes}");
                }
            }
        }

        problems.AddRange(a.M.CheckInvariants());
        problems.AddRange(a.M.Reports.Kasan.Select(k => k.ToString()));
        problems.AddRange(a.M.Reports.Warnings.Select(w => w.ToString()));
        if (m.Procs.Count == 0 && a.M.PageAlloc.NrFreePages != a.FreeAtStart)
        {
            problems.Add($"all exited but free pages {a.M.PageAlloc.NrFreePages} != {a.FreeAtStart}");
        }

        return (problems.Count == 0).Label($"{what}: {string.Join("; ", problems)}");
    }

    private static bool SameObject(VmSystem a, VmArea v, VmaM mv)
    {
        if (mv.File == 0)
        {
            return v.VmFile is null;
        }

        if (mv.File is DevId or RefusingId)
        {
            return v.VmFile?.FOp == a.Device(mv.File) && v.VmPrivateData is MmapLineage l && l.Id == mv.Lineage;
        }

        if (v.VmFile is null)
        {
            return false;
        }

        if (a.Shmem.TryGetValue(mv.File, out var f))
        {
            return f == v.VmFile;
        }

        if (a.Shmem.ContainsValue(v.VmFile))
        {
            return false;
        }

        a.Shmem[mv.File] = v.VmFile;
        return true;
    }

    private sealed class VmMachine() : Machine<VmSystem, VmModel>(40)
    {
        public override Arbitrary<Setup<VmSystem, VmModel>> Setup =>
            Gen.Constant((Setup<VmSystem, VmModel>)new VmSetup()).ToArbitrary();

        public override Gen<Operation<VmSystem, VmModel>> Next(VmModel m)
        {
            if (m.Procs.Count == 0)
            {
                return Gen.Constant((Operation<VmSystem, VmModel>)new CheckOp());
            }

            var procs = m.Procs.Keys.ToArray();
            return Gen.Elements(procs).SelectMany(proc => OpFor(m, proc));
        }

        private static Gen<ulong> Address(VmModel m, string proc)
        {
            var vmas = m.Procs[proc].Vmas;
            var slot = Gen.Choose(0, Slots - 1).Select(s => Window + ((ulong)s * P));
            if (vmas.Count == 0)
            {
                return slot;
            }

            var inVma = Gen.Elements(vmas.ToArray()).SelectMany(v =>
                Gen.Choose(-1, (int)v.Pages).Select(i => (ulong)((long)v.Start + (i * (long)P))));
            return Gen.Frequency((2, slot), (3, inVma));
        }

        private static readonly ulong[] Prots = [0, 1, 3, 3, 3, 7];

        private Gen<Operation<VmSystem, VmModel>> OpFor(VmModel m, string proc)
        {
            var prot = Gen.Elements(Prots);
            var pages = Gen.Choose(1, 4).Select(n => (ulong)n);
            var addr = Address(m, proc);
            var mmap =
                from kind in Gen.Frequency((5, Gen.Constant(0)), (2, Gen.Constant(1)), (2, Gen.Constant(2)), (1, Gen.Constant(3)), (1, Gen.Constant(4)))
                from fix in Gen.Frequency((6, Gen.Constant(1)), (1, Gen.Constant(2)), (3, Gen.Constant(0)))
                from slot in Gen.Choose(0, Slots - 1)
                from n in pages
                from pr in prot
                from off in Gen.Choose(0, 3)
                select (Operation<VmSystem, VmModel>)new MmapOp(proc,
                    kind switch { 0 => VmBacking.Anon, 1 => VmBacking.Shmem, _ => VmBacking.Device },
                    kind == 3, kind == 4 ? RefusingId : DevId, fix != 0, fix == 2, Window + ((ulong)slot * P), n, pr,
                    kind >= 2 ? (ulong)off : 0);
            var munmap = from a in addr from n in pages select (Operation<VmSystem, VmModel>)new MunmapOp(proc, a, n);
            var mprotect = from a in addr from n in pages from pr in prot select (Operation<VmSystem, VmModel>)new MprotectOp(proc, a, n, pr);
            var mremap =
                from a in addr
                from o in pages
                from n in Gen.Choose(1, 6)
                from mode in Gen.Choose(0, 2)
                from slot in Gen.Choose(0, Slots - 1)
                select (Operation<VmSystem, VmModel>)new MremapOp(proc, a, o, (ulong)n, mode >= 1, mode == 2, Window + ((ulong)slot * P));
            var read = addr.Select(a => (Operation<VmSystem, VmModel>)new ReadOp(proc, a));
            var write = from a in addr from v in Gen.Choose(1, 1000) select (Operation<VmSystem, VmModel>)new WriteOp(proc, a, (ulong)v);
            var fork = Gen.Constant((Operation<VmSystem, VmModel>)new ForkOp(proc, $"p{m.NextProc}"));
            var exit = Gen.Constant((Operation<VmSystem, VmModel>)new ExitOp(proc));
            List<(int, Gen<Operation<VmSystem, VmModel>>)> ops =
                [(6, mmap), (4, munmap), (4, mprotect), (3, mremap), (5, read), (5, write), (1, exit)];
            if (m.Procs.Count < 4)
            {
                ops.Add((1, fork));
            }

            return Gen.Frequency([.. ops]);
        }
    }

    [Fact]
    public void ProcessLayerMatchesTheModel() =>
        new VmMachine().ToProperty().Check(Config.QuickThrowOnFailure.WithMaxTest(120).WithReplay(20261122UL, 11UL).WithQuietOnSuccess(true));
}
