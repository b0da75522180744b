using MmSim.Bpf;
using MmSim.Kernel;
using MmSim.Vm;
using Xunit;

namespace MmSim.Tests.Bpf;

public class ArenaTests
{
    private const ulong P = 4096;
    private const ulong RW = Mman.PROT_READ | Mman.PROT_WRITE;
    private const ulong SharedFixed = Mman.MAP_SHARED | Mman.MAP_FIXED;
    private const ulong Base = 0x1_0000_0000;
    private const uint Mmapable = BpfF.BPF_F_MMAPABLE;
    private const uint Segv = BpfF.BPF_F_MMAPABLE | BpfF.BPF_F_SEGV_ON_FAULT;

    private static (Machine M, TaskStruct T, ArenaHarness H) New(KernelProfile? profile = null)
    {
        var m = new Machine(new MachineConfig { RamBytes = 64UL << 20, Profile = profile ?? KernelProfile.V6_12_y });
        return (m, m.Tasks.Spawn("p"), new ArenaHarness(m));
    }

    private static BpfArena Create(ArenaHarness h, TaskStruct t, out int fd, uint entries = 16, uint flags = Mmapable, ulong extra = Base)
    {
        fd = h.Create(t, entries, flags, extra, out var arena);
        Assert.True(fd >= 0, $"create: {fd}");
        return arena!;
    }

    private static void AssertInvariants(Machine m)
    {
        var v = m.CheckInvariants();
        Assert.True(v.Count == 0, string.Join("\n", v));
    }

    [Theory]
    [InlineData(16u, Mmapable, 0UL, 1u, 0u, Errno.EINVAL)]          // key_size
    [InlineData(16u, Mmapable, 0UL, 0u, 4u, Errno.EINVAL)]          // value_size
    [InlineData(0u, Mmapable, 0UL, 0u, 0u, Errno.EINVAL)]           // max_entries 0
    [InlineData(16u, 0u, 0UL, 0u, 0u, Errno.EINVAL)]                // no BPF_F_MMAPABLE
    [InlineData(16u, Mmapable | BpfF.BPF_F_RDONLY_PROG, 0UL, 0u, 0u, Errno.EINVAL)]
    [InlineData(16u, Mmapable | BpfF.BPF_F_NUMA_NODE, 0UL, 0u, 0u, Errno.EINVAL)]
    [InlineData(16u, Mmapable, 0x1001UL, 0u, 0u, Errno.EINVAL)]     // map_extra not page aligned
    [InlineData(1048577u, Mmapable, 0x1000UL, 0u, 0u, Errno.E2BIG)] // more than 4 GiB (checked before ERANGE)
    [InlineData(16u, Mmapable, 0x1_0000_0000UL - 0x1000, 0u, 0u, Errno.ERANGE)] // crosses 4 GiB
    public void CreateErrors(uint entries, uint flags, ulong extra, uint key, uint value, Errno e)
    {
        var (m, t, h) = New();
        var free = m.PageAlloc.NrFreePages;
        Assert.Equal(-(int)e, h.Create(t, entries, flags, extra, out _, key, value));
        Assert.Equal(free, m.PageAlloc.NrFreePages);
        Assert.Equal(0, m.Vmalloc.NrBusyAreas);
    }

    [Fact]
    public void CreateWithoutJitSupportIsEopnotsupp()
    {
        var (m, t, h) = New();
        ((ArenaMapOps)m.Bpf.MapOpsOf(BpfMapType.BPF_MAP_TYPE_ARENA)!).JitSupportsArena = false;
        Assert.Equal(-(int)Errno.EOPNOTSUPP, h.Create(t, 16, Mmapable | BpfF.BPF_F_RDONLY_PROG, 0, out _));
    }

    [Fact]
    public void CreateFailsCleanlyUnderInjection()
    {
        var (m, t, h) = New();
        var free = m.PageAlloc.NrFreePages;
        m.FaultInject.FailSlab.SetNth(1);
        Assert.Equal(-(int)Errno.ENOMEM, h.Create(t, 16, Mmapable, 0, out _));
        m.FaultInject.Off();
        m.Vmalloc.PurgeVmapAreaLazy();
        Assert.Equal(free, m.PageAlloc.NrFreePages);
    }

    [Fact]
    public void CreateReservesTheKernelWindow()
    {
        var (m, t, h) = New();
        var a = Create(h, t, out _, entries: 1048576, extra: 0);
        Assert.Equal(BpfArena.KERN_VM_SZ + P, a.KernVm.Size);
        Assert.Equal(a.KernVm.Addr + 0x8000, a.KernVmStart);
        Assert.Equal(0UL, a.UserVmStart);
        Assert.Equal(0L, a.PageCntMax);
        Assert.Equal(0UL, BpfArena.BpfArenaAllocPages(a, 0, 1, -1, 0)); // unbound: page_cnt_max 0
        Assert.Equal(-(int)Errno.EINVAL, a.CheckProgLoad(new BpfProg(m.Bpf, 1)));
    }

