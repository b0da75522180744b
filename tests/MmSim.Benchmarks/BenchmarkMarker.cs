namespace MmSim.Benchmarks;

/// <summary>Anchors the benchmark assembly for BenchmarkSwitcher.</summary>
public static class BenchmarkMarker
{
}
