using MmSim.Kernel;
using MmSim.Mm;
using Xunit;
using static MmSim.Tests.Mm.VmallocTestMachine;

namespace MmSim.Tests.Mm;

/// <summary>
/// Edges of bpf_map_area_alloc() and kvmalloc() that Stryker found untested (docs/verification.md, "Mutation
/// testing"): map areas are zeroed even when the slab hands back a dirty object, and kvmalloc(INT_MAX) is not a WARN.
/// </summary>
public class AreaAllocEdgeTests
{
    [Fact]
    public void AReusedSlabObjectIsZeroedForAMapArea()
    {
        // __bpf_map_area_alloc() passes __GFP_ZERO: a kmalloc object reused from the freelist comes back zeroed.
        var m = Create();
        var a = m.BpfMapArea.BpfMapAreaAlloc(100, -1);
        byte[] dirty = [.. Enumerable.Repeat((byte)0xa5, 100)];
        Assert.True(m.KernelMem.Write(a, dirty, "t"));
        m.BpfMapArea.BpfMapAreaFree(a);
        var b = m.BpfMapArea.BpfMapAreaAlloc(100, -1);
        Assert.Equal(a, b); // the same kmalloc-cg-128 object
        for (var off = 0UL; off < 96; off += 8)
        {
            Assert.True(m.KernelMem.ReadValue(b + off, 8, "t", out var v));
            Assert.Equal(0UL, v);
        }
    }

    [Fact]
    public void KvmallocOfExactlyIntMaxIsNoWarnOnAFreshMachine()
    {
        // __kvmalloc_node_noprof(): only size > INT_MAX is refused with WARN_ON_ONCE; INT_MAX goes to vmalloc,
        // which fails quietly for a 64 MiB machine.
        var m = Create();
        Assert.Equal(0UL, m.Vmalloc.Kvmalloc(VmallocConstants.INT_MAX, Gfp.GFP_KERNEL));
        Assert.Equal(0, m.Reports.WarnCount);
        Assert.Equal(0, m.Vmalloc.NrBusyAreas + m.Vmalloc.NrLazyAreas);
    }
}