    [Fact]
    public void MmapErrorsInKernelOrder()
    {
        var (m, t, h) = New();
        Create(h, t, out var fd, entries: 16, extra: Base);
        Assert.Equal(Errno.EINVAL.Neg(), t.Mmap(Base, 16 * P, RW, SharedFixed, fd, P));          // pgoff
        Assert.Equal(Errno.E2BIG.Neg(), t.Mmap(Base, 17 * P, RW, SharedFixed, fd));             // len > size
        Assert.Equal(Errno.EINVAL.Neg(), t.Mmap(Base, 15 * P, RW, SharedFixed, fd));            // len != size
        Assert.Equal(Errno.EINVAL.Neg(), t.Mmap(Base + P, 16 * P, RW, SharedFixed, fd));        // addr
        Assert.Equal(Errno.EINVAL.Neg(), t.Mmap(0, 16 * P, RW, Mman.MAP_SHARED, fd));           // mmap(NULL)
        Assert.Equal(Errno.EINVAL.Neg(), t.Mmap(Base, 16 * P, RW, Mman.MAP_PRIVATE | Mman.MAP_FIXED, fd)); // bpf_map_mmap
        Assert.Equal((long)Base, t.Mmap(Base, 16 * P, RW, SharedFixed, fd));
        AssertInvariants(m);
    }

    [Fact]
    public void MmapLenAbove4GIsE2big()
    {
        var (_, t, h) = New();
        Create(h, t, out var fd, entries: 16, extra: 0);
        Assert.Equal(Errno.E2BIG.Neg(), t.Mmap(0, (4UL << 30) + P, RW, Mman.MAP_SHARED, fd));
    }

    [Fact]
    public void FirstMmapBindsAndSecondMustMatch()
    {
        var (m, t, h) = New();
        var a = Create(h, t, out var fd, entries: 16, extra: 0);
        var addr = (ulong)t.Mmap(0, 8 * P, RW, Mman.MAP_SHARED, fd);
        Assert.Equal(addr, a.UserVmStart);
        Assert.Equal(addr + (8 * P), a.UserVmEnd);
        Assert.Equal(addr >> 32, (addr + (8 * P) - 1) >> 32);
        Assert.Equal(0L, t.Munmap(addr, 8 * P));
        Assert.Equal(addr, a.UserVmStart); // never reset
        Assert.Equal(Errno.EINVAL.Neg(), t.Mmap(addr + P, 8 * P, RW, SharedFixed, fd));
        Assert.Equal((long)addr, t.Mmap(addr, 8 * P, RW, SharedFixed, fd));
        Assert.Equal(8L, a.PageCntMax);
        AssertInvariants(m);
    }

    [Fact]
    public void HintTakenElsewhereIsEbusy()
    {
        // Without MAP_FIXED the hint is tested for 2 x len: something at [addr+len, addr+2len) moves it, then -EBUSY.
        var (_, t, h) = New();
        Create(h, t, out var fd, entries: 16, extra: Base);
        Assert.True(t.Mmap(Base + (16 * P), P, RW, Mman.MAP_PRIVATE | Mman.MAP_ANONYMOUS | Mman.MAP_FIXED) > 0);
        Assert.Equal(Errno.EBUSY.Neg(), t.Mmap(Base, 16 * P, RW, Mman.MAP_SHARED, fd));
    }

    [Fact]
    public void UserFaultAllocatesAndProgramSeesIt()
    {
        var (m, t, h) = New();
        var a = Create(h, t, out var fd);
        Assert.Equal((long)Base, t.Mmap(Base, 16 * P, RW, SharedFixed, fd));
        var memcg0 = m.Memcg.Usage;
        Assert.Equal(0UL, t.UserRead(Base + (3 * P)).Value); // read fault allocates (no SEGV flag)
        Assert.True(t.UserWrite(Base + (3 * P) + 8, 8, 0x1234).Ok);
        Assert.Equal(1L, a.NrPages);
        Assert.Equal(memcg0 + P, m.Memcg.Usage);
        Assert.Equal(0x1234UL, a.ProbeMem32Load(Base + (3 * P), 8, 8));
        Assert.Equal(3UL, a.AllocatedRanges().Single().First);
        AssertInvariants(m);
    }

