using MmSim.Kernel;
using MmSim.Vm;
using Xunit;

namespace MmSim.Tests.Vm;

/// <summary>munmap(2) and mprotect(2): errnos in kernel order, splits, holes, close order, non-atomic mprotect.</summary>
public sealed class MunmapMprotectTests : VmFixture
{
    private readonly TestDevice _dev;
    private readonly int _fd;

    public MunmapMprotectTests()
    {
        _dev = new TestDevice(M);
        _fd = _dev.Open(T, OpenFlags.O_RDWR);
    }

    private ulong MapDev(ulong len, ulong addr)
    {
        var r = T.Mmap(addr, len, RW, Mman.MAP_SHARED | Mman.MAP_FIXED, _fd);
        Assert.Equal((long)addr, r);
        return addr;
    }

    /// <summary>Records the order of ->close calls.</summary>
    private sealed class OrderOps(List<ulong> closes) : VmOperations
    {
        public override void Close(VmArea vma) => closes.Add(vma.VmStart);
    }

    private sealed class OrderFile(List<ulong> closes) : FileOperations
    {
        public override int Mmap(VfsFile file, VmArea vma)
        {
            vma.VmOps = new OrderOps(closes);
            vma.VmFlagsSet(VmFlags.VM_IO);
            return 0;
        }
    }

    [Theory]
    [InlineData(0x10000001UL, 4096UL)]
    [InlineData(K.TASK_SIZE + 4096, 4096UL)]
    [InlineData(0x10000000UL, K.TASK_SIZE)]
    [InlineData(0x10000000UL, 0UL)]
    public void MunmapArgumentsAreEinval(ulong start, ulong len) => Assert.Equal(E(Errno.EINVAL), T.Munmap(start, len));

    [Fact]
    public void MunmapOfAHoleSucceeds() => Assert.Equal(0, T.Munmap(0x10000000, 16 * P));

    [Fact]
    public void MunmapSpanningVmasAndHolesClosesInAscendingOrder()
    {
        var closes = new List<ulong>();
        var fd = M.Vm.AnonInodeGetFd(T, "order", new OrderFile(closes), null, OpenFlags.O_RDWR);
        const ulong B = 0x400000000;
        foreach (var at in new[] { B + 6 * P, B, B + 3 * P })
        {
            Assert.Equal((long)at, T.Mmap(at, 2 * P, RW, Mman.MAP_SHARED | Mman.MAP_FIXED, fd));
        }

        Assert.Equal(0, T.Munmap(B, 8 * P));
        Assert.Equal([B, B + 3 * P, B + 6 * P], closes);
        Assert.Equal(0, Mm.MapCount);
        AssertInvariants();
    }

    [Fact]
    public void MiddleUnmapAtMaxMapCountIsEnomemButEdgesAreFine()
    {
        var a = MapDev(4 * P, 0x400000000);
        M.Vm.MaxMapCount = 1;
        Assert.Equal(E(Errno.ENOMEM), T.Munmap(a + P, P));
        Assert.Equal((0, 0), (_dev.Opens, _dev.Closes));

        // Trimming an end temporarily exceeds the limit, as the kernel allows.
        Assert.Equal(0, T.Munmap(a, P));
        Assert.Equal((1, 1), (_dev.Opens, _dev.Closes));
        AssertInvariants();
    }

    [Fact]
    public void MaySplitRefusalOfTheHeadChangesNothing()
    {
        var a = MapDev(4 * P, 0x400000000);
        _dev.MaySplitError = -(int)Errno.EINVAL;
        Assert.Equal(E(Errno.EINVAL), T.Munmap(a + P, P));
        Assert.Equal(E(Errno.EINVAL), T.Munmap(a, P));
        Assert.Equal((0, 0), (_dev.Opens, _dev.Closes));
        Assert.Equal(1, Mm.MapCount);
        Assert.Equal(0, T.Munmap(a, 4 * P));
        Assert.Equal((0, 1), (_dev.Opens, _dev.Closes));
    }

