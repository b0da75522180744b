using FsCheck;
using FsCheck.Experimental;
using FsCheck.Fluent;
using MmSim.Bpf;
using MmSim.Kernel;
using MmSim.Model;
using MmSim.Vm;
using Xunit;

namespace MmSim.Tests.Properties;

/// <summary>
/// The arena against <see cref="ArenaModel"/>: one arena (map_extra bound, 16 pages, with or without
/// SEGV_ON_FAULT) created by p0, which also loads a program using it; random mmap (MAP_FIXED at the arena), munmap,
/// fork, exit, close of the map fd, user reads and writes, kfunc alloc/free and program loads/stores over up to four
/// processes. After every step: the result; every process's arena VMAs and faulted pages; the arena's pages and
/// maple-tree offsets; vma_list counts; no allocation on a user fault with SEGV_ON_FAULT; every registered
/// invariant (the arena's: every user PTE maps the kernel page at its offset, every kernel page's offset is in the
/// tree, vma_list count = live VMAs sharing the entry, no dangling vml->vma); no KASAN report or WARN. Once every
/// process has exited (the map is freed), free pages and the memcg charge are back at their start.
/// On 6.12.0 the same property finds the fork/split use-after-free.
/// </summary>
public sealed class ArenaStateMachineTests
{
    private const ulong P = 4096;
    private const ulong Base = 0x1_0000_0000;

    public sealed class ArenaSystem
    {
        public ArenaSystem(KernelProfile profile, bool segv)
        {
            M = new Machine(new MachineConfig { RamBytes = 16UL << 20, Profile = profile });
            FreeAtStart = M.PageAlloc.NrFreePages;
            MemcgAtStart = M.Memcg.Usage;
            var p0 = M.Tasks.Spawn("p0");
            Procs["p0"] = p0;
            var fd = M.Bpf.MapCreate(p0, new MapCreateAttr
            {
                MapType = BpfMapType.BPF_MAP_TYPE_ARENA,
                MaxEntries = ArenaModel.Pages,
                MapFlags = BpfF.BPF_F_MMAPABLE | (segv ? BpfF.BPF_F_SEGV_ON_FAULT : 0),
                MapExtra = Base,
            });
            Assert.Equal(0L, fd);
            Arena = (BpfArena)p0.Files!.Lookup(0)!.PrivateData!;
            Assert.Equal(1L, M.Bpf.ProgLoad(p0, [0], out var prog));
            Prog = prog!;
            M.SyscallExit();
        }

        public Machine M { get; }

        public Dictionary<string, TaskStruct> Procs { get; } = new(StringComparer.Ordinal);

        public BpfArena Arena { get; }

        public BpfProg Prog { get; }

        public long FreeAtStart { get; }

        public ulong MemcgAtStart { get; }
    }

    private sealed class ArenaSetup(KernelProfile profile, bool segv) : Setup<ArenaSystem, ArenaModel>
    {
        public override ArenaSystem Actual() => new(profile, segv);

        public override ArenaModel Model()
        {
            var m = new ArenaModel(segv, profile.ArenaMaySplitRefuses);
            m.Procs["p0"] = new ArenaProcM();
            return m;
        }

        public override string ToString() =>
            $"machine ram=16M kernel={profile.Name}\nspawn p0\np0: m = map_create type=arena entries=16 flags=mmapable{(segv ? "|segv_on_fault" : "")} extra=0x100000000\np0: g = prog_load maps=m";
    }

    private abstract class ArenaOp : Operation<ArenaSystem, ArenaModel>
    {
        public sealed override ArenaModel Run(ArenaModel m)
        {
            var c = m.Clone();
            Apply(c);
            return c;
        }

        public sealed override Property Check(ArenaSystem a, ArenaModel m)
        {
            var ok = Act(a, m, out var what);
            a.M.SyscallExit();
            return Compare(a, m, ok, $"{this} -> {what}");
        }

        protected abstract void Apply(ArenaModel m);

        protected abstract bool Act(ArenaSystem a, ArenaModel m, out string what);

        protected static string Ret(long r) => r < 0 && r >= -4095 ? ((Errno)(int)-r).ToString() : $"0x{r:x}";

        protected static bool Syscall(long r, ArenaModel m, out string what)
        {
            what = $"{Ret(r)} (model {Ret(m.Result)})";
            return r == m.Result;
        }