    [Fact]
    public void SegvOnFaultNeverAllocates()
    {
        var (m, t, h) = New();
        var a = Create(h, t, out var fd, flags: Segv);
        t.Mmap(Base, 16 * P, RW, SharedFixed, fd);
        var r = t.UserRead(Base);
        Assert.Equal(Signal.SIGSEGV, r.Signal?.Signo);
        Assert.Equal(0L, a.NrPages);
        var x = BpfArena.BpfArenaAllocPages(a, 0, 2, -1, 0);
        Assert.Equal(Base, x);
        Assert.True(t.UserWrite(x + P, 8, 0x41).Ok);
        Assert.Equal(0x41UL, a.ProbeMem32Load(x + P, 8));
        BpfArena.BpfArenaFreePages(a, x, 2);
        Assert.Equal(Signal.SIGSEGV, t.UserRead(x + P).Signal?.Signo);
        Assert.Equal(0L, a.NrPages);
        AssertInvariants(m);
    }

    [Fact]
    public void AllocAtHintOverlapAndPastEnd()
    {
        var (m, t, h) = New();
        var a = Create(h, t, out _);
        Assert.Equal(Base + (4 * P), BpfArena.BpfArenaAllocPages(a, Base + (4 * P), 2, -1, 0));
        Assert.Equal(0UL, BpfArena.BpfArenaAllocPages(a, Base + (5 * P), 2, -1, 0)); // overlap
        Assert.Equal(0UL, BpfArena.BpfArenaAllocPages(a, Base + (3 * P), 2, -1, 0)); // partial overlap
        Assert.Equal(0UL, BpfArena.BpfArenaAllocPages(a, Base + (15 * P), 2, -1, 0)); // past the end
        Assert.Equal(0UL, BpfArena.BpfArenaAllocPages(a, Base + 1, 1, -1, 0));        // unaligned
        Assert.Equal(0UL, BpfArena.BpfArenaAllocPages(a, 0, 17, -1, 0));              // > page_cnt_max
        Assert.Equal(0UL, BpfArena.BpfArenaAllocPages(a, 0, 1, -1, 1));               // flags
        Assert.Equal(0UL, BpfArena.BpfArenaAllocPages(a, 0, 0, -1, 0));               // page_cnt 0
        Assert.Equal(Base, BpfArena.BpfArenaAllocPages(a, 0, 4, -1, 0));              // first fit, lowest
        Assert.Equal(Base + (6 * P), BpfArena.BpfArenaAllocPages(a, 0, 1, -1, 0));
        Assert.Equal(7L, a.NrPages);
        AssertInvariants(m);
    }

    [Fact]
    public void UpperBitsOfTheHintAreIgnored()
    {
        var (_, t, h) = New();
        var a = Create(h, t, out _);
        Assert.Equal(Base, BpfArena.BpfArenaAllocPages(a, Base + (4UL << 32), 1, -1, 0));
    }

    [Fact]
    public void FreeZapsSoTheNextAccessFaultsAgain()
    {
        var (m, t, h) = New();
        var a = Create(h, t, out var fd);
        t.Mmap(Base, 16 * P, RW, SharedFixed, fd);
        var x = BpfArena.BpfArenaAllocPages(a, 0, 1, -1, 0);
        Assert.True(t.UserWrite(x, 8, 7).Ok);
        BpfArena.BpfArenaFreePages(a, x + 100, 1); // rounded down
        Assert.Equal(0UL, a.ProbeMem32Load(x, 8));
        Assert.Equal(1L, a.ProbeFaults);
        Assert.False(a.ProbeMem32Store(x, 8, 9));
        Assert.Equal(0UL, t.UserRead(x).Value); // fresh zero page, which re-allocates the offset
        Assert.Equal(0UL, BpfArena.BpfArenaAllocPages(a, x, 1, -1, 0));
        BpfArena.BpfArenaFreePages(a, Base + (16 * P), 1); // at the end: no-op
        BpfArena.BpfArenaFreePages(a, Base + (15 * P), 4); // clipped
        AssertInvariants(m);
    }

    [Fact]
    public void Casts()
    {
        var (_, t, h) = New();
        var a = Create(h, t, out _, extra: 0x7f00_0000_0000);
        Assert.Equal(0x7f00_0000_1000UL, a.CastUser(0x1000));
        Assert.Equal(0UL, a.CastUser(0x5_0000_0000));
        Assert.Equal(0x1000UL, BpfArena.CastKern(0x7f00_0000_1000));
        var b = Create(h, t, out _, flags: Mmapable | BpfF.BPF_F_NO_USER_CONV, extra: 0x7f00_0000_0000);
        Assert.Equal(0x1000UL, b.CastUser(0x7f00_0000_1000));
    }

