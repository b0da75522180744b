using MmSim.Kernel;
using MmSim.Vm;
using Xunit;

namespace MmSim.Tests.Vm;

/// <summary>fork (dup_mmap, dup_fd), exit (exit_mmap, close_files), close, and the fd table.</summary>
public sealed class ForkExitTests : VmFixture
{
    private readonly TestDevice _dev;
    private readonly int _fd;

    public ForkExitTests()
    {
        _dev = new TestDevice(M);
        _fd = _dev.Open(T, OpenFlags.O_RDWR);
    }

    private ulong MapDev(ulong len, ulong addr)
    {
        Assert.Equal((long)addr, T.Mmap(addr, len, RW, Mman.MAP_SHARED | Mman.MAP_FIXED, _fd));
        return addr;
    }

    /// <summary>Records (event, address) of ->open and ->close in order.</summary>
    private sealed class Journal : FileOperations
    {
        public List<string> Events { get; } = [];

        public VmFlags Sets { get; init; } = VmFlags.VM_IO;

        public override int Mmap(VfsFile file, VmArea vma)
        {
            vma.VmOps = new Ops(this);
            vma.VmFlagsSet(Sets);
            return 0;
        }

        private sealed class Ops(Journal j) : VmOperations
        {
            public override void Open(VmArea vma) => j.Events.Add($"open {vma.VmMm.Owner?.Comm} {vma.VmStart:x}");

            public override void Close(VmArea vma) => j.Events.Add($"close {vma.VmMm.Owner?.Comm} {vma.VmStart:x}");
        }
    }

    [Fact]
    public void ForkOpensEachCopyInAscendingOrderAndExitClosesInAscendingOrder()
    {
        var j = new Journal();
        var fd = M.Vm.AnonInodeGetFd(T, "journal", j, null, OpenFlags.O_RDWR);
        foreach (var a in new ulong[] { 0x500000000, 0x400000000 })
        {
            Assert.Equal((long)a, T.Mmap(a, P, RW, Mman.MAP_SHARED | Mman.MAP_FIXED, fd));
        }

        Assert.True(T.Fork("c", out var c) > 0);
        c!.Exit();
        Assert.Equal(["open c 400000000", "open c 500000000", "close c 400000000", "close c 500000000"], j.Events);
    }

    [Fact]
    public void DontcopyIsNotInheritedAndWipeonforkStartsEmpty()
    {
        var j = new Journal { Sets = VmFlags.VM_DONTCOPY };
        var fd = M.Vm.AnonInodeGetFd(T, "dontcopy", j, null, OpenFlags.O_RDWR);
        var d = (ulong)T.Mmap(0, P, RW, Mman.MAP_SHARED, fd);
        var w = MapAnon(P);
        Write(w, 5);
        Mm.MmMt.VmaLookup(w)!.VmFlagsSet(VmFlags.VM_WIPEONFORK);
        Assert.True(T.Fork("c", out var c) > 0);
        Assert.Empty(j.Events);
        Assert.Equal(1, c!.Mm!.MapCount);
        Assert.Equal(new SigInfo(Signal.SIGSEGV, SiCode.SEGV_MAPERR, d), c.UserRead(d).Signal);
        Assert.Equal(0UL, Read(w, c));
        Assert.Equal(5UL, Read(w));
        Assert.Equal(1UL, c.Mm.TotalVm);
        AssertInvariants();
    }

    [Fact]
    public void ForkSharesThePagesOfMixedmapAndPfnmapMappings()
    {
        var page = M.PageAlloc.AllocPage(Gfp.GFP_KERNEL | Gfp.__GFP_ZERO);
        var j = new Journal { Sets = VmFlags.VM_DONTEXPAND };
        var fd = M.Vm.AnonInodeGetFd(T, "mixed", j, null, OpenFlags.O_RDWR);
        var a = (ulong)T.Mmap(0, P, RW, Mman.MAP_SHARED, fd);
        Assert.Equal(0, Mm.VmInsertPage(Mm.MmMt.VmaLookup(a)!, a, page));
        Assert.Equal((2, 1), (M.PageAlloc.PageRefCount(page), (int)M.PageAlloc.Frame(page).Mapcount));
        Assert.True(T.Fork("c", out var c) > 0);
        Assert.Equal((3, 2), (M.PageAlloc.PageRefCount(page), (int)M.PageAlloc.Frame(page).Mapcount));
        Write(a, 0x55, c);
        Assert.Equal(0x55UL, Read(a));
        c!.Exit();
        T.Exit();
        Assert.Equal((1, 0), (M.PageAlloc.PageRefCount(page), (int)M.PageAlloc.Frame(page).Mapcount));
        M.PageAlloc.PutPage(page);
        AssertFreePagesBack();
        AssertInvariants();
    }

