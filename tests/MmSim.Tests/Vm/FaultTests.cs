using MmSim.Kernel;
using MmSim.Mm;
using MmSim.Vm;
using Xunit;

namespace MmSim.Tests.Vm;

/// <summary>Page faults, signals, user and kernel accessors, and the driver helpers (vm_insert_page and friends).</summary>
public sealed class FaultTests : VmFixture
{
    /// <summary>A driver whose ->fault returns a chosen result, or inserts pages itself.</summary>
    private sealed class FaultDriver : FileOperations
    {
        public VmFaultResult Result { get; set; }

        public long InsertPage { get; set; } = -1;

        public List<VmArea> Vmas { get; } = [];

        /// <summary>The vmf->flags of every ->fault call.</summary>
        public List<FaultFlags> Calls { get; } = [];

        /// <summary>How many calls answer VM_FAULT_RETRY before <see cref="Result"/> is returned.</summary>
        public int Retries { get; set; }

        public override int Mmap(VfsFile file, VmArea vma)
        {
            vma.VmOps = new Ops(this);
            Vmas.Add(vma);
            return 0;
        }

        private sealed class Ops(FaultDriver d) : VmOperations
        {
            public override VmFaultResult Fault(VmFault vmf)
            {
                d.Calls.Add(vmf.Flags);
                if (d.Retries > 0)
                {
                    d.Retries--;
                    return VmFaultResult.VM_FAULT_RETRY;
                }

                if (d.InsertPage >= 0)
                {
                    return vmf.Vma.VmMm.VmInsertPage(vmf.Vma, vmf.Address, d.InsertPage) == 0
                        ? VmFaultResult.VM_FAULT_NOPAGE
                        : VmFaultResult.VM_FAULT_SIGBUS;
                }

                return d.Result;
            }

            public override string? Name(VmArea vma) => "[driver]";
        }
    }

    private (FaultDriver Driver, ulong Addr) MapDriver(ulong prot = RW, ulong len = 2 * P)
    {
        var d = new FaultDriver();
        var fd = M.Vm.AnonInodeGetFd(T, "driver", d, null, OpenFlags.O_RDWR);
        return (d, (ulong)T.Mmap(0, len, prot, Mman.MAP_SHARED, fd));
    }

    [Fact]
    public void FaultFlagsAreTheDefaultAndARetryKeepsAllowRetry()
    {
        // x86 do_user_addr_fault(): flags = FAULT_FLAG_DEFAULT (ALLOW_RETRY | KILLABLE | INTERRUPTIBLE), then USER and
        // WRITE; on VM_FAULT_RETRY only FAULT_FLAG_TRIED is added before "goto retry" (unbounded since 5.7).
        var (d, a) = MapDriver();
        d.Result = VmFaultResult.VM_FAULT_SIGBUS;
        d.Retries = 2;
        var r = T.UserWrite(a, 8, 1);
        Assert.Equal(new SigInfo(Signal.SIGBUS, SiCode.BUS_ADRERR, a), r.Signal);
        const FaultFlags first = FaultFlags.FAULT_FLAG_ALLOW_RETRY | FaultFlags.FAULT_FLAG_KILLABLE |
            FaultFlags.FAULT_FLAG_INTERRUPTIBLE | FaultFlags.FAULT_FLAG_USER | FaultFlags.FAULT_FLAG_WRITE;
        Assert.Equal([first, first | FaultFlags.FAULT_FLAG_TRIED, first | FaultFlags.FAULT_FLAG_TRIED], d.Calls);
    }

