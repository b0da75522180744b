using Microsoft.Extensions.Logging;
using MmSim.Kernel;
using MmSim.Mm;
using Xunit;

namespace MmSim.Tests.Mm;

public class VmallocTracepointTests
{
    /// <summary>A logger factory that keeps every message of the "mmsim.mm" category.</summary>
    private sealed class Capture : ILoggerFactory, ILogger
    {
        public List<string> Lines { get; } = [];

        public ILogger CreateLogger(string categoryName) => categoryName == "mmsim.mm" ? this : Microsoft.Extensions.Logging.Abstractions.NullLogger.Instance;

        public void AddProvider(ILoggerProvider provider)
        {
        }

        public void Dispose()
        {
        }

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            Lines.Add(formatter(state, exception));
    }

    [Fact]
    public void TheVmallocTracepointsUseTheKernelFormat()
    {
        using var capture = new Capture();
        var m = new Machine(new MachineConfig { RamBytes = 16UL << 20, Cpus = 2, LoggerFactory = capture });
        var a = m.Vmalloc.Vmalloc(K.PAGE_SIZE);
        m.Vmalloc.Vfree(a);
        m.Vmalloc.PurgeVmapAreaLazy();
        Assert.Contains("alloc_vmap_area: va_start: 18446683600570023936 size=8192 align=1 vstart=0xffffc90000000000 vend=0xffffe8ffffffffff failed=0", capture.Lines);
        Assert.Contains("free_vmap_area_noflush: va_start=0xffffc90000000000 nr_lazy=2 nr_lazy_max=16384", capture.Lines);
        Assert.Contains("purge_vmap_area_lazy: start=0xffffc90000000000 end=0xffffc90000002000 num_purged=1", capture.Lines);
    }

    /// <summary>
    /// __purge_vmap_area_lazy() passes nr_purged_areas (the sum of each node's nr_purged, one per vmap_area) to the
    /// tracepoint, not the number of pages.
    /// </summary>
    [Fact]
    public void PurgeTracepointCountsAreasNotPages()
    {
        using var capture = new Capture();
        var m = new Machine(new MachineConfig { RamBytes = 16UL << 20, Cpus = 2, LoggerFactory = capture });
        var a = m.Vmalloc.Vmalloc(K.PAGE_SIZE);
        var b = m.Vmalloc.Vmalloc(3 * K.PAGE_SIZE);
        m.Vmalloc.Vfree(a);
        m.Vmalloc.Vfree(b);
        m.Vmalloc.PurgeVmapAreaLazy();
        Assert.Contains("purge_vmap_area_lazy: start=0xffffc90000000000 end=0xffffc90000006000 num_purged=2", capture.Lines);
    }

    /// <summary>alloc_vmap_area() of 6.12: the pr_warn after the purge-and-retry names the restricted range.</summary>
    [Fact]
    public void FailedVmapAreaAllocationWarnsWithTheRange()
    {
        using var capture = new Capture();
        var m = new Machine(new MachineConfig { RamBytes = 16UL << 20, Cpus = 2, LoggerFactory = capture });
        var a = m.Vmalloc.VmallocNodeRange(2 * K.PAGE_SIZE, 1, K.VMALLOC_START, K.VMALLOC_START + K.PAGE_SIZE,
            Gfp.GFP_KERNEL, VmStructFlags.None, -1, "test");
        Assert.Equal(0UL, a);
        Assert.Contains("vmalloc_node_range for size 12288 failed: Address range restricted to 0xffffc90000000000 - 0xffffc90000001000", capture.Lines);
    }
}
