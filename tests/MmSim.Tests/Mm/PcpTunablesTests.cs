using MmSim.Mm;
using Xunit;

namespace MmSim.Tests.Mm;

/// <summary>
/// zone_batchsize() and zone_highsize() against values worked out by hand from mm/page_alloc.c's formulas
/// (int_sqrt(lowmem_kbytes * 16) for min_free_kbytes, watermark_scale_factor 10).
/// </summary>
public class PcpTunablesTests
{
    [Theory]
    [InlineData(2048L, 1)]          // 8 MiB: 2 / 4 = 0 -> 1 -> rounddown_pow_of_two(1) - 1 = 0 -> max(1, 0)
    [InlineData(1L << 14, 3)]       // 64 MiB: 16 / 4 = 4 -> 6 -> 4 - 1
    [InlineData(1L << 18, 63)]      // 1 GiB: min(256, 256) / 4 = 64 -> 96 -> 64 - 1
    [InlineData(1L << 20, 63)]      // 4 GiB: min(1024, 256) / 4 = 64 -> 96 -> 63
    [InlineData(1L << 24, 63)]      // 64 GiB: capped at 1 MiB worth of pages
    public void ZoneBatchsize(long managedPages, int batch) => Assert.Equal(batch, PcpTunables.ZoneBatchsize(managedPages));

    [Theory]
    [InlineData(2048L, 1, 2, 56)]          // min_free 362 KB -> 90 pages; low 90 + max(22, 2) = 112; / 2 CPUs
    [InlineData(1L << 20, 63, 1, 3096)]    // min_free 8192 KB -> 2048 pages; low 2048 + max(512, 1048) = 3096
    [InlineData(1L << 20, 63, 1024, 252)]  // 3096 / 1024 = 3 < 4 batches: 4 * 63
    public void ZoneHighsize(long managedPages, int batch, int cpus, int high) =>
        Assert.Equal(high, PcpTunables.ZoneHighsize(managedPages, batch, cpus));
}