    [Fact]
    public void ReadFaultMapsTheZeroPageAndWriteAllocates()
    {
        var a = MapAnon(P);
        var free = M.PageAlloc.NrFreePages;
        Assert.Equal(0UL, Read(a));
        Assert.Equal(PageTable.ZERO_PFN, Mm.Pgd.Get(a).Pfn);
        Assert.Equal(free, M.PageAlloc.NrFreePages);
        Write(a, 1);
        var pfn = Mm.Pgd.Get(a).Pfn;
        Assert.True(pfn >= 0);
        Assert.Equal((1, 1), (M.PageAlloc.PageRefCount(pfn), (int)M.PageAlloc.Frame(pfn).Mapcount));
        Assert.True(M.PageAlloc.Frame(pfn).Has(PageFlags.Anon));
        Assert.Equal(free - 1, M.PageAlloc.NrFreePages);
    }

    [Fact]
    public void AccessesCrossingPagesFaultBothAndFailAtomically()
    {
        var a = MapAnon(2 * P);
        Assert.True(T.UserWrite(a + P - 4, 8, 0x1122334455667788).Ok);
        Assert.Equal(0x55667788UL, T.UserRead(a + P - 4, 4).Value);
        Assert.Equal(0x11223344UL, T.UserRead(a + P, 4).Value);

        // The second page is read-only: the store faults there and nothing is written.
        Assert.Equal(0, T.Mprotect(a + P, P, R));
        var r = T.UserWrite(a + P - 2, 4, 0xffffffff);
        Assert.Equal(new SigInfo(Signal.SIGSEGV, SiCode.SEGV_ACCERR, a + P), r.Signal);
        Assert.Equal(0x1122334455667788UL, T.UserRead(a + P - 4, 8).Value);
    }

    [Fact]
    public void NonCanonicalAddressIsAGeneralProtectionFault()
    {
        var r = T.UserRead(0x0000800000000000);
        Assert.Equal(new SigInfo(Signal.SIGSEGV, SiCode.SI_KERNEL, 0), r.Signal);
        Assert.Equal(Signal.SIGSEGV, T.UserRead(0xffff800000000000).Signal!.Signo);
    }

    [Fact]
    public void ExecOnlyAndWriteOnlyMappingsAreReadable()
    {
        var x = MapAnon(P, Mman.PROT_EXEC);
        Assert.True(T.UserRead(x).Ok);
        var w = MapAnon(P, Mman.PROT_WRITE);
        Assert.True(T.UserRead(w).Ok);
        Assert.True(T.UserWrite(w, 8, 1).Ok);
    }

    [Fact]
    public void FaultResultsBecomeTheKernelsSignals()
    {
        var (d, a) = MapDriver();
        d.Result = VmFaultResult.VM_FAULT_SIGBUS;
        Assert.Equal(new SigInfo(Signal.SIGBUS, SiCode.BUS_ADRERR, a + 5), T.UserRead(a + 5, 1).Signal);
        d.Result = VmFaultResult.VM_FAULT_SIGSEGV;
        Assert.Equal(new SigInfo(Signal.SIGSEGV, SiCode.SEGV_MAPERR, a), T.UserWrite(a, 8, 1).Signal);
        d.Result = VmFaultResult.VM_FAULT_HWPOISON;
        Assert.Equal(new SigInfo(Signal.SIGBUS, SiCode.BUS_MCEERR_AR, a), T.UserRead(a).Signal);
        d.Result = VmFaultResult.VM_FAULT_OOM;
        var r = T.UserRead(a);
        Assert.True(r.Oom);
        Assert.Null(r.Signal);
        Assert.Equal(3, T.Signals.Count);
        Assert.Empty(M.Reports.Warnings);
    }

    [Fact]
    public void HandlerReturningSuccessWithoutAPageWarns()
    {
        var (d, a) = MapDriver();
        d.Result = VmFaultResult.None;
        Assert.Equal(Signal.SIGBUS, T.UserRead(a).Signal!.Signo);
        Assert.Single(M.Reports.Warnings);
    }