    [Fact]
    public void TailSplitRefusalKeepsTheHeadSplit()
    {
        var a = MapDev(2 * P, 0x400000000);
        var b = MapDev(4 * P, a + 2 * P);

        // Refuse only the split at the tail (the second VMA): the first was already detached, then re-attached.
        var refusing = new TestDevice(M) { MaySplitError = -(int)Errno.EPERM };
        var rfd = refusing.Open(T, OpenFlags.O_RDWR);
        Assert.Equal((long)b, T.Mmap(b, 4 * P, RW, Mman.MAP_SHARED | Mman.MAP_FIXED, rfd));
        Assert.Equal(E(Errno.EPERM), T.Munmap(a + P, 3 * P));

        // The head split at a + P happened (1 open) and stays; nothing was closed except what MAP_FIXED replaced.
        Assert.Equal(1, _dev.Opens);
        Assert.Equal(1, _dev.Closes);
        Assert.Equal(3, Mm.MapCount);
        AssertInvariants();
    }

    [Fact]
    public void MprotectArgumentsInKernelOrder()
    {
        Assert.Equal(E(Errno.EINVAL), T.Mprotect(0x10000000, P, R | Mman.PROT_GROWSDOWN | Mman.PROT_GROWSUP));
        Assert.Equal(E(Errno.EINVAL), T.Mprotect(0x10000001, 0, R));
        Assert.Equal(0, T.Mprotect(0x10000000, 0, R));
        Assert.Equal(E(Errno.ENOMEM), T.Mprotect(0x10000000, ulong.MaxValue - 0x10000000 - 2, R));
        Assert.Equal(E(Errno.EINVAL), T.Mprotect(0x10000000, P, 0x10));
        Assert.Equal(E(Errno.ENOMEM), T.Mprotect(0x10000000, P, R));
        var a = MapAnon(P);
        Assert.Equal(E(Errno.EINVAL), T.Mprotect(a, P, R | Mman.PROT_GROWSDOWN));
    }

    [Fact]
    public void MprotectStartingInAHoleIsEnomemAndChangesNothing()
    {
        var a = MapAnon(2 * P, RW, PrivAnon | Mman.MAP_FIXED, 0x400000000);
        Assert.Equal(E(Errno.ENOMEM), T.Mprotect(a - P, 2 * P, R));
        Assert.True(Vmas()[0].Flags.Has(VmFlags.VM_WRITE));
    }

    [Fact]
    public void MprotectIsNotAtomic()
    {
        const ulong B = 0x400000000;
        MapAnon(2 * P, RW, PrivAnon | Mman.MAP_FIXED, B);
        MapAnon(2 * P, RW, PrivAnon | Mman.MAP_FIXED, B + 3 * P);
        Assert.Equal(E(Errno.ENOMEM), T.Mprotect(B, 5 * P, R));

        // The VMA before the hole already changed.
        var v = Vmas();
        Assert.False(v[0].Flags.Has(VmFlags.VM_WRITE));
        Assert.True(v[1].Flags.Has(VmFlags.VM_WRITE));

        // A refusal in the second VMA after the first changed: EACCES.
        var ro = _dev.Open(T, OpenFlags.O_RDONLY);
        Assert.Equal((long)(B + 5 * P), T.Mmap(B + 5 * P, P, R, Mman.MAP_SHARED | Mman.MAP_FIXED, ro));
        Assert.Equal(E(Errno.EACCES), T.Mprotect(B + 3 * P, 3 * P, RW | Mman.PROT_EXEC));
        Assert.True(Vmas()[1].Flags.Has(VmFlags.VM_EXEC));
        AssertInvariants();
    }

    [Fact]
    public void VmOpsMprotectVetoes()
    {
        var a = MapDev(2 * P, 0x400000000);
        _dev.MprotectError = -(int)Errno.EPERM;
        Assert.Equal(E(Errno.EPERM), T.Mprotect(a, P, R));
        Assert.Equal(1, Mm.MapCount);
        Assert.Equal(0, _dev.Opens);
    }

    [Fact]
    public void MprotectSplitsWithOpensAndMergesBack()
    {
        var a = MapDev(4 * P, 0x400000000);
        Assert.Equal(0, T.Mprotect(a + P, 2 * P, R));
        Assert.Equal(3, Mm.MapCount);
        Assert.Equal((2, 0), (_dev.Opens, _dev.Closes));

        // VMAs with VM_SPECIAL never merge again.
        Assert.Equal(0, T.Mprotect(a, 4 * P, RW));
        Assert.Equal(3, Mm.MapCount);
        AssertInvariants();
    }

