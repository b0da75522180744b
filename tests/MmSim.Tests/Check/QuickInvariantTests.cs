using MmSim.Bpf;
using MmSim.Check;
using MmSim.Kernel;
using MmSim.Mm;
using MmSim.Vm;
using Xunit;
using Xunit.Abstractions;

namespace MmSim.Tests.Check;

/// <summary>
/// The quick paths of the invariant checks (<see cref="InvariantRegistry.CheckAllQuick"/>, what <c>mmsim check</c>
/// runs after every step) against the full checks (<see cref="InvariantRegistry.CheckAll"/>): on the checker's
/// random sequences, after every step, and after each of many random corruptions of the state (frame fields, page
/// contents, PTEs, VMAs, vmalloc pages, file and slab counters), both report exactly the same violations.
/// </summary>
public class QuickInvariantTests(ITestOutputHelper output)
{
    private const int Sequences = 48;

    [Fact]
    public void QuickAndFullChecksAgreeOnRandomSequencesAndCorruptions()
    {
        var corrupt = new Random(12345);
        long steps = 0, corruptions = 0, caught = 0, sound = 0;
        var vouched = new Dictionary<string, long>();
        var opts = new CheckOptions { Seed = 7 };
        for (long i = 0; i < Sequences; i++)
        {
            var rng = CheckRandom.ForSequence(opts.Seed, i);
            var gen = new Generator(rng, opts.Registry);
            var ex = new SequenceExecutor(opts.MachineLine, opts.Registry, checkInvariants: false);
            var length = rng.Range(4, opts.MaxLength);

            bool Step(CheckStep s)
            {
                steps++;
                if (ex.Run(s, 0, out var v) == StepVerdict.Invalid || v is not null)
                {
                    return false;
                }

                gen.Observe(s, ex.Last!, ex.Session);
                var m = ex.Machine;
                var full = Outcome(m.Invariants.CheckAll);
                Assert.Equal(full, Outcome(m.Invariants.CheckAllQuick));
                if (full.Count == 0)
                {
                    sound++;
                    foreach (var (name, holds) in m.Invariants.QuickResults())
                    {
                        vouched[name] = vouched.GetValueOrDefault(name) + (holds ? 1 : 0);
                    }
                }

                for (var k = 0; k < 6; k++)
                {
                    var undo = Corrupt(m, corrupt);
                    if (undo is null)
                    {
                        continue;
                    }

                    corruptions++;
                    var f = Outcome(m.Invariants.CheckAll);
                    Assert.Equal(f, Outcome(m.Invariants.CheckAllQuick));
                    caught += f.Count > 0 ? 1 : 0;
                    undo();
                    Assert.Equal(full, Outcome(m.Invariants.CheckAllQuick));
                }

                return !ex.Session.Stopped;
            }

            var ok = gen.Prologue().All(Step);
            for (var k = 0; ok && k < length; k++)
            {
                ok = Step(gen.Next());
            }

            if (ok)
            {
                _ = gen.Teardown().All(Step);
            }
        }

        output.WriteLine($"{steps} steps, {corruptions} corruptions, {caught} caught, {sound} sound states; quick paths vouched: " +
            string.Join(", ", vouched.Select(kv => $"{kv.Key} {kv.Value}")));

        // A quick path that never vouches would agree with the full check trivially (and make the checker slow):
        // on a sound state every quick path must vouch. (It once stopped vouching silently when the frame layout changed.)
        Assert.Equal(["bpf", "page_alloc", "slab", "vm", "vmalloc"], vouched.Keys.Order());
        Assert.All(vouched, kv => Assert.True(kv.Value == sound, $"{kv.Key} vouched for {kv.Value} of {sound} sound states"));

        // The corruptions are mostly visible, so the full checks' reporting paths were exercised too.
        Assert.True(steps > 1000 && corruptions > 5000 && caught > corruptions / 2, $"{steps} steps, {corruptions} corruptions, {caught} caught");
    }

    // The violations, or the exception a check threw.
    private static List<string> Outcome(Func<List<string>> check)
    {
        try
        {
            return check();
        }
#pragma warning disable CA1031 // the exception is the outcome compared
        catch (Exception e)
#pragma warning restore CA1031
        {
            return ["exception " + e.GetType().Name];
        }
    }