    [Fact]
    public void NopageHandlerInsertsThePteItself()
    {
        var page = M.PageAlloc.AllocPage(Gfp.GFP_KERNEL | Gfp.__GFP_ZERO);
        M.PageAlloc.Contents.Write(page)[0] = 0x7f;
        var (d, a) = MapDriver();
        d.InsertPage = page;
        Assert.Equal(0x7fUL, T.UserRead(a, 1).Value);
        Assert.True(d.Vmas[0].VmFlags.Has(VmFlags.VM_MIXEDMAP));
        Assert.Equal((2, 1), (M.PageAlloc.PageRefCount(page), (int)M.PageAlloc.Frame(page).Mapcount));
        Assert.Contains("anon_inode:driver", ProcMaps.Show(T), StringComparison.Ordinal);
        AssertInvariants();
        T.Exit();
        Assert.Equal(1, M.PageAlloc.PageRefCount(page));
        M.PageAlloc.PutPage(page);
    }

    [Fact]
    public void NoFaultHandlerIsSigbus()
    {
        var f = new MmapOnly();
        var fd = M.Vm.AnonInodeGetFd(T, "nofault", f, null, OpenFlags.O_RDWR);
        var a = (ulong)T.Mmap(0, P, RW, Mman.MAP_SHARED, fd);
        Assert.Equal(Signal.SIGBUS, T.UserRead(a).Signal!.Signo);
    }

    private sealed class MmapOnly : FileOperations
    {
        public override int Mmap(VfsFile file, VmArea vma) => 0;
    }

    [Fact]
    public void MemcgLimitMakesAnonymousFaultsOom()
    {
        var m = new Machine(new MachineConfig { RamBytes = 16UL << 20, MemcgLimit = 8 * P });
        var t = m.Tasks.Spawn("p");
        var a = (ulong)t.Mmap(0, 16 * P, RW, PrivAnon);
        var written = 0;
        while (t.UserWrite(a + ((ulong)written * P), 8, 1).Ok)
        {
            written++;
        }

        Assert.InRange(written, 4, 8);
        Assert.True(t.UserWrite(a + ((ulong)written * P), 8, 1).Oom);
        Assert.Empty(t.Signals);
        Assert.Equal(-(int)Errno.EFAULT, t.PutUser(a + ((ulong)written * P), 8, 1));
        Assert.True(m.Memcg.Usage <= 8 * P);
    }