    /// <summary>
    /// vma_modify() of 6.12: when the merge with a neighbour runs out of memory (vmg_nomem), the change fails with
    /// -ENOMEM instead of falling back to a split. Here the merge's maple-tree preallocation is the first slab
    /// allocation of the call.
    /// </summary>
    [Fact]
    public void MprotectWhoseMergeRunsOutOfMemoryIsEnomemAndChangesNothing()
    {
        const ulong B = 0x400000000;
        MapAnon(2 * P, RW, PrivAnon | Mman.MAP_FIXED, B);
        MapAnon(2 * P, R, PrivAnon | Mman.MAP_FIXED, B + 2 * P);
        Assert.Equal(2, Mm.MapCount);
        var before = Vmas();

        M.FaultInject.FailSlab.SetNth(1);
        var r = T.Mprotect(B + 2 * P, P, RW);
        M.FaultInject.Off();

        Assert.Equal(E(Errno.ENOMEM), r);
        Assert.Equal(before, Vmas());
        Assert.Equal(0, T.Mprotect(B + 2 * P, P, RW));
        Assert.Equal(2, Mm.MapCount);
        Assert.Equal((B, B + 3 * P), (Vmas()[0].Start, Vmas()[0].End));
        AssertInvariants();
    }

    /// <summary>
    /// mprotect_fixup(): a private VM_LOCKED mapping that becomes writable is prefaulted for write at once
    /// (populate_vma_page_range), so its zero-page PTEs become private writable pages.
    /// </summary>
    [Fact]
    public void MprotectOfAPrivateLockedMappingToWritableBreaksCowAtOnce()
    {
        var a = (ulong)T.Mmap(0, 2 * P, R, PrivAnon | Mman.MAP_LOCKED);
        Assert.Equal(PageTable.ZERO_PFN, Mm.Pgd.Get(a).Pfn);
        Assert.Equal(0, T.Mprotect(a, 2 * P, RW));
        for (var off = 0UL; off < 2 * P; off += P)
        {
            var pte = Mm.Pgd.Get(a + off);
            Assert.NotEqual(PageTable.ZERO_PFN, pte.Pfn);
            Assert.True(pte.IsWrite);
        }

        AssertInvariants();
    }

    [Fact]
    public void MprotectSplitAtMaxMapCountIsEnomem()
    {
        var a = MapAnon(4 * P);
        M.Vm.MaxMapCount = 1;
        Assert.Equal(E(Errno.ENOMEM), T.Mprotect(a + P, P, R));
        Assert.Equal(1, Mm.MapCount);
    }

    [Fact]
    public void MprotectMakesWritableAccountedAndReadOnlyUnfaultedUnaccounted()
    {
        var a = MapAnon(2 * P, R);
        Assert.False(Vmas()[0].Flags.Has(VmFlags.VM_ACCOUNT));
        Assert.Equal(0, T.Mprotect(a, 2 * P, RW));
        Assert.True(Vmas()[0].Flags.Has(VmFlags.VM_ACCOUNT));

        // Still no anon_vma: going read-only drops VM_ACCOUNT again.
        Assert.Equal(0, T.Mprotect(a, 2 * P, R));
        Assert.False(Vmas()[0].Flags.Has(VmFlags.VM_ACCOUNT));

        // After a write fault (anon_vma set) it stays.
        Assert.Equal(0, T.Mprotect(a, 2 * P, RW));
        Write(a, 1);
        Assert.Equal(0, T.Mprotect(a, 2 * P, R));
        Assert.True(Vmas()[0].Flags.Has(VmFlags.VM_ACCOUNT));
        AssertInvariants();
    }

    [Fact]
    public void ProtNoneBlocksReadsAndKeepsTheData()
    {
        var a = MapAnon(P);
        Write(a, 5);
        Assert.Equal(0, T.Mprotect(a, P, Mman.PROT_NONE));
        Assert.Equal(new SigInfo(Signal.SIGSEGV, SiCode.SEGV_ACCERR, a), T.UserRead(a).Signal);
        Assert.Equal(0, T.Mprotect(a, P, R));
        Assert.Equal(5UL, Read(a));
        AssertInvariants();
    }
}
