using BenchmarkDotNet.Running;

BenchmarkSwitcher.FromAssembly(typeof(MmSim.Benchmarks.BenchmarkMarker).Assembly).Run(args);