        protected static bool Access(UserAccessResult r, ArenaModel m, out string what)
        {
            what = $"{r} (model {(m.Segv ? "SIGSEGV" : $"0x{m.Value:x}")})";
            return m.Segv ? r.Signal?.Signo == Signal.SIGSEGV : r.Ok && r.Value == m.Value;
        }
    }

    private abstract class ProcOp(string proc) : ArenaOp
    {
        public string Proc { get; } = proc;

        public override bool Pre(ArenaModel m) => m.Procs.ContainsKey(Proc);
    }

    private sealed class MmapOp(string proc) : ProcOp(proc)
    {
        protected override void Apply(ArenaModel m) => m.Mmap(Proc);

        protected override bool Act(ArenaSystem a, ArenaModel m, out string what)
        {
            var r = a.Procs[Proc].Mmap(Base, ArenaModel.Pages * P, Mman.PROT_READ | Mman.PROT_WRITE, Mman.MAP_SHARED | Mman.MAP_FIXED, 0);
            return Syscall(r == (long)Base ? 0 : r, m, out what);
        }

        public override string ToString() => $"{Proc}: mmap addr=0x100000000 len=16p prot=rw flags=shared|fixed fd=m";
    }

    private sealed class MunmapOp(string proc, int start, int n) : ProcOp(proc)
    {
        protected override void Apply(ArenaModel m) => m.Munmap(Proc, start, n);

        protected override bool Act(ArenaSystem a, ArenaModel m, out string what) =>
            Syscall(a.Procs[Proc].Munmap(Base + ((ulong)start * P), (ulong)n * P), m, out what);

        public override string ToString() => $"{Proc}: munmap 0x{Base + ((ulong)start * P):x} {n}p";
    }

    private sealed class ForkOp(string proc, string child) : ProcOp(proc)
    {
        protected override void Apply(ArenaModel m)
        {
            m.Fork(Proc, child);
            m.NextProc++;
        }

        protected override bool Act(ArenaSystem a, ArenaModel m, out string what)
        {
            var r = a.Procs[Proc].Fork(child, out var c);
            if (c is not null)
            {
                a.Procs[child] = c;
            }

            return Syscall(r > 0 ? 0 : r, m, out what);
        }

        public override string ToString() => $"{Proc}: fork {child}";
    }

    private sealed class ExitOp(string proc) : ProcOp(proc)
    {
        protected override void Apply(ArenaModel m) => m.Exit(Proc);

        protected override bool Act(ArenaSystem a, ArenaModel m, out string what)
        {
            a.Procs[Proc].Exit();
            a.Procs.Remove(Proc);
            what = "exited";
            return true;
        }

        public override string ToString() => $"{Proc}: exit";
    }

    private sealed class CloseOp(string proc) : ProcOp(proc)
    {
        protected override void Apply(ArenaModel m) => m.Close(Proc);

        protected override bool Act(ArenaSystem a, ArenaModel m, out string what) => Syscall(a.Procs[Proc].Close(0), m, out what);

        public override string ToString() => $"{Proc}: close m";
    }

    private sealed class UserOp(string proc, int pgoff, int word, bool write, ulong value) : ProcOp(proc)
    {
        private ulong Addr => Base + ((ulong)pgoff * P) + ((ulong)word * 8);

        protected override void Apply(ArenaModel m) => m.Access(Proc, pgoff, word, write, value);

        protected override bool Act(ArenaSystem a, ArenaModel m, out string what)
        {
            var t = a.Procs[Proc];
            return Access(write ? t.UserWrite(Addr, 8, value) : t.UserRead(Addr), m, out what);
        }

        public override string ToString() => write ? $"{Proc}: write 0x{Addr:x} {value}" : $"{Proc}: read 0x{Addr:x} => any";
    }

    private sealed class AllocOp(int hint, int cnt) : ArenaOp
    {
        protected override void Apply(ArenaModel m) => m.Alloc(hint, cnt);

        protected override bool Act(ArenaSystem a, ArenaModel m, out string what)
        {
            var r = BpfArena.BpfArenaAllocPages(a.Prog.Arena!, hint < 0 ? 0 : Base + ((ulong)hint * P), (uint)cnt, -1, 0);
            var expected = m.Result < 0 ? 0 : Base + ((ulong)m.Result * P);
            what = $"0x{r:x} (model 0x{expected:x})";
            return r == expected;
        }

        public override string ToString() =>
            $"g: arena_alloc_pages m count={cnt}{(hint < 0 ? "" : $" addr=0x{Base + ((ulong)hint * P):x}")} => any";
    }