    // One random corruption of the machine's state; returns how to undo it (null: nothing to corrupt).
    private static Action? Corrupt(Machine m, Random r)
    {
        var pa = m.PageAlloc;
        var pfn = r.NextInt64(pa.TotalPages);
        switch (r.Next(14))
        {
            case 0:
                {
                    var d = r.Next(2) == 0 ? 1 : -1;
                    pa.Frame(pfn).Refcount += d;
                    return () => pa.Frame(pfn).Refcount -= d;
                }

            case 1:
                {
                    var old = pa.Frame(pfn).Mapcount;
                    pa.Frame(pfn).Mapcount = (ushort)(old == 0 || r.Next(2) == 0 ? old + 1 : old - 1);
                    return () => pa.Frame(pfn).Mapcount = old;
                }

            case 2:
                {
                    var bit = (PageFlags)(1 << r.Next(8));
                    pa.Frame(pfn).Flags ^= bit;
                    return () => pa.Frame(pfn).Flags ^= bit;
                }

            case 3:
                {
                    var old = pa.Frame(pfn).Order;
                    pa.Frame(pfn).Order = (byte)(old ^ (1 << r.Next(3)));
                    return () => pa.Frame(pfn).Order = old;
                }

            case 4:
                {
                    if (pa.Contents.HasBuffer(pfn))
                    {
                        return null;
                    }

                    pa.Contents.Write(pfn)[0] = 1;
                    return () => pa.Contents.Clear(pfn);
                }

            case 5:
            case 6:
                return CorruptPte(m, r);
            case 7:
            case 8:
                return CorruptVma(m, r);
            case 9:
                return CorruptVmalloc(m, r);
            case 10:
                {
                    var files = AllFiles(m);
                    if (files.Count == 0)
                    {
                        return null;
                    }

                    var f = files[r.Next(files.Count)];
                    var d = r.Next(2) == 0 ? 1 : -1;
                    f.FCount += d;
                    return () => f.FCount -= d;
                }

            case 11:
                return CorruptBpf(m, r);
            case 12:
                return CorruptMapleTree(m, r);
            default:
                return CorruptSlab(m, r);
        }
    }

    // Map references and counters, arena vma_list counts, and arena kernel pages mapped or unmapped behind the
    // arena's back (which the arena quick path counts rather than visits).
    private static Action? CorruptBpf(Machine m, Random r)
    {
        var maps = m.Bpf.Maps.Values.Where(x => x.Refcnt > 0).ToList();
        if (maps.Count == 0)
        {
            return null;
        }

        var map = maps[r.Next(maps.Count)];
        var d = r.Next(2) == 0 ? 1 : -1;
        switch (r.Next(5))
        {
            case 0:
                map.Refcnt += d;
                return () => map.Refcnt -= d;
            case 1:
                map.Usercnt += d;
                return () => map.Usercnt -= d;
            case 2:
                map.Writecnt += d;
                return () => map.Writecnt -= d;
            case 3 when map is BpfArena { VmaListHead.Count: > 0 } arena:
                {
                    var vml = arena.VmaListHead[r.Next(arena.VmaListHead.Count)];
                    vml.MmapCount += d;
                    return () => vml.MmapCount -= d;
                }

            case 4 when map is BpfArena arena:
                {
                    var kaddr = arena.KernVmStart + ((ulong)r.Next(16) << 12);
                    var pfn = m.Vmalloc.VmallocToPage(kaddr);
                    if (pfn >= 0)
                    {
                        m.Vmalloc.VmAreaUnmapPages(arena.KernVm, kaddr, kaddr + 4096);
                        return () => Assert.Equal(0, m.Vmalloc.VmAreaMapPages(arena.KernVm, kaddr, kaddr + 4096, [pfn]));
                    }

                    Assert.Equal(0, m.Vmalloc.VmAreaMapPages(arena.KernVm, kaddr, kaddr + 4096, [r.NextInt64(m.PageAlloc.TotalPages)]));
                    return () => m.Vmalloc.VmAreaUnmapPages(arena.KernVm, kaddr, kaddr + 4096);
                }

            default:
                return null;
        }
    }

    // A VMA tree's root node: a gap, the node's address, its minimum (mt_validate's conditions, which the vm quick
    // path tests with its own walk).
    private static Action? CorruptMapleTree(Machine m, Random r)
    {
        var trees = Mms(m).Select(mm => mm.MmMt.Tree).Where(t => t.RootNode != MmSim.MapleTree.MapleTree<VmArea?>.NoNode).ToList();
        if (trees.Count == 0)
        {
            return null;
        }

        var t = trees[r.Next(trees.Count)];
        var h = t.RootNode;
        var bit = 1UL << r.Next(3);
        if (h < 0)
        {
            switch (r.Next(3))
            {
                case 0:
                    t.Lf(h).MaxGap ^= bit;
                    return () => t.Lf(h).MaxGap ^= bit;
                case 1:
                    {
                        var old = t.Lf(h).Obj;
                        t.Lf(h).Obj = 0;
                        return () => t.Lf(h).Obj = old;
                    }

                default:
                    t.Lf(h).Min ^= bit << 12;
                    return () => t.Lf(h).Min ^= bit << 12;
            }
        }

        var slot = r.Next(t.In(h).Count);
        t.In(h).Gap[slot] ^= bit;
        return () => t.In(h).Gap[slot] ^= bit;
    }

