using MmSim.Kernel;
using MmSim.Vm;
using Xunit;

namespace MmSim.Tests.Vm;

/// <summary>A small machine with one process, and helpers the process-layer tests share.</summary>
public abstract class VmFixture
{
    protected const ulong P = 4096;
    protected const ulong RW = Mman.PROT_READ | Mman.PROT_WRITE;
    protected const ulong R = Mman.PROT_READ;
    protected const ulong PrivAnon = Mman.MAP_PRIVATE | Mman.MAP_ANONYMOUS;
    protected const ulong SharedAnon = Mman.MAP_SHARED | Mman.MAP_ANONYMOUS;

    protected VmFixture()
    {
        M = new Machine(new MachineConfig { RamBytes = 64UL << 20 });
        T = M.Tasks.Spawn("p");
        FreeAtStart = M.PageAlloc.NrFreePages;
    }

    protected Machine M { get; }

    protected TaskStruct T { get; }

    protected MmStruct Mm => T.Mm!;

    protected long FreeAtStart { get; }

    protected static long E(Errno e) => e.Neg();

    protected ulong MapAnon(ulong len, ulong prot = RW, ulong flags = PrivAnon, ulong addr = 0)
    {
        var r = T.Mmap(addr, len, prot, flags);
        Assert.True(r > 0, $"mmap failed: {r}");
        return (ulong)r;
    }

    /// <summary>Return to user space: the RCU grace period that frees the VMA tree's old nodes.</summary>
    protected void AssertFreePagesBack()
    {
        M.SyscallExit();
        Assert.Equal(FreeAtStart, M.PageAlloc.NrFreePages);
    }

    protected void AssertInvariants()
    {
        var v = M.CheckInvariants();
        Assert.True(v.Count == 0, string.Join("\n", v));
        Assert.Empty(M.Reports.Kasan);
        Assert.Empty(M.Reports.Warnings);
    }

    protected (ulong Start, ulong End, VmFlags Flags)[] Vmas(TaskStruct? t = null) =>
        [.. (t ?? T).Mm!.MmMt.Snapshot().Select(v => (v.VmStart, v.VmEnd, v.VmFlags))];

    protected void Write(ulong addr, ulong value, TaskStruct? t = null)
    {
        var r = (t ?? T).UserWrite(addr, 8, value);
        Assert.True(r.Ok, r.ToString());
    }

    protected ulong Read(ulong addr, TaskStruct? t = null)
    {
        var r = (t ?? T).UserRead(addr, 8);
        Assert.True(r.Ok, r.ToString());
        return r.Value;
    }
}
