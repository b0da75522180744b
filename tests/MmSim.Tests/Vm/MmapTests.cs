using MmSim.Kernel;
using MmSim.Vm;
using Xunit;

namespace MmSim.Tests.Vm;

/// <summary>mmap(2): every errno of sys_mmap/ksys_mmap_pgoff/do_mmap/__get_unmapped_area/mmap_region, in kernel order.</summary>
public sealed class MmapTests : VmFixture
{
    private readonly TestDevice _dev;
    private readonly int _rw;

    public MmapTests()
    {
        _dev = new TestDevice(M);
        _rw = _dev.Open(T, OpenFlags.O_RDWR);
    }

    /// <summary>A file whose ->get_unmapped_area answers with a fixed value (as bpf arena's does).</summary>
    private sealed class AreaFile(long answer) : FileOperations
    {
        public int Calls { get; private set; }

        public override int Mmap(VfsFile file, VmArea vma) => 0;

        public override long GetUnmappedArea(MmStruct mm, VfsFile file, ulong addr, ulong len, ulong pgoff, ulong flags)
        {
            Calls++;
            return answer;
        }
    }

    private int OpenFile(FileOperations fops, int flags)
    {
        var fd = M.Vm.AnonInodeGetFd(T, "test", fops, null, flags);
        Assert.True(fd >= 0);
        return fd;
    }

    [Fact]
    public void OffsetNotPageAlignedComesFirst() =>
        Assert.Equal(E(Errno.EINVAL), T.Mmap(0, 0, RW, Mman.MAP_SHARED, 99, 1));

    [Fact]
    public void BadFdIsEbadf() => Assert.Equal(E(Errno.EBADF), T.Mmap(0, P, RW, Mman.MAP_SHARED, 99));

    [Fact]
    public void HugetlbOnAFileIsEinval() =>
        Assert.Equal(E(Errno.EINVAL), T.Mmap(0, P, RW, Mman.MAP_SHARED | Mman.MAP_HUGETLB, _rw));

    [Fact]
    public void ZeroLengthIsEinval() => Assert.Equal(E(Errno.EINVAL), T.Mmap(0, 0, RW, PrivAnon));

    [Fact]
    public void LengthOverflowIsEnomem() => Assert.Equal(E(Errno.ENOMEM), T.Mmap(0, ulong.MaxValue - 10, RW, PrivAnon));

    [Fact]
    public void PgoffOverflowIsEoverflow() =>
        Assert.Equal(E(Errno.EOVERFLOW), T.Mmap(0, 2 * P, RW, Mman.MAP_SHARED, _rw, ulong.MaxValue & K.PAGE_MASK));

    [Fact]
    public void MapCountAboveTheLimitIsEnomem()
    {
        M.Vm.MaxMapCount = 2;
        MapAnon(P, R);
        MapAnon(P, RW);
        MapAnon(P, R);
        Assert.Equal(3, Mm.MapCount);
        Assert.Equal(E(Errno.ENOMEM), T.Mmap(0, P, RW, PrivAnon));
    }

    [Fact]
    public void LengthAboveTaskSizeIsEnomem() => Assert.Equal(E(Errno.ENOMEM), T.Mmap(0, K.TASK_SIZE + P, RW, PrivAnon));

    [Fact]
    public void FixedBeyondTaskSizeIsEnomem() =>
        Assert.Equal(E(Errno.ENOMEM), T.Mmap(K.TASK_SIZE - P, 2 * P, RW, PrivAnon | Mman.MAP_FIXED));

    [Fact]
    public void FixedUnalignedIsEinval() => Assert.Equal(E(Errno.EINVAL), T.Mmap(0x10000001, P, RW, PrivAnon | Mman.MAP_FIXED));

    [Fact]
    public void FixedBelowMmapMinAddrNeedsCapSysRawio()
    {
        T.Capabilities.Remove(Capability.CAP_SYS_RAWIO);
        Assert.Equal(E(Errno.EPERM), T.Mmap(0, P, RW, PrivAnon | Mman.MAP_FIXED));
        Assert.Equal(E(Errno.EPERM), T.Mmap(0x1000, P, RW, PrivAnon | Mman.MAP_FIXED));
        T.Capabilities.Add(Capability.CAP_SYS_RAWIO);
        Assert.Equal(0x1000L, T.Mmap(0x1000, P, RW, PrivAnon | Mman.MAP_FIXED));
    }

    [Fact]
    public void HintBelowMmapMinAddrIsRaised() => Assert.Equal(0x10000L, T.Mmap(0x1000, P, RW, PrivAnon));

