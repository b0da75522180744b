using MmSim.Vm;
using Xunit;

namespace MmSim.Tests.Vm;

/// <summary>The open/close rule, split identity, fork and exit refcounting.</summary>
public sealed class LifecycleTests : VmFixture
{
    private readonly TestDevice _dev;
    private readonly int _fd;

    public LifecycleTests()
    {
        _dev = new TestDevice(M);
        _fd = _dev.Open(T, OpenFlags.O_RDWR);
    }

    private ulong MapDev(ulong len, ulong addr = 0, ulong flags = Mman.MAP_SHARED, ulong off = 0)
    {
        var r = T.Mmap(addr, len, RW, flags, _fd, off);
        Assert.True(r > 0, $"mmap: {r}");
        return (ulong)r;
    }

    [Fact]
    public void MiddleMunmapOpensTwiceClosesOnce()
    {
        var a = MapDev(4 * P);
        Assert.Equal(0, T.Munmap(a + P, 2 * P));
        Assert.Equal((2, 1), (_dev.Opens, _dev.Closes));
        Assert.Equal(2, Mm.MapCount);
        Assert.Equal(0, T.Munmap(a, 4 * P));
        Assert.Equal((2, 3), (_dev.Opens, _dev.Closes));
        var l = _dev.Lineages[0];
        Assert.Equal(l.Opens + 1, l.Closes);
        AssertInvariants();
    }

    [Fact]
    public void HeadAndTailTrimOpenTheSurvivor()
    {
        var a = MapDev(4 * P);
        var vma = Mm.MmMt.VmaLookup(a)!;
        Assert.Equal(0, T.Munmap(a, P));
        // new_below = 1: the original struct is the unmapped head, the copy survives.
        Assert.True(vma.Freed);
        Assert.Equal((1, 1), (_dev.Opens, _dev.Closes));
        var survivor = Mm.MmMt.VmaLookup(a + P)!;
        Assert.Equal(1UL, survivor.VmPgoff);
        Assert.Equal(0, T.Munmap(a + 3 * P, P));
        Assert.Equal((2, 2), (_dev.Opens, _dev.Closes));
        // The tail unmap splits the survivor with new_below = 1: the original is again the unmapped piece.
        Assert.True(survivor.Freed);
        AssertInvariants();
    }

    [Fact]
    public void ForkOpensEveryCopyAndExitClosesAll()
    {
        var a = MapDev(2 * P);
        var b = MapAnon(2 * P);
        Write(b, 42);
        Write(a, 7);
        Assert.True(T.Fork("c", out var c) > 0);
        Assert.Equal(1, _dev.Opens);
        Assert.Equal(42UL, Read(b, c));
        Assert.Equal(7UL, Read(a, c));

        // Private anonymous: copy on write.
        Write(b, 43, c);
        Assert.Equal(42UL, Read(b));
        Assert.Equal(43UL, Read(b, c));

        // Shared: both see it.
        Write(a, 8, c);
        Assert.Equal(8UL, Read(a));
        AssertInvariants();

        c!.Exit();
        Assert.Equal((1, 1), (_dev.Opens, _dev.Closes));
        T.Exit();
        Assert.Equal((1, 2), (_dev.Opens, _dev.Closes));
        Assert.Equal(0, _dev.OpenFiles);
        AssertFreePagesBack();
        AssertInvariants();
    }

    [Fact]
    public void CowRefcountsAfterFork()
    {
        var b = MapAnon(P);
        Write(b, 1);
        var pfn = Mm.Pgd.Get(b).Pfn;
        Assert.True(T.Fork("c", out var c) > 0);
        Assert.Equal(2, M.PageAlloc.PageRefCount(pfn));
        Assert.Equal(2, M.PageAlloc.Frame(pfn).Mapcount);
        Write(b, 2);
        Assert.NotEqual(pfn, Mm.Pgd.Get(b).Pfn);
        Assert.Equal(1, M.PageAlloc.PageRefCount(pfn));
        Assert.Equal(1, M.PageAlloc.Frame(pfn).Mapcount);
        // The child is now the only user: its write reuses the page.
        Write(b, 3, c);
        Assert.Equal(pfn, c!.Mm!.Pgd.Get(b).Pfn);
        AssertInvariants();
    }

    [Fact]
    public void MremapMoveOpensNewClosesOld()
    {
        var a = MapDev(2 * P);
        Write(a, 5);
        var r = T.Mremap(a, 2 * P, 2 * P, Mman.MREMAP_MAYMOVE | Mman.MREMAP_FIXED, 0x200000000);
        Assert.Equal(0x200000000L, r);
        Assert.Equal((1, 1), (_dev.Opens, _dev.Closes));
        Assert.Equal(5UL, Read(0x200000000));
        AssertInvariants();
    }

    [Fact]
    public void MapFixedOverMappingClosesOldBeforeNewMmap()
    {
        var a = MapDev(4 * P);
        MapDev(2 * P, a + P, Mman.MAP_SHARED | Mman.MAP_FIXED);
        // Split head and tail (2 opens), close the middle, new lineage.
        Assert.Equal((2, 1), (_dev.Opens, _dev.Closes));
        Assert.Equal(2, _dev.Mmaps);
        Assert.Equal(3, Mm.MapCount);
        AssertInvariants();
    }

    [Fact]
    public void AdjacentAnonymousMappingsMerge()
    {
        var a = MapAnon(2 * P);
        var b = MapAnon(2 * P);
        Assert.Equal(a - 2 * P, b);
        Assert.Single(Vmas());
        Assert.Equal(0, T.Mprotect(b + P, P, R));
        Assert.Equal(3, Vmas().Length);
        Assert.Equal(0, T.Mprotect(b + P, P, RW));
        Assert.Single(Vmas());
        AssertInvariants();
    }

    [Fact]
    public void SharedAnonymousIsSharedWithChildren()
    {
        var a = MapAnon(2 * P, RW, SharedAnon);
        Write(a + P, 9);
        Assert.True(T.Fork("c", out var c) > 0);
        Write(a + P, 10, c);
        Assert.Equal(10UL, Read(a + P));
        Assert.Contains("/dev/zero (deleted)", ProcMaps.Show(T), StringComparison.Ordinal);
        c!.Exit();
        T.Exit();
        AssertFreePagesBack();
        AssertInvariants();
    }

    [Fact]
    public void SignalsForMissingAndProtectedPages()
    {
        var r = T.UserRead(0x1000_0000);
        Assert.Equal(new SigInfo(Signal.SIGSEGV, SiCode.SEGV_MAPERR, 0x1000_0000), r.Signal);
        var a = MapAnon(P, R);
        r = T.UserWrite(a + 3, 4, 1);
        Assert.Equal(new SigInfo(Signal.SIGSEGV, SiCode.SEGV_ACCERR, a + 3), r.Signal);
        var s = MapAnon(P, RW, SharedAnon);
        var s2 = (ulong)T.Mremap(s, P, 2 * P, Mman.MREMAP_MAYMOVE);
        Assert.NotEqual(s, s2);
        r = T.UserRead(s2 + P);
        Assert.Equal(Signal.SIGBUS, r.Signal!.Signo);
        Assert.Equal(SiCode.BUS_ADRERR, r.Signal.Code);
        AssertInvariants();
    }
}
