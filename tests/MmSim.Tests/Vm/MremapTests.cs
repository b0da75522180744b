using MmSim.Kernel;
using MmSim.Vm;
using Xunit;

namespace MmSim.Tests.Vm;

/// <summary>mremap(2) of 6.12: parameter checks, EFAULT cases, shrink, grow in place, moves, ->mremap rollback.</summary>
public sealed class MremapTests : VmFixture
{
    private const ulong B = 0x400000000;
    private readonly TestDevice _dev;
    private readonly int _fd;

    public MremapTests()
    {
        _dev = new TestDevice(M);
        _fd = _dev.Open(T, OpenFlags.O_RDWR);
    }

    private ulong MapDev(ulong len, ulong addr = B)
    {
        Assert.Equal((long)addr, T.Mmap(addr, len, RW, Mman.MAP_SHARED | Mman.MAP_FIXED, _fd));
        return addr;
    }

    [Fact]
    public void ParameterChecksInKernelOrder()
    {
        Assert.Equal(E(Errno.EINVAL), T.Mremap(B, P, P, 8));
        Assert.Equal(E(Errno.EINVAL), T.Mremap(B, P, P, Mman.MREMAP_FIXED));
        Assert.Equal(E(Errno.EINVAL), T.Mremap(B, P, P, Mman.MREMAP_DONTUNMAP));
        Assert.Equal(E(Errno.EINVAL), T.Mremap(B, P, 2 * P, Mman.MREMAP_DONTUNMAP | Mman.MREMAP_MAYMOVE));
        Assert.Equal(E(Errno.EINVAL), T.Mremap(B + 1, P, P));
        Assert.Equal(E(Errno.EINVAL), T.Mremap(B, P, 0));
        Assert.Equal(E(Errno.EFAULT), T.Mremap(B, P, P));
    }

    [Fact]
    public void FixedDestinationChecks()
    {
        var a = MapAnon(2 * P, RW, PrivAnon | Mman.MAP_FIXED, B);
        const ulong Mv = Mman.MREMAP_MAYMOVE | Mman.MREMAP_FIXED;
        Assert.Equal(E(Errno.EINVAL), T.Mremap(a, 2 * P, 2 * P, Mv, B + 0x10001));
        Assert.Equal(E(Errno.EINVAL), T.Mremap(a, 2 * P, 2 * P, Mv, K.TASK_SIZE - P));
        Assert.Equal(E(Errno.EINVAL), T.Mremap(a, 2 * P, 2 * P, Mv, a + P));
        M.Vm.MaxMapCount = 4;
        Assert.Equal(E(Errno.ENOMEM), T.Mremap(a, 2 * P, 2 * P, Mv, B + 0x100000));
    }

    [Fact]
    public void GrowingAcrossTheVmaEndIsEfault()
    {
        var a = MapAnon(2 * P, RW, PrivAnon | Mman.MAP_FIXED, B);
        Assert.Equal(E(Errno.EFAULT), T.Mremap(a + P, 2 * P, 4 * P, Mman.MREMAP_MAYMOVE));
    }

    [Fact]
    public void DontexpandCannotGrowButMayMove()
    {
        var a = MapDev(2 * P);
        Assert.Equal(E(Errno.EFAULT), T.Mremap(a, 2 * P, 3 * P, Mman.MREMAP_MAYMOVE));
        Assert.Equal(E(Errno.EINVAL), T.Mremap(a, 2 * P, 2 * P, Mman.MREMAP_MAYMOVE | Mman.MREMAP_DONTUNMAP));
        Assert.Equal((long)(B + 0x100000), T.Mremap(a, 2 * P, 2 * P, Mman.MREMAP_MAYMOVE | Mman.MREMAP_FIXED, B + 0x100000));
        Assert.Equal((1, 1), (_dev.Opens, _dev.Closes));
        AssertInvariants();
    }

    [Fact]
    public void DuplicatingAPrivateMappingIsEinval()
    {
        var a = MapAnon(2 * P, RW, PrivAnon | Mman.MAP_FIXED, B);
        Assert.Equal(E(Errno.EINVAL), T.Mremap(a, 0, P, Mman.MREMAP_MAYMOVE));
    }