    private sealed class FreeOp(int pgoff, int cnt) : ArenaOp
    {
        protected override void Apply(ArenaModel m) => m.Free(pgoff, cnt);

        protected override bool Act(ArenaSystem a, ArenaModel m, out string what)
        {
            BpfArena.BpfArenaFreePages(a.Prog.Arena!, Base + ((ulong)pgoff * P), (uint)cnt);
            what = "done";
            return true;
        }

        public override string ToString() => $"g: arena_free_pages m 0x{Base + ((ulong)pgoff * P):x} count={cnt}";
    }

    private sealed class ProgAccessOp(int pgoff, int word, bool store, ulong value) : ArenaOp
    {
        private ulong Addr => Base + ((ulong)pgoff * P) + ((ulong)word * 8);

        protected override void Apply(ArenaModel m)
        {
            if (store)
            {
                m.Store(pgoff, word, value);
            }
            else
            {
                m.Load(pgoff, word);
            }
        }

        protected override bool Act(ArenaSystem a, ArenaModel m, out string what)
        {
            var arena = (BpfArena)a.Prog.Arena!;
            if (store)
            {
                arena.ProbeMem32Store(Addr, 8, value);
                what = "done";
                return true;
            }

            var v = arena.ProbeMem32Load(Addr, 8);
            what = $"0x{v:x} (model 0x{m.Value:x})";
            return v == m.Value;
        }

        public override string ToString() => store ? $"g: store m 0x{Addr:x} {value}" : $"g: load m 0x{Addr:x} => any";
    }

    private static Property Compare(ArenaSystem a, ArenaModel m, bool ok, string what)
    {
        var problems = new List<string>();
        if (!ok)
        {
            problems.Add("result differs");
        }

        var arena = a.Arena;
        if (!arena.Freed)
        {
            var pages = arena.AllocatedRanges().SelectMany(r => Enumerable.Range((int)r.First, (int)(r.Last - r.First + 1))).ToList();
            if (!pages.SequenceEqual(m.Data.Keys))
            {
                problems.Add($"maple tree offsets {string.Join(",", pages)}, model {string.Join(",", m.Data.Keys)}");
            }

            if (arena.NrPages != m.Data.Count)
            {
                problems.Add($"{arena.NrPages} arena pages, model {m.Data.Count}");
            }

            var counts = arena.VmaListHead.Select(v => v.MmapCount).Order().ToList();
            if (!counts.SequenceEqual(m.LiveCounts()))
            {
                problems.Add($"vma_list counts {string.Join(",", counts)}, model {string.Join(",", m.LiveCounts())}");
            }

            if (m.SegvOnFault && arena.FaultAllocs != 0)
            {
                problems.Add("a SEGV_ON_FAULT arena allocated on a user fault");
            }
        }

        foreach (var (name, pm) in m.Procs)
        {
            var mm = a.Procs[name].Mm!;
            var vmas = mm.Vmas.Where(v => v.VmFile?.PrivateData == arena)
                .Select(v => ((int)((v.VmStart - Base) / P), (int)((v.VmEnd - Base) / P))).ToList();
            var model = pm.Vmas.Select(v => (v.Start, v.End)).ToList();
            if (!vmas.SequenceEqual(model))
            {
                problems.Add($"{name}: arena VMAs {string.Join(" ", vmas)}, model {string.Join(" ", model)}");
            }

            var ptes = new List<int>();
            foreach (var addr in mm.Pgd.Valid(Base, Base + (ArenaModel.Pages * P)))
            {
                ptes.Add((int)((addr - Base) / P));
            }

            if (!ptes.SequenceEqual(pm.Ptes))
            {
                problems.Add($"{name}: PTEs at {string.Join(",", ptes)}, model {string.Join(",", pm.Ptes)}");
            }
        }

        problems.AddRange(a.M.CheckInvariants());
        problems.AddRange(a.M.Reports.Kasan.Select(k => k.ToString()));
        problems.AddRange(a.M.Reports.Warnings.Select(w => w.ToString()));
        if (m.Procs.Count == 0)
        {
            if (!arena.Freed)
            {
                problems.Add("every process exited but the arena was not freed");
            }

            a.M.Vmalloc.PurgeVmapAreaLazy();
            if (a.M.PageAlloc.NrFreePages != a.FreeAtStart)
            {
                problems.Add($"all exited but free pages {a.M.PageAlloc.NrFreePages} != {a.FreeAtStart}");
            }

            if (a.M.Memcg.Usage != a.MemcgAtStart)
            {
                problems.Add($"all exited but memcg {a.M.Memcg.Usage} != {a.MemcgAtStart}");
            }
        }

        return (problems.Count == 0).Label($"{what}: {string.Join("; ", problems)}");
    }