    [Fact]
    public void CopyFromAndToUserReturnTheBytesNotCopied()
    {
        var a = MapAnon(2 * P);
        Assert.Equal(0, T.Munmap(a + P, P));
        Span<byte> buf = stackalloc byte[16];
        Assert.Equal(0UL, T.CopyToUser(a + P - 16, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16]));
        Assert.Equal(0UL, T.CopyFromUser(buf, a + P - 16));
        Assert.Equal(16, buf[15]);
        Assert.Equal(8UL, T.CopyFromUser(buf, a + P - 8));
        Assert.Equal(-(int)Errno.EFAULT, T.GetUser(a + P, 4, out _));
        Assert.Equal(0, T.GetUser(a, 1, out var v));
        Assert.Equal(0UL, v);
        Assert.Equal(16UL, T.CopyFromUser(buf, K.TASK_SIZE));
        Assert.Empty(T.Signals);
    }

    [Fact]
    public void KernelWriteToReadOnlyMappingIsEfault()
    {
        var a = MapAnon(P, R);
        Assert.Equal(-(int)Errno.EFAULT, T.PutUser(a, 8, 1));
        Assert.Empty(T.Signals);
    }

    [Fact]
    public void VmInsertPageErrors()
    {
        var (d, a) = MapDriver();
        var vma = d.Vmas[0];
        var page = M.PageAlloc.AllocPage(Gfp.GFP_KERNEL);
        Assert.Equal(-(int)Errno.EFAULT, Mm.VmInsertPage(vma, a + 2 * P, page));
        Assert.Equal(-(int)Errno.EFAULT, Mm.VmInsertPage(vma, a - P, page));
        var free = M.PageAlloc.AllocPage(Gfp.GFP_KERNEL);
        M.PageAlloc.PutPage(free);
        Assert.Equal(-(int)Errno.EINVAL, Mm.VmInsertPage(vma, a, free));
        Assert.Equal(0, Mm.VmInsertPage(vma, a, page));
        Assert.Equal(-(int)Errno.EBUSY, Mm.VmInsertPage(vma, a, page));

        // An anonymous page cannot be inserted.
        var anon = MapAnon(P);
        Write(anon, 1);
        Assert.Equal(-(int)Errno.EINVAL, Mm.VmInsertPage(vma, a + P, Mm.Pgd.Get(anon).Pfn));
        AssertInvariants();
        Assert.Equal(0, T.Munmap(a, 2 * P));
        Assert.Equal(1, M.PageAlloc.PageRefCount(page));
    }

    /// <summary>
    /// vm_insert_page() of 6.12: the range check, then VM_MIXEDMAP is set, and only then insert_page() ->
    /// validate_page_before_insert() looks at the page (the refcount check moved there in 6.11). A refused page
    /// leaves the VMA VM_MIXEDMAP.
    /// </summary>
    [Fact]
    public void VmInsertPageSetsMixedmapBeforeValidatingThePage()
    {
        var (d, a) = MapDriver();
        var vma = d.Vmas[0];
        var free = M.PageAlloc.AllocPage(Gfp.GFP_KERNEL);
        M.PageAlloc.PutPage(free);
        Assert.False(vma.VmFlags.Has(VmFlags.VM_MIXEDMAP));
        Assert.Equal(-(int)Errno.EFAULT, Mm.VmInsertPage(vma, a + 2 * P, free));
        Assert.False(vma.VmFlags.Has(VmFlags.VM_MIXEDMAP));
        Assert.Equal(-(int)Errno.EINVAL, Mm.VmInsertPage(vma, a, free));
        Assert.True(vma.VmFlags.Has(VmFlags.VM_MIXEDMAP));
        Assert.False(Mm.Pgd.Get(a).IsValid);
    }

    [Fact]
    public void VmInsertPageOnAPfnmapVmaIsTheKernelsBugOn()
    {
        var (d, a) = MapDriver();
        var page = M.PageAlloc.AllocPage(Gfp.GFP_KERNEL);
        Assert.Equal(0, Mm.RemapPfnRange(d.Vmas[0], a, page, P));
        Assert.Equal(-(int)Errno.EINVAL, Mm.VmInsertPage(d.Vmas[0], a + P, page));
        Assert.Single(M.Reports.Warnings);
    }

    [Fact]
    public void RemapPfnRangeMapsSpecialPtesWithoutRefcounts()
    {
        var (d, a) = MapDriver();
        var page = M.PageAlloc.AllocPages(Gfp.GFP_KERNEL, 1);
        M.PageAlloc.Contents.Write(page + 1)[0] = 9;
        Assert.Equal(0, Mm.RemapPfnRange(d.Vmas[0], a, page, 2 * P));
        Assert.True(d.Vmas[0].VmFlags.Has(VmFlags.VM_PFNMAP | VmFlags.VM_IO | VmFlags.VM_DONTEXPAND));
        Assert.Equal(9UL, T.UserRead(a + P, 1).Value);
        Assert.Equal(1, M.PageAlloc.PageRefCount(page));
        Assert.Equal(0, M.PageAlloc.Frame(page).Mapcount);
        Assert.Equal(E(Errno.EFAULT), T.Mremap(a, 2 * P, 3 * P, Mman.MREMAP_MAYMOVE));

        // zap_vma_ptes() only for PFN maps, only inside the VMA.
        Mm.ZapVmaPtes(d.Vmas[0], a, 4 * P);
        Assert.True(Mm.Pgd.Get(a).IsValid);
        Mm.ZapVmaPtes(d.Vmas[0], a, P);
        Assert.False(Mm.Pgd.Get(a).IsValid);
        AssertInvariants();
    }

    /// <summary>
    /// remap_pfn_range_internal(): WARN_ON_ONCE(!PAGE_ALIGNED(addr)) and -EINVAL before anything else (the VMA's flags
    /// are not touched).
    /// </summary>
    [Fact]
    public void RemapPfnRangeAtAnUnalignedAddressWarnsAndIsEinval()
    {
        var (d, a) = MapDriver();
        var page = M.PageAlloc.AllocPage(Gfp.GFP_KERNEL);
        var flags = d.Vmas[0].VmFlags;
        Assert.Equal(-(int)Errno.EINVAL, Mm.RemapPfnRange(d.Vmas[0], a + 8, page, P));
        Assert.Single(M.Reports.Warnings);
        Assert.Equal(flags, d.Vmas[0].VmFlags);
        Assert.False(Mm.Pgd.Get(a).IsValid);
    }

    [Fact]
    public void RemapPfnRangeOfACowMappingMustCoverIt()
    {
        var d = new FaultDriver();
        var fd = M.Vm.AnonInodeGetFd(T, "cow", d, null, OpenFlags.O_RDWR);
        var a = (ulong)T.Mmap(0, 2 * P, RW, Mman.MAP_PRIVATE, fd);
        var page = M.PageAlloc.AllocPages(Gfp.GFP_KERNEL, 1);
        Assert.Equal(-(int)Errno.EINVAL, Mm.RemapPfnRange(d.Vmas[0], a, page, P));
        Assert.Equal(0, Mm.RemapPfnRange(d.Vmas[0], a, page, 2 * P));
        Assert.Equal((ulong)page, d.Vmas[0].VmPgoff);

        // A write to a private PFN map copies the page.
        Write(a, 4);
        Assert.NotEqual(page, Mm.Pgd.Get(a).Pfn);
        AssertInvariants();
    }

    [Fact]
    public void ZapOnAFreedVmaIsAKasanReport()
    {
        var (d, a) = MapDriver();
        var vma = d.Vmas[0];
        Assert.Equal(0, T.Munmap(a, 2 * P));
        Mm.ZapPageRangeSingle(vma, a, P);
        Assert.Single(M.Reports.Kasan);
        Assert.Contains("zap_page_range_single", M.Reports.Kasan[0].ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void ZapPageRangeSingleDropsMappingsThatRefaultLater()
    {
        var t = new TestDevice(M);
        var fd = t.Open(T, OpenFlags.O_RDWR);
        var a = (ulong)T.Mmap(0, 2 * P, RW, Mman.MAP_SHARED, fd);
        Write(a, 6);
        var vma = Mm.MmMt.VmaLookup(a)!;
        var pfn = Mm.Pgd.Get(a).Pfn;
        Assert.Equal(2, M.PageAlloc.PageRefCount(pfn));
        Mm.ZapPageRangeSingle(vma, a - P, 2 * P);
        Assert.False(Mm.Pgd.Get(a).IsValid);
        Assert.Equal(1, M.PageAlloc.PageRefCount(pfn));
        Assert.Equal(6UL, Read(a));
        AssertInvariants();
    }

    [Fact]
    public void VmOpsNameNamesAVmaWithoutAFile()
    {
        var (d, a) = MapDriver();
        var vma = d.Vmas[0];
        Assert.Contains("anon_inode:driver", ProcMaps.Show(T), StringComparison.Ordinal);
        var file = vma.VmFile!;
        vma.GetType().GetProperty(nameof(VmArea.VmFile))!.SetValue(vma, null);
        Assert.EndsWith(" [driver]\n", ProcMaps.Show(T), StringComparison.Ordinal);
        vma.GetType().GetProperty(nameof(VmArea.VmFile))!.SetValue(vma, file);
        _ = a;
    }
}