    [Fact]
    public void UsableHintIsTakenAndAnOccupiedOneIgnored()
    {
        Assert.Equal(0x200000000L, T.Mmap(0x200000000, P, RW, PrivAnon));
        var r = T.Mmap(0x200000000, P, R, PrivAnon);
        Assert.Equal((long)(Mm.MmapBase - P), r);
    }

    [Fact]
    public void TopDownBelowMmapBase()
    {
        Assert.Equal(0x7ffff7fff000UL, Mm.MmapBase);
        Assert.Equal((long)(Mm.MmapBase - 3 * P), T.Mmap(0, 3 * P, RW, PrivAnon));
        Assert.Equal((long)(Mm.MmapBase - 4 * P), T.Mmap(0, P, R, PrivAnon));
    }

    [Fact]
    public void LargeAnonymousMappingsArePmdAligned()
    {
        var r = T.Mmap(0, 2UL << 20, RW, PrivAnon);
        Assert.Equal(0L, r & ((2L << 20) - 1));
        Assert.Equal(0x7ffff7c00000L, r);
    }

    /// <summary>
    /// __get_unmapped_area() of 6.12 takes the THP-aligning path whenever no get_unmapped_area hook was chosen, the
    /// hint is 0 and the length is PMD aligned: that includes files without the hook (a driver like the test
    /// device). 6.13 limited it to anonymous memory ("mm: don't try THP align for FS without get_unmapped_area").
    /// </summary>
    [Fact]
    public void LargeMappingsOfAFileWithoutGetUnmappedAreaArePmdAligned()
    {
        Assert.Equal(0x7ffff7c00000L, T.Mmap(0, 2UL << 20, RW, Mman.MAP_SHARED, _rw));

        // Not PMD aligned in length: the mm's allocator (the highest gap, above the aligned mapping).
        Assert.Equal((long)(Mm.MmapBase - P), T.Mmap(0, P, RW, Mman.MAP_SHARED, _rw));
    }

    /// <summary>
    /// Shared anonymous memory is shmem: its file has shmem_get_unmapped_area (shmem_huge=never: the mm's allocator),
    /// so an mremap move of it is not PMD aligned.
    /// </summary>
    [Fact]
    public void SharedAnonymousMremapMoveUsesShmemGetUnmappedArea()
    {
        var a = T.Mmap(0, 2UL << 20, RW, SharedAnon);
        Assert.Equal((long)(Mm.MmapBase - (2UL << 20)), a);
        MapAnon(P, RW, PrivAnon | Mman.MAP_FIXED, Mm.MmapBase);
        var r = T.Mremap((ulong)a, 2UL << 20, 4UL << 20, Mman.MREMAP_MAYMOVE);
        Assert.Equal((long)(Mm.MmapBase - (6UL << 20)), r);
        AssertInvariants();
    }

    [Fact]
    public void FileGetUnmappedAreaIsUsedEvenForMapFixed()
    {
        var f = new AreaFile(-(long)Errno.E2BIG);
        var fd = OpenFile(f, OpenFlags.O_RDWR);
        Assert.Equal(E(Errno.E2BIG), T.Mmap(0x300000000, P, RW, Mman.MAP_SHARED | Mman.MAP_FIXED, fd));
        Assert.Equal(1, f.Calls);

        // Its answer is checked afterwards: unaligned -> EINVAL, beyond TASK_SIZE - len -> ENOMEM.
        var g = new AreaFile(0x300000001);
        Assert.Equal(E(Errno.EINVAL), T.Mmap(0, P, RW, Mman.MAP_SHARED, OpenFile(g, OpenFlags.O_RDWR)));
        var h = new AreaFile((long)K.TASK_SIZE);
        Assert.Equal(E(Errno.ENOMEM), T.Mmap(0, P, RW, Mman.MAP_SHARED, OpenFile(h, OpenFlags.O_RDWR)));
    }

    [Fact]
    public void FixedNoreplaceOverAMappingIsEexist()
    {
        var a = MapAnon(2 * P);
        Assert.Equal(E(Errno.EEXIST), T.Mmap(a + P, 2 * P, RW, PrivAnon | Mman.MAP_FIXED_NOREPLACE));
        Assert.Equal((long)(a + 2 * P), T.Mmap(a + 2 * P, P, R, PrivAnon | Mman.MAP_FIXED_NOREPLACE));
    }