    [Fact]
    public void DuplicatingASharedMappingCopiesTheVma()
    {
        var a = MapAnon(2 * P, RW, SharedAnon | Mman.MAP_FIXED, B);
        Write(a, 9);
        var d = T.Mremap(a, 0, 2 * P, Mman.MREMAP_MAYMOVE);
        Assert.True(d > 0 && (ulong)d != a);
        Assert.Equal(9UL, Read((ulong)d));
        Assert.Equal(2, Mm.MapCount);
        AssertInvariants();
    }

    [Fact]
    public void ShrinkIsAnUnmapOfTheTail()
    {
        var a = MapDev(4 * P);
        Assert.Equal((long)a, T.Mremap(a, 4 * P, P, 0));
        Assert.Equal((1, 1), (_dev.Opens, _dev.Closes));
        Assert.Equal(a + P, Vmas()[0].End);

        // 6.12 shrinks without checking the old range: a shrink across a hole just unmaps.
        Assert.Equal((long)a, T.Mremap(a, 8 * P, P, 0));
        Assert.Equal((long)a, T.Mremap(a, P, P, 0));
    }

    [Fact]
    public void GrowInPlaceOrEnomemWithoutMaymove()
    {
        var a = MapAnon(2 * P, RW, PrivAnon | Mman.MAP_FIXED, B);
        Write(a, 3);
        Assert.Equal((long)a, T.Mremap(a, 2 * P, 4 * P, 0));
        Assert.Equal(a + 4 * P, Vmas()[0].End);
        MapAnon(P, R, PrivAnon | Mman.MAP_FIXED, a + 4 * P);
        Assert.Equal(E(Errno.ENOMEM), T.Mremap(a, 4 * P, 5 * P, 0));

        // With MAYMOVE it moves (top-down) and the data goes with it.
        var n = (ulong)T.Mremap(a, 4 * P, 5 * P, Mman.MREMAP_MAYMOVE);
        Assert.NotEqual(a, n);
        Assert.Equal(3UL, Read(n));
        Assert.Equal(Signal.SIGSEGV, T.UserRead(a).Signal!.Signo);
        AssertInvariants();
    }

    [Fact]
    public void GrowInPlaceMergesWithACompatibleNext()
    {
        var a = MapAnon(2 * P, RW, PrivAnon | Mman.MAP_FIXED, B);
        MapAnon(2 * P, RW, PrivAnon | Mman.MAP_FIXED, B + 4 * P);
        Assert.Equal(2, Mm.MapCount);
        Assert.Equal((long)a, T.Mremap(a, 2 * P, 4 * P, 0));
        Assert.Equal(1, Mm.MapCount);
        Assert.Equal(B + 6 * P, Vmas()[0].End);
    }

    [Fact]
    public void MoveOfPartOfAVmaSplitsTheRest()
    {
        var a = MapDev(4 * P);
        Write(a + P, 11);
        var n = T.Mremap(a + P, P, P, Mman.MREMAP_MAYMOVE | Mman.MREMAP_FIXED, B + 0x100000);
        Assert.Equal((long)(B + 0x100000), n);
        Assert.Equal(11UL, Read(B + 0x100000));

        // copy_vma opens the new VMA; the unmap of the old range splits head and tail (2 opens) and closes the middle.
        Assert.Equal((3, 1), (_dev.Opens, _dev.Closes));
        Assert.Equal(3, Mm.MapCount);
        AssertInvariants();
    }

    [Fact]
    public void MaySplitIsConsultedBeforeAMove()
    {
        var a = MapDev(4 * P);
        _dev.MaySplitError = -(int)Errno.EINVAL;
        Assert.Equal(E(Errno.EINVAL), T.Mremap(a + P, P, P, Mman.MREMAP_MAYMOVE | Mman.MREMAP_FIXED, B + 0x100000));
        Assert.Equal((0, 0), (_dev.Opens, _dev.Closes));

        // A whole-VMA move needs no split.
        Assert.Equal((long)(B + 0x100000), T.Mremap(a, 4 * P, 4 * P, Mman.MREMAP_MAYMOVE | Mman.MREMAP_FIXED, B + 0x100000));
    }

    [Fact]
    public void VmOpsMremapErrorMovesBackAndUnmapsTheCopy()
    {
        var a = MapDev(2 * P);
        Write(a, 12);
        _dev.MremapError = -(int)Errno.EBUSY;
        Assert.Equal(E(Errno.EBUSY), T.Mremap(a, 2 * P, 2 * P, Mman.MREMAP_MAYMOVE | Mman.MREMAP_FIXED, B + 0x100000));
        Assert.Equal((1, 1), (_dev.Opens, _dev.Closes));
        Assert.Equal(1, Mm.MapCount);
        Assert.Equal(12UL, Read(a));
        Assert.Equal(Signal.SIGSEGV, T.UserRead(B + 0x100000).Signal!.Signo);
        AssertInvariants();
    }

