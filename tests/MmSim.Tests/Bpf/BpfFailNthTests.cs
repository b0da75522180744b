using MmSim.Bpf;
using MmSim.Kernel;
using MmSim.Vm;
using Xunit;

namespace MmSim.Tests.Bpf;

/// <summary>
/// map_create, mmap and prog_load under fail-nth injection (page and slab allocations): at every failure point the
/// call fails with -ENOMEM and leaves nothing behind, or succeeds; after closing everything no map, page, vmalloc
/// page or memcg charge is left, and every invariant holds after every step.
/// </summary>
public class BpfFailNthTests
{
    private static readonly MapCreateAttr[] Attrs =
    [
        new() { MapType = BpfMapType.BPF_MAP_TYPE_ARRAY, KeySize = 4, ValueSize = 8, MaxEntries = 2048, MapFlags = BpfF.BPF_F_MMAPABLE },
        new() { MapType = BpfMapType.BPF_MAP_TYPE_ARRAY, KeySize = 4, ValueSize = 64, MaxEntries = 1000 },
        new() { MapType = BpfMapType.BPF_MAP_TYPE_PERCPU_ARRAY, KeySize = 4, ValueSize = 16, MaxEntries = 8 },
        new() { MapType = BpfMapType.BPF_MAP_TYPE_PROG_ARRAY, KeySize = 4, ValueSize = 4, MaxEntries = 4 },
    ];

    private static string Run(int nth, bool slab, ref int enomem)
    {
        var m = new Machine(new MachineConfig { RamBytes = 32UL << 20 });
        var free0 = m.PageAlloc.NrFreePages;
        var t = m.Tasks.Spawn("p");
        m.SyscallExit();
        var charge0 = m.Memcg.Usage;
        (slab ? m.FaultInject.FailSlab : m.FaultInject.FailPageAlloc).SetNth(nth);
        var fds = new List<int>();
        foreach (var attr in Attrs)
        {
            var before = m.Bpf.Maps.Count;
            var fd = m.Bpf.MapCreate(t, attr);
            m.SyscallExit();
            if (fd < 0)
            {
                enomem++;
                if (fd != Errno.ENOMEM.Neg() || m.Bpf.Maps.Count != before)
                {
                    return $"nth={nth}: map_create {attr.MapType} = {fd}, maps {m.Bpf.Maps.Count} (was {before})";
                }
            }
            else
            {
                fds.Add((int)fd);
            }

            if (m.CheckInvariants() is { Count: > 0 } v)
            {
                return $"nth={nth}: {string.Join("; ", v)}";
            }
        }

        if (fds.Count > 0)
        {
            var a = t.Mmap(0, 4 * K.PAGE_SIZE, Mman.PROT_READ | Mman.PROT_WRITE, Mman.MAP_SHARED, fds[0]);
            var g = m.Bpf.ProgLoad(t, fds);
            m.SyscallExit();
            if (m.CheckInvariants() is { Count: > 0 } v)
            {
                return $"nth={nth}: after mmap {a} / prog_load {g}: {string.Join("; ", v)}";
            }
        }

        m.FaultInject.Off();
        t.Exit();
        m.SyscallExit();
        m.Vmalloc.PurgeVmapAreaLazy();
        if (m.Bpf.Maps.Count != 0 || m.Bpf.Progs.Count != 0 || m.Vmalloc.NrVmallocPages != 0
            || m.PageAlloc.NrFreePages != free0 || m.Memcg.Usage > charge0)
        {
            return $"nth={nth}: left maps {m.Bpf.Maps.Count}, progs {m.Bpf.Progs.Count}, vmalloc pages {m.Vmalloc.NrVmallocPages}, "
                + $"free {m.PageAlloc.NrFreePages}/{free0}, memcg {m.Memcg.Usage}/{charge0}";
        }

        return "";
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void EveryFailurePointFailsCleanly(bool slab)
    {
        var enomem = 0;
        var failures = new List<string>();
        for (var n = 1; n <= 40; n++)
        {
            if (Run(n, slab, ref enomem) is { Length: > 0 } f)
            {
                failures.Add(f);
            }
        }

        Assert.True(failures.Count == 0, string.Join("\n", failures));
        Assert.True(enomem >= 10, $"only {enomem} failed creates: the sweep does not reach map_create's allocations");
    }
}
