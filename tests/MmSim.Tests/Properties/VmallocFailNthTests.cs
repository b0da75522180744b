using MmSim.Kernel;
using MmSim.Mm;
using Xunit;

namespace MmSim.Tests.Properties;

/// <summary>
/// fail-nth sweeps over the vmalloc entry points: for every N, failing the Nth page allocation (or the Nth slab
/// allocation) makes the call either succeed or return NULL, with the invariants intact, no report, and, after the
/// result is freed and the lazy list purged, every page, slab object and memcg charge back.
/// </summary>
public class VmallocFailNthTests
{
    private const ulong P = K.PAGE_SIZE;

    private static readonly Dictionary<string, (Func<Machine, ulong> Alloc, Action<Machine, ulong> Free)> Ops = new()
    {
        ["vmalloc 3 pages"] = (m => m.Vmalloc.Vmalloc(3 * P), (m, a) => m.Vmalloc.Vfree(a)),
        ["vzalloc 600 pages (vmalloc'd page array)"] = (m => m.Vmalloc.Vzalloc(600 * P), (m, a) => m.Vmalloc.Vfree(a)),
        ["vmalloc_user 5 pages"] = (m => m.Vmalloc.VmallocUser(5 * P), (m, a) => m.Vmalloc.Vfree(a)),
        ["__vmalloc GFP_KERNEL_ACCOUNT 7 pages"] = (m => m.Vmalloc.VmallocGfp(7 * P, Gfp.GFP_KERNEL_ACCOUNT), (m, a) => m.Vmalloc.Vfree(a)),
        ["kvmalloc 20000 bytes"] = (m => m.Vmalloc.Kvmalloc(20000, Gfp.GFP_KERNEL), (m, a) => m.Vmalloc.Kvfree(a)),
        ["kvzalloc 4 MiB + 1"] = (m => m.Vmalloc.Kvzalloc(SlabAllocator.KMALLOC_MAX_SIZE + 1, Gfp.GFP_KERNEL), (m, a) => m.Vmalloc.Kvfree(a)),
        ["bpf_map_area_alloc 100"] = (m => m.BpfMapArea.BpfMapAreaAlloc(100, -1), (m, a) => m.BpfMapArea.BpfMapAreaFree(a)),
        ["bpf_map_area_alloc 40000"] = (m => m.BpfMapArea.BpfMapAreaAlloc(40000, -1), (m, a) => m.BpfMapArea.BpfMapAreaFree(a)),
        ["bpf_map_area_mmapable_alloc 8 pages"] = (m => m.BpfMapArea.BpfMapAreaMmapableAlloc(8 * P, -1), (m, a) => m.BpfMapArea.BpfMapAreaFree(a)),
        ["get_vm_area(VM_SPARSE) + map 4 pages"] = (SparseAlloc, SparseFree),
    };

    public static TheoryData<string, bool> Cases()
    {
        var d = new TheoryData<string, bool>();
        foreach (var name in Ops.Keys)
        {
            d.Add(name, false);
            d.Add(name, true);
        }

        return d;
    }

    // What the arena does: reserve, allocate pages, map them; undo on failure.
    private static ulong SparseAlloc(Machine m)
    {
        var area = m.Vmalloc.GetVmArea(16 * P, VmStructFlags.VM_SPARSE | VmStructFlags.VM_USERMAP, "arena_map_alloc");
        if (area is null)
        {
            return 0;
        }

        var pages = new long[4];
        for (var i = 0; i < pages.Length; i++)
        {
            pages[i] = m.PageAlloc.AllocPage(Gfp.GFP_KERNEL_ACCOUNT | Gfp.__GFP_ZERO);
            if (pages[i] < 0)
            {
                for (var j = 0; j < i; j++)
                {
                    m.PageAlloc.FreePages(pages[j], 0);
                }

                m.Vmalloc.FreeVmArea(area);
                return 0;
            }
        }

        Assert.Equal(0, m.Vmalloc.VmAreaMapPages(area, area.Addr + (2 * P), area.Addr + (6 * P), pages));
        return area.Addr + (2 * P);
    }

    private static void SparseFree(Machine m, ulong addr)
    {
        var area = m.Vmalloc.FindVmArea(addr)!;
        m.Vmalloc.ApplyToExistingPageRange(area.Addr, area.GetVmAreaSize, (_, pfn) =>
        {
            m.PageAlloc.FreePages(pfn, 0);
            return 0;
        });
        m.Vmalloc.FreeVmArea(area);
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void EveryFailurePointFailsCleanly(string op, bool failslab)
    {
        var (alloc, free) = Ops[op];
        var failures = 0;
        var n = 1;
        for (; n < 2000; n++)
        {
            var m = new Machine(new MachineConfig { RamBytes = 8UL << 20, Cpus = 2, Seed = (ulong)n });
            var freeAtStart = m.PageAlloc.NrFreePages;
            var attr = failslab ? m.FaultInject.FailSlab : m.FaultInject.FailPageAlloc;
            attr.SetNth(n);
            var addr = alloc(m);
            var injected = attr.Injected;
            m.FaultInject.Off();
            var violations = m.CheckInvariants();
            Assert.True(violations.Count == 0, $"fail-nth {n}: {string.Join("; ", violations)}");
            Assert.Equal(0, m.Reports.KasanCount + m.Reports.WarnCount);
            if (addr == 0)
            {
                failures++;
                Assert.True(injected > 0, $"fail-nth {n}: failed without an injected failure");
            }
            else
            {
                Assert.True(m.KernelMem.WriteValue(addr, 8, 0x5a5a, "sweep"), $"fail-nth {n}: the result is not writable");
                free(m, addr);
            }

            m.Vmalloc.PurgeVmapAreaLazy();
            violations = m.CheckInvariants();
            Assert.True(violations.Count == 0, $"fail-nth {n} after free: {string.Join("; ", violations)}");
            Assert.Equal(freeAtStart, m.PageAlloc.NrFreePages);
            Assert.Equal(0, m.Slab.Caches.Sum(c => c.ActiveObjects));
            Assert.Equal(0UL, m.Memcg.Usage);
            Assert.Equal(0, m.Reports.KasanCount + m.Reports.WarnCount);
            if (injected == 0)
            {
                break;
            }
        }

        Assert.True(n < 2000, "the sweep never reached a call count without an injected failure");

        // kvmalloc of 20000 bytes makes no slab call when kmalloc succeeds (kmalloc_large). kvmalloc and
        // bpf_map_area_alloc absorb a failed kmalloc with the vmalloc fallback (whose own calls come later, so
        // fail-nth cannot reach them); every other entry point has a failure point that makes it return NULL.
        var points = n - 1;
        var absorbs = op == "kvmalloc 20000 bytes" || op == "bpf_map_area_alloc 100";
        Assert.True(points > 0 || (failslab && op == "kvmalloc 20000 bytes"), $"{op}: no failure point");
        Assert.True(absorbs ? failures == 0 : failures > 0, $"{op}: {failures} of {points} injected failures made the call fail");
    }
}