    [Fact]
    public void MapLockedWithoutMemlockIsEpermAndBeyondTheLimitEagain()
    {
        T.Capabilities.Remove(Capability.CAP_IPC_LOCK);
        Mm.RlimitMemlock = 0;
        Assert.Equal(E(Errno.EPERM), T.Mmap(0, P, RW, PrivAnon | Mman.MAP_LOCKED));
        Mm.RlimitMemlock = 2 * P;
        Assert.Equal(E(Errno.EAGAIN), T.Mmap(0, 3 * P, RW, PrivAnon | Mman.MAP_LOCKED));
        var a = (ulong)T.Mmap(0, 2 * P, RW, PrivAnon | Mman.MAP_LOCKED);
        Assert.Equal(2UL, Mm.LockedVm);
        Assert.Equal(2L, Mm.Pgd.NrValid); // VM_LOCKED populates
        Assert.Equal(0, T.Munmap(a, 2 * P));
        Assert.Equal(0UL, Mm.LockedVm);
    }

    [Fact]
    public void SharedValidateWithUnknownFlagsIsEopnotsupp() =>
        Assert.Equal(E(Errno.EOPNOTSUPP), T.Mmap(0, P, RW, Mman.MAP_SHARED_VALIDATE | Mman.MAP_SYNC, _rw));

    [Fact]
    public void SharedWritableOnAReadOnlyFileIsEacces()
    {
        var ro = _dev.Open(T, OpenFlags.O_RDONLY);
        Assert.Equal(E(Errno.EACCES), T.Mmap(0, P, RW, Mman.MAP_SHARED, ro));

        // A read-only shared mapping loses VM_MAYWRITE and VM_SHARED (keeps VM_MAYSHARE): mprotect(W) is EACCES.
        var a = (ulong)T.Mmap(0, P, R, Mman.MAP_SHARED, ro);
        var vma = Mm.MmMt.VmaLookup(a)!;
        Assert.False(vma.VmFlags.Has(VmFlags.VM_MAYWRITE | VmFlags.VM_SHARED));
        Assert.True(vma.VmFlags.Has(VmFlags.VM_MAYSHARE));
        Assert.Equal(E(Errno.EACCES), T.Mprotect(a, P, RW));
        Assert.Contains(" r--s ", ProcMaps.Show(T), StringComparison.Ordinal);

        // A private writable mapping of a read-only file is fine (copy on write).
        Assert.True(T.Mmap(0, P, RW, Mman.MAP_PRIVATE, ro) > 0);
    }

    [Fact]
    public void WriteOnlyFileIsEaccesEvenPrivate()
    {
        var wo = _dev.Open(T, OpenFlags.O_WRONLY);
        Assert.Equal(E(Errno.EACCES), T.Mmap(0, P, R, Mman.MAP_PRIVATE, wo));
        Assert.Equal(E(Errno.EACCES), T.Mmap(0, P, R, Mman.MAP_SHARED, wo));
    }

    [Fact]
    public void NoexecFileRefusesProtExecAndDropsMayExec()
    {
        var f = M.Vm.AllocFile(_dev, FMode.FMODE_READ | FMode.FMODE_WRITE, null, "/noexec", _dev.Inode, noExec: true)!;
        var fd = T.Files!.GetUnusedFdFlags();
        T.Files.FdInstall(fd, f);
        Assert.Equal(E(Errno.EPERM), T.Mmap(0, P, Mman.PROT_READ | Mman.PROT_EXEC, Mman.MAP_SHARED, fd));
        var a = (ulong)T.Mmap(0, P, R, Mman.MAP_SHARED, fd);
        Assert.Equal(E(Errno.EACCES), T.Mprotect(a, P, Mman.PROT_READ | Mman.PROT_EXEC));
    }

    private sealed class NoMmapFile : FileOperations;

    [Fact]
    public void FileWithoutMmapIsEnodev() =>
        Assert.Equal(E(Errno.ENODEV), T.Mmap(0, P, R, Mman.MAP_SHARED, OpenFile(new NoMmapFile(), OpenFlags.O_RDWR)));

    [Fact]
    public void BadMapTypeIsEinval()
    {
        Assert.Equal(E(Errno.EINVAL), T.Mmap(0, P, R, 0, _rw));
        Assert.Equal(E(Errno.EINVAL), T.Mmap(0, P, R, Mman.MAP_ANONYMOUS));
        Assert.Equal(E(Errno.EINVAL), T.Mmap(0, P, R, Mman.MAP_ANONYMOUS | Mman.MAP_SHARED_VALIDATE));
        Assert.Equal(E(Errno.EINVAL), T.Mmap(0, P, R, Mman.MAP_SHARED | Mman.MAP_GROWSDOWN, _rw));
        Assert.Equal(E(Errno.EINVAL), T.Mmap(0, P, R, SharedAnon | Mman.MAP_GROWSDOWN));
    }

