using MmSim.Kernel;
using MmSim.Vm;
using Xunit;

namespace MmSim.Tests.Vm;

/// <summary>remap_vmalloc_range into real VMAs: a device whose ->mmap maps a vmalloc_user buffer, as array maps do.</summary>
public sealed class VmallocMmapTests : VmFixture
{
    /// <summary>A file whose ->mmap maps <see cref="Buffer"/> with remap_vmalloc_range(vma, buffer, vma->vm_pgoff).</summary>
    private sealed class VmallocBufferFile(Machine m, ulong buffer) : FileOperations
    {
        public ulong Buffer => buffer;

        public override int Mmap(VfsFile file, VmArea vma) =>
            m.Vmalloc.RemapVmallocRange(new VmaUserPageInserter(vma), buffer, vma.VmPgoff);
    }

    private int OpenBuffer(ulong buffer) =>
        M.Vm.AnonInodeGetFd(T, "vmalloc_buffer", new VmallocBufferFile(M, buffer), null, OpenFlags.O_RDWR);

    [Fact]
    public void UserAndKernelShareTheVmallocPages()
    {
        var buf = M.Vmalloc.VmallocUser(4 * P, "buffer_alloc");
        var fd = OpenBuffer(buf);
        var u = (ulong)T.Mmap(0, 4 * P, RW, Mman.MAP_SHARED, fd, 0);
        Assert.True((long)u > 0);
        var vma = Vmas().Single();
        Assert.True((vma.Flags & VmFlags.VM_DONTEXPAND) != 0 && (vma.Flags & VmFlags.VM_DONTDUMP) != 0 && (vma.Flags & VmFlags.VM_MIXEDMAP) != 0);

        Assert.True(M.KernelMem.WriteValue(buf + (2 * P) + 16, 8, 0xabcdef, "kernel"));
        Assert.Equal(0xabcdefUL, Read(u + (2 * P) + 16));
        Write(u + (3 * P), 77);
        Assert.True(M.KernelMem.ReadValue(buf + (3 * P), 8, "kernel", out var v));
        Assert.Equal(77UL, v);

        // VM_DONTEXPAND: growing the mapping fails.
        Assert.Equal(E(Errno.EFAULT), T.Mremap(u, 4 * P, 5 * P));
        AssertInvariants();

        // The map is freed while mapped: the PTEs' references keep the pages; unmapping releases them.
        M.Vmalloc.Vfree(buf);
        Assert.Equal(77UL, Read(u + (3 * P)));
        Assert.Equal(0, (int)T.Munmap(u, 4 * P));
        Assert.Equal(0, (int)T.Close(fd));
        M.SyscallExit();
        M.Vmalloc.PurgeVmapAreaLazy();
        AssertInvariants();
        Assert.Equal(FreeAtStart, M.PageAlloc.NrFreePages);
    }

    [Fact]
    public void AnOffsetOrLengthBeyondTheBufferFailsTheMmap()
    {
        var buf = M.Vmalloc.VmallocUser(2 * P, "buffer_alloc");
        var fd = OpenBuffer(buf);
        Assert.Equal(E(Errno.EINVAL), T.Mmap(0, 3 * P, RW, Mman.MAP_SHARED, fd, 0));
        Assert.Equal(E(Errno.EINVAL), T.Mmap(0, 2 * P, RW, Mman.MAP_SHARED, fd, P));
        var u = T.Mmap(0, P, RW, Mman.MAP_SHARED, fd, P);
        Assert.True(u > 0);
        Assert.True(M.KernelMem.WriteValue(buf + P, 8, 5, "kernel"));
        Assert.Equal(5UL, Read((ulong)u));
        AssertInvariants();
    }

    [Fact]
    public void APlainVmallocBufferCannotBeMapped()
    {
        var buf = M.Vmalloc.Vzalloc(P, "no_usermap");
        var fd = OpenBuffer(buf);
        Assert.Equal(E(Errno.EINVAL), T.Mmap(0, P, RW, Mman.MAP_SHARED, fd, 0));
        Assert.Empty(Vmas());
        AssertInvariants();
    }
}