    private static Action? CorruptSlab(Machine m, Random r)
    {
        var caches = m.Slab.Caches.Where(c => c.ActiveObjects > 0).ToList();
        if (caches.Count == 0)
        {
            return null;
        }

        var c = caches[r.Next(caches.Count)];
        switch (r.Next(4))
        {
            case 0:
                c.ActiveObjects++;
                return () => c.ActiveObjects--;
            case 1 when c.Partial.Count > 0:
                {
                    // A partial slab off its list.
                    var slab = c.Partial[0];
                    c.Partial.RemoveAt(0);
                    return () => c.Partial.Insert(0, slab);
                }

            case 2 when c.Partial.Count > 0:
                // A slab listed twice.
                c.Partial.Add(c.Partial[0]);
                return () => c.Partial.RemoveAt(c.Partial.Count - 1);
            case 3 when c.Partial.Count > 0:
                {
                    // A slot freed or taken behind the slab's back.
                    var live = c.Partial[0].Live;
                    var i = r.Next(live.Length);
                    live[i] = !live[i];
                    return () => live[i] = !live[i];
                }

            default:
                return null;
        }
    }

    private static List<MmStruct> Mms(Machine m) => [.. m.Tasks.All.Select(t => t.Mm).OfType<MmStruct>()];

    private static Action? CorruptPte(Machine m, Random r)
    {
        var ptes = Mms(m).SelectMany(mm => mm.Pgd.All().Select(p => (mm, p.Addr))).ToList();
        if (ptes.Count == 0)
        {
            return null;
        }

        var (mm, addr) = ptes[r.Next(ptes.Count)];
        ref var e = ref mm.Pgd.Entry(addr);
        var old = e;
        switch (r.Next(3))
        {
            case 0:
                e.Pfn = r.NextInt64(-2, m.PageAlloc.TotalPages + 1);
                break;
            case 1:
                e.Flags ^= PteFlags.Special;
                break;
            default:
                // A valid PTE where there was none: maybe outside every VMA, maybe mapping a free page.
                var other = addr + (ulong)(r.Next(1, 8) * 4096);
                if (mm.Pgd.Get(other).IsValid)
                {
                    return null;
                }

                mm.Pgd.Set(other, old.Pfn, old.Flags);
                return () => mm.Pgd.Clear(other);
        }

        return () => mm.Pgd.Entry(addr) = old;
    }

    private static Action? CorruptVma(Machine m, Random r)
    {
        var vmas = Mms(m).SelectMany(mm => mm.Vmas).ToList();
        if (vmas.Count == 0)
        {
            return null;
        }

        var vma = vmas[r.Next(vmas.Count)];
        switch (r.Next(3))
        {
            case 0:
                {
                    var old = vma.VmEnd;
                    vma.VmEnd = r.Next(2) == 0 ? old + 4096 : old - 1;
                    return () => vma.VmEnd = old;
                }

            case 1:
                {
                    var old = vma.VmStart;
                    vma.VmStart = old - 4096;
                    return () => vma.VmStart = old;
                }

            default:
                {
                    var old = vma.VmMm;
                    var others = Mms(m).Where(x => x != old).ToList();
                    if (others.Count == 0)
                    {
                        return null;
                    }

                    vma.VmMm = others[r.Next(others.Count)];
                    return () => vma.VmMm = old;
                }
        }
    }

    private static Action? CorruptVmalloc(Machine m, Random r)
    {
        var areas = m.Vmalloc.Areas.Where(a => a.Vm is { NrPages: > 0 }).ToList();
        if (areas.Count == 0)
        {
            return null;
        }

        var vm = areas[r.Next(areas.Count)].Vm!;
        var i = r.Next(vm.NrPages);
        var old = vm.Pages[i];
        vm.Pages[i] = r.NextInt64(m.PageAlloc.TotalPages);
        return () => vm.Pages[i] = old;
    }

    private static List<VfsFile> AllFiles(Machine m) =>
        [.. m.Tasks.All.SelectMany(t => (t.Files?.Open.Select(o => o.File) ?? []).Concat(t.Mm?.Vmas.Select(v => v.VmFile).OfType<VfsFile>() ?? [])).Distinct()];
}