    /// <summary>A file whose ->get_unmapped_area refuses every address but one (as bpf arena's does).</summary>
    private sealed class PinnedFile(ulong only) : FileOperations
    {
        public int Closes { get; private set; }

        public override int Mmap(VfsFile file, VmArea vma)
        {
            vma.VmOps = new PinnedOps(this);
            vma.VmFlagsSet(VmFlags.VM_DONTEXPAND);
            return 0;
        }

        public override long GetUnmappedArea(MmStruct mm, VfsFile file, ulong addr, ulong len, ulong pgoff, ulong flags) =>
            addr == only ? (long)addr : -(long)Errno.EINVAL;

        private sealed class PinnedOps(PinnedFile f) : VmOperations
        {
            public override void Close(VmArea vma) => f.Closes++;
        }
    }

    [Fact]
    public void MoveAsksTheFilesGetUnmappedAreaFirst()
    {
        var f = new PinnedFile(B);
        var fd = M.Vm.AnonInodeGetFd(T, "pinned", f, null, OpenFlags.O_RDWR);
        Assert.Equal((long)B, T.Mmap(B, 2 * P, RW, Mman.MAP_SHARED | Mman.MAP_FIXED, fd));
        Assert.Equal(E(Errno.EINVAL), T.Mremap(B, 2 * P, 2 * P, Mman.MREMAP_MAYMOVE | Mman.MREMAP_FIXED, B + 0x100000));
        Assert.Equal(E(Errno.EINVAL), T.Mremap(B, 2 * P, 2 * P, Mman.MREMAP_MAYMOVE | Mman.MREMAP_DONTUNMAP));
        Assert.Equal(0, f.Closes);
        Assert.Equal(1, Mm.MapCount);
    }

    [Fact]
    public void DontunmapKeepsTheOldVmaEmpty()
    {
        var a = MapAnon(2 * P, RW, PrivAnon | Mman.MAP_FIXED, B);
        Write(a, 21);
        var n = (ulong)T.Mremap(a, 2 * P, 2 * P, Mman.MREMAP_MAYMOVE | Mman.MREMAP_DONTUNMAP);
        Assert.Equal(21UL, Read(n));
        Assert.Equal(0UL, Read(a));
        Assert.Equal(2, Mm.MapCount);
        AssertInvariants();
    }

    [Fact]
    public void SharedAnonymousGrowthFaultsSigbusBeyondTheFile()
    {
        var a = MapAnon(P, RW, SharedAnon | Mman.MAP_FIXED, B);
        Assert.Equal((long)a, T.Mremap(a, P, 2 * P, 0));
        Assert.Equal(new SigInfo(Signal.SIGBUS, SiCode.BUS_ADRERR, a + P + 8), T.UserRead(a + P + 8).Signal);
    }

    /// <summary>
    /// The mremap syscall of 6.12 ends with <c>if (locked &amp;&amp; new_len &gt; old_len) mm_populate(new_addr + old_len,
    /// new_len - old_len)</c>: growing a VM_LOCKED mapping (in place or by a move) prefaults the new part.
    /// </summary>
    [Fact]
    public void GrowingALockedMappingPopulatesTheNewPart()
    {
        var a = (ulong)T.Mmap(B, P, RW, PrivAnon | Mman.MAP_FIXED | Mman.MAP_LOCKED);
        Assert.Equal(1L, Mm.Pgd.NrValid);

        // In place.
        Assert.Equal((long)a, T.Mremap(a, P, 3 * P));
        Assert.Equal(3L, Mm.Pgd.NrValid);

        // By a move: a blocker right after forces it.
        MapAnon(P, RW, PrivAnon | Mman.MAP_FIXED, a + 3 * P);
        var n = T.Mremap(a, 3 * P, 5 * P, Mman.MREMAP_MAYMOVE);
        Assert.True(n > 0 && (ulong)n != a);
        for (var off = 0UL; off < 5 * P; off += P)
        {
            Assert.True(Mm.Pgd.Get((ulong)n + off).IsValid);
        }

        Assert.Equal(5L, Mm.Pgd.NrValid);
        AssertInvariants();
    }
}
