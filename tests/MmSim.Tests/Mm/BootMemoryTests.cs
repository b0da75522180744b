using MmSim.Kernel;
using Xunit;

namespace MmSim.Tests.Mm;

/// <summary>
/// Everything a machine allocates on the host at boot stays within the per-frame budget of issue 2 (8 bytes per
/// frame): the 7-byte frames, the free-area bitmaps and fixed-size state; per-frame scratch of the invariant checks
/// is allocated only when a check runs.
/// </summary>
public class BootMemoryTests
{
    [Fact]
    public void BootAllocatesAtMostEightBytesPerFrame()
    {
        const ulong ram = 4UL << 30;
        var frames = (long)(ram / K.PAGE_SIZE);
        _ = new Machine(new MachineConfig { RamBytes = 1UL << 20 }); // the one-time statics first

        var before = GC.GetAllocatedBytesForCurrentThread();
        var m = new Machine(new MachineConfig { RamBytes = ram });
        var bytes = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.True(bytes <= 8 * frames, $"boot of {frames} frames allocated {bytes} B = {(double)bytes / frames:F2} B/frame");
        Assert.True(m.PageAlloc.MetadataHostBytes <= 8 * frames);

        // The first full check allocates its scratch, and works.
        Assert.Empty(m.CheckInvariants());
    }
}