    private sealed class DoneOp : ArenaOp
    {
        protected override void Apply(ArenaModel m)
        {
        }

        protected override bool Act(ArenaSystem a, ArenaModel m, out string what)
        {
            what = "check";
            return true;
        }

        public override string ToString() => "check";
    }

    private sealed class ArenaMachine(KernelProfile profile) : Machine<ArenaSystem, ArenaModel>(50)
    {
        public override Arbitrary<Setup<ArenaSystem, ArenaModel>> Setup =>
            Gen.Elements(false, true).Select(segv => (Setup<ArenaSystem, ArenaModel>)new ArenaSetup(profile, segv)).ToArbitrary();

        public override Gen<Operation<ArenaSystem, ArenaModel>> Next(ArenaModel m)
        {
            if (m.Procs.Count == 0)
            {
                return Gen.Constant((Operation<ArenaSystem, ArenaModel>)new DoneOp());
            }

            var pgoff = Gen.Choose(0, ArenaModel.Pages + 1);
            var word = Gen.Choose(0, 3);
            var value = Gen.Choose(1, 1000).Select(v => (ulong)v);
            var cnt = Gen.Frequency((6, Gen.Choose(1, 3)), (1, Gen.Choose(4, 17)));
            var alloc = from hint in Gen.Frequency((1, Gen.Constant(-1)), (1, Gen.Choose(0, ArenaModel.Pages)))
                        from c in cnt
                        select (Operation<ArenaSystem, ArenaModel>)new AllocOp(hint, c);
            var free = from p in pgoff from c in cnt select (Operation<ArenaSystem, ArenaModel>)new FreeOp(p, c);
            var prog = from p in pgoff
                       from w in word
                       from s in Gen.Elements(false, true)
                       from v in value
                       select (Operation<ArenaSystem, ArenaModel>)new ProgAccessOp(p, w, s, v);
            var procOps = Gen.Elements(m.Procs.Keys.ToArray()).SelectMany(proc =>
            {
                var user = from p in pgoff
                           from w in word
                           from s in Gen.Elements(false, true)
                           from v in value
                           select (Operation<ArenaSystem, ArenaModel>)new UserOp(proc, p, w, s, v);
                var munmap = from s in Gen.Choose(0, ArenaModel.Pages)
                             from n in Gen.Frequency((3, Gen.Choose(1, 4)), (1, Gen.Constant(ArenaModel.Pages)))
                             select (Operation<ArenaSystem, ArenaModel>)new MunmapOp(proc, s, n);
                List<(int, Gen<Operation<ArenaSystem, ArenaModel>>)> ops =
                [
                    (4, Gen.Constant((Operation<ArenaSystem, ArenaModel>)new MmapOp(proc))),
                    (3, munmap),
                    (8, user),
                    (1, Gen.Constant((Operation<ArenaSystem, ArenaModel>)new CloseOp(proc))),
                    (1, Gen.Constant((Operation<ArenaSystem, ArenaModel>)new ExitOp(proc))),
                ];
                if (m.Procs.Count < 4)
                {
                    ops.Add((2, Gen.Constant((Operation<ArenaSystem, ArenaModel>)new ForkOp(proc, $"p{m.NextProc}"))));
                }

                return Gen.Frequency([.. ops]);
            });
            return Gen.Frequency((10, procOps), (3, alloc), (3, free), (4, prog));
        }
    }

    [Fact]
    public void ArenaMatchesTheModelOn6_12_y() =>
        new ArenaMachine(KernelProfile.V6_12_y).ToProperty()
            .Check(Config.QuickThrowOnFailure.WithMaxTest(100).WithReplay(20261121UL, 7UL).WithQuietOnSuccess(true));

    [Fact]
    public void ThePropertyFindsTheUseAfterFreeOn6_12_0()
    {
        var ex = Record.Exception(() => new ArenaMachine(KernelProfile.V6_12_0).ToProperty()
            .Check(Config.QuickThrowOnFailure.WithMaxTest(200).WithReplay(20261121UL, 7UL).WithQuietOnSuccess(true)));
        Assert.NotNull(ex);
        Assert.True(ex.Message.Contains("slab-use-after-free", StringComparison.Ordinal) || ex.Message.Contains("dangles", StringComparison.Ordinal),
            ex.Message);
    }
}