    [Fact]
    public void AddressSpaceLimitIsEnomemAndMapFixedKeepsTheOldMappingSplit()
    {
        var a = (ulong)T.Mmap(0, 4 * P, RW, Mman.MAP_SHARED, _rw);
        Write(a + P, 77);
        Mm.RlimitAs = 4 * P;
        Assert.Equal(E(Errno.ENOMEM), T.Mmap(0, P, RW, PrivAnon));

        // Replacing the middle needs no more address space, but a bigger replacement does: the old VMAs were gathered
        // (split, with ->open) and are re-attached; nothing was closed and the data is still there.
        Assert.Equal(E(Errno.ENOMEM), T.Mmap(a + P, 4 * P, RW, PrivAnon | Mman.MAP_FIXED));
        Assert.Equal((1, 0), (_dev.Opens, _dev.Closes));
        Assert.Equal(2, Mm.MapCount);
        Assert.Equal(77UL, Read(a + P));
        AssertInvariants();
    }

    [Fact]
    public void AccountingBeyondRamIsEnomemForPrivateWritableOnly()
    {
        var huge = (ulong)M.PageAlloc.TotalPages * P * 2;
        Assert.Equal(E(Errno.ENOMEM), T.Mmap(0, huge, RW, PrivAnon));
        Assert.True(T.Mmap(0, huge, R, PrivAnon) > 0);
        Assert.True(T.Mmap(0, huge, RW, PrivAnon | Mman.MAP_NORESERVE) > 0);
        Assert.Equal(E(Errno.ENOMEM), T.Mmap(0, huge, RW, SharedAnon));
    }

    [Fact]
    public void FailingMmapAfterMapFixedLeavesAHoleAndTheOldWasClosed()
    {
        var a = (ulong)T.Mmap(0, 3 * P, RW, Mman.MAP_SHARED, _rw);
        _dev.MmapError = -(int)Errno.ENOMEM;
        Assert.Equal(E(Errno.ENOMEM), T.Mmap(a + P, P, RW, Mman.MAP_SHARED | Mman.MAP_FIXED, _rw));
        // Split head and tail (2 opens), the middle closed before ->mmap ran and failed: a hole.
        Assert.Equal((2, 1), (_dev.Opens, _dev.Closes));
        Assert.Equal(2, Mm.MapCount);
        Assert.Equal(Signal.SIGSEGV, T.UserRead(a + P).Signal!.Signo);
        AssertInvariants();
    }

    [Fact]
    public void MergeBeforeMmapAbsorbsANonSpecialFileMappingWithoutCallingMmap()
    {
        _dev.MmapSetsFlags = VmFlags.VM_NONE;
        var a = (ulong)T.Mmap(0x300000000, 2 * P, RW, Mman.MAP_SHARED | Mman.MAP_FIXED, _rw);
        Assert.Equal((long)(a + 2 * P), T.Mmap(a + 2 * P, P, RW, Mman.MAP_SHARED | Mman.MAP_FIXED, _rw, 2 * P));
        Assert.Equal(1, _dev.Mmaps);
        Assert.Equal(1, Mm.MapCount);
        Assert.Equal(3 * P, Mm.MmMt.VmaLookup(a)!.VmEnd - a);
    }

    [Fact]
    public void PopulatePrefaults()
    {
        var a = (ulong)T.Mmap(0, 3 * P, RW, PrivAnon | Mman.MAP_POPULATE);
        Assert.Equal(3L, Mm.Pgd.NrValid);
        Assert.True(Mm.Pgd.Get(a).IsWrite);
        var s = (ulong)T.Mmap(0, 2 * P, R, SharedAnon | Mman.MAP_POPULATE);
        Assert.True(Mm.Pgd.Get(s).IsValid);
        AssertInvariants();
    }

    [Fact]
    public void AnonInodeFileShowsItsNameInMaps()
    {
        var fd = OpenFile(new AreaFileMmapOnly(), OpenFlags.O_RDWR);
        var a = (ulong)T.Mmap(0, P, RW, Mman.MAP_SHARED, fd);
        var line = ProcMaps.Show(T).TrimEnd('\n');
        var prefix = $"{a:x}-{a + P:x} rw-s 00000000 00:0f 1058";
        Assert.Equal(prefix.PadRight(72) + " anon_inode:test", line);
    }

    private sealed class AreaFileMmapOnly : FileOperations
    {
        public override int Mmap(VfsFile file, VmArea vma)
        {
            vma.VmFlagsSet(VmFlags.VM_DONTEXPAND);
            return 0;
        }
    }
}