    [Fact]
    public void ProbeMem32AllSizes()
    {
        var (_, t, h) = New();
        var a = Create(h, t, out _);
        var x = BpfArena.BpfArenaAllocPages(a, 0, 1, -1, 0);
        Assert.True(a.ProbeMem32Store(x, 8, 0x1122334455667788));
        Assert.Equal(0x88UL, a.ProbeMem32Load(x, 1));
        Assert.Equal(0x7788UL, a.ProbeMem32Load(x, 2));
        Assert.Equal(0x55667788UL, a.ProbeMem32Load(x, 4));
        Assert.Equal(0x11223344UL, a.ProbeMem32Load(x, 4, 4));
        Assert.Equal(0UL, a.ProbeMem32Load(x, 8, -8)); // guard/absent page below
        Assert.Equal(1L, a.ProbeFaults);
    }

    [Fact]
    public void TeardownReturnsEverything()
    {
        var (m, t, h) = New();
        var free = m.PageAlloc.NrFreePages;
        var memcg = m.Memcg.Usage;
        var a = Create(h, t, out var fd);
        t.Mmap(Base, 16 * P, RW, SharedFixed, fd);
        BpfArena.BpfArenaAllocPages(a, 0, 3, -1, 0);
        t.UserWrite(Base + (10 * P), 8, 1);
        Assert.Equal(0L, t.Munmap(Base, 16 * P));
        Assert.Equal(0L, t.Close(fd));
        Assert.True(a.Freed);
        m.Vmalloc.PurgeVmapAreaLazy();
        m.SyscallExit();
        Assert.Equal(free, m.PageAlloc.NrFreePages);
        Assert.Equal(memcg, m.Memcg.Usage);
        AssertInvariants(m);
    }

    [Fact]
    public void ForkDoesNotInheritOn6_12_y()
    {
        var (m, t, h) = New();
        var a = Create(h, t, out var fd);
        t.Mmap(Base, 16 * P, RW, SharedFixed, fd);
        t.UserWrite(Base, 8, 5);
        Assert.True(t.Fork("c", out var c) >= 0);
        Assert.Equal(Signal.SIGSEGV, c!.UserRead(Base).Signal?.Signo);
        Assert.Equal(Errno.EINVAL.Neg(), t.Munmap(Base + P, P));            // may_split
        Assert.Equal(Errno.EINVAL.Neg(), t.Mprotect(Base, P, Mman.PROT_READ));
        Assert.Equal(Errno.EINVAL.Neg(), t.Mremap(Base, 16 * P, 16 * P, Mman.MREMAP_MAYMOVE | Mman.MREMAP_FIXED, 0x2_0000_0000));
        Assert.Single(a.VmaListHead);
        Assert.Equal(0L, t.Munmap(Base, 16 * P));
        BpfArena.BpfArenaFreePages(a, Base, 2);
        Assert.Equal(0, m.Reports.KasanCount);
        AssertInvariants(m);
    }

    [Fact]
    public void ForkThenParentMunmapThenFreeIsUseAfterFreeOn6_12_0()
    {
        var (m, t, h) = New(KernelProfile.V6_12_0);
        var a = Create(h, t, out var fd);
        t.Mmap(Base, 16 * P, RW, SharedFixed, fd);
        var x = BpfArena.BpfArenaAllocPages(a, 0, 2, -1, 0);
        Assert.True(t.Fork("c", out var c) >= 0);
        Assert.Equal(2, a.VmaListHead[0].MmapCount);
        Assert.Equal(0UL, c!.UserRead(x).Value); // the child shares the arena mapping
        Assert.Equal(0L, t.Munmap(Base, 16 * P));
        Assert.Equal(1, a.VmaListHead[0].MmapCount);
        Assert.True(a.VmaListHead[0].Vma.Freed);
        BpfArena.BpfArenaFreePages(a, x, 2);
        Assert.Equal(1, m.Reports.KasanCount);
        Assert.Contains("zap_page_range_single", m.Reports.Kasan[0].ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void MiddleMunmapSplitsOn6_12_0()
    {
        var (m, t, h) = New(KernelProfile.V6_12_0);
        var a = Create(h, t, out var fd);
        t.Mmap(Base, 16 * P, RW, SharedFixed, fd);
        Assert.Equal(0L, t.Munmap(Base + (4 * P), P));
        Assert.Equal(2, a.VmaListHead[0].MmapCount);
        Assert.Equal(2L, a.VmOpenCalls); // two splits
        Assert.Equal(1L, a.VmCloseCalls); // the middle
        var x = BpfArena.BpfArenaAllocPages(a, 0, 2, -1, 0);
        BpfArena.BpfArenaFreePages(a, x, 2);
        _ = m;
    }
}