    [Fact]
    public void ForkCopiesTheFdTableWithTheSameNumbers()
    {
        var second = _dev.Open(T, OpenFlags.O_RDONLY);
        Assert.Equal(0, T.Close(_fd));
        Assert.True(T.Fork("c", out var c) > 0);
        Assert.Null(c!.Files!.Lookup(_fd));
        Assert.Same(T.Files!.Lookup(second), c.Files.Lookup(second));
        Assert.Equal(2, T.Files.Lookup(second)!.FCount);
        Assert.Equal(0, _dev.Open(c, OpenFlags.O_RDWR));
        AssertInvariants();
    }

    [Fact]
    public void ForkFailureAtEverySlabAllocationClosesWhatWasCopiedAndLeaksNothing()
    {
        MapDev(P, 0x400000000);
        MapDev(P, 0x500000000);
        var anon = MapAnon(P);
        Write(anon, 1);
        var filesBefore = M.Vm.NrFiles;
        M.SyscallExit();
        var free = M.PageAlloc.NrFreePages;
        var failures = 0;
        for (var n = 1; n < 40; n++)
        {
            var (opens, closes) = (_dev.Opens, _dev.Closes);
            M.FaultInject.FailSlab.SetNth(n);
            var r = T.Fork("c" + n, out var c);
            M.FaultInject.Off();
            if (r < 0)
            {
                failures++;
                Assert.Equal(E(Errno.ENOMEM), r);
                Assert.Null(c);
                Assert.Equal(_dev.Opens - opens, _dev.Closes - closes);
                Assert.Single(M.Tasks.All, t => !t.Exited);
            }
            else
            {
                Assert.Equal(2, _dev.Opens - opens);
                c!.Exit();
            }

            Assert.Equal(filesBefore, M.Vm.NrFiles);
            M.SyscallExit();
            Assert.Equal(free, M.PageAlloc.NrFreePages);
            AssertInvariants();
        }

        Assert.True(failures >= 3, $"only {failures} injected failures hit fork");
    }

    [Fact]
    public void ExitClosesVmasBeforeFdsAndReleasesTheFileLast()
    {
        var events = new List<string>();
        var f = new ReleaseJournal(events);
        var fd = M.Vm.AnonInodeGetFd(T, "rel", f, null, OpenFlags.O_RDWR);
        T.Mmap(0, P, RW, Mman.MAP_SHARED, fd);
        T.Exit();
        Assert.Equal(["close", "release"], events);
        Assert.Null(T.Mm);
        Assert.True(T.Exited);
        Assert.Equal(E(Errno.ESRCH), T.Mmap(0, P, RW, PrivAnon));
    }

    private sealed class ReleaseJournal(List<string> events) : FileOperations
    {
        public override int Mmap(VfsFile file, VmArea vma)
        {
            vma.VmOps = new Ops(events);
            return 0;
        }

        public override void Release(VfsFile file) => events.Add("release");

        private sealed class Ops(List<string> events) : VmOperations
        {
            public override void Close(VmArea vma) => events.Add("close");
        }
    }

    [Fact]
    public void CloseDropsTheFdReferenceAndAMappingKeepsTheFileAlive()
    {
        var events = new List<string>();
        var fd = M.Vm.AnonInodeGetFd(T, "rel", new ReleaseJournal(events), null, OpenFlags.O_RDWR);
        var a = (ulong)T.Mmap(0, P, RW, Mman.MAP_SHARED, fd);
        Assert.Equal(0, T.Close(fd));
        Assert.Equal(E(Errno.EBADF), T.Close(fd));
        Assert.Empty(events);
        Assert.Equal(0, T.Munmap(a, P));
        Assert.Equal(["close", "release"], events);
    }

    [Fact]
    public void FdsAreLowestFreeAndLimitedByNofile()
    {
        Assert.Equal(1, _dev.Open(T, OpenFlags.O_RDWR));
        Assert.Equal(2, _dev.Open(T, OpenFlags.O_RDWR));
        Assert.Equal(0, T.Close(1));
        Assert.Equal(1, _dev.Open(T, OpenFlags.O_RDWR));
        T.Files!.Nofile = 3;
        Assert.Equal(-(int)Errno.EMFILE, _dev.Open(T, OpenFlags.O_RDWR));
        Assert.Equal(-(int)Errno.EMFILE, M.Vm.AnonInodeGetFd(T, "x", _dev, null, OpenFlags.O_RDWR));
    }

    [Fact]
    public void PrivateFileMappingsCopyOnWrite()
    {
        var a = (ulong)T.Mmap(0, 2 * P, RW, Mman.MAP_SHARED, _fd);
        var p = (ulong)T.Mmap(0, 2 * P, RW, Mman.MAP_PRIVATE, _fd);
        Write(a, 1);
        Assert.Equal(1UL, Read(p));
        Write(p, 2);
        Assert.Equal(1UL, Read(a));
        Assert.Equal(2UL, Read(p));
        Write(a, 3);
        Assert.Equal(2UL, Read(p));

        // The second page was only read privately: it still follows the file.
        Assert.Equal(0UL, Read(p + P));
        Write(a + P, 4);
        Assert.Equal(4UL, Read(p + P));
        AssertInvariants();
    }
}
