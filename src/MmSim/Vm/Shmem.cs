using MmSim.Kernel;
using MmSim.Mm;

namespace MmSim.Vm;

/// <summary>
/// A page cache (struct address_space of a shmem inode, reduced): pages by offset, each holding one reference for
/// the cache. Faults take another reference per mapping. The pages go back when the file is released.
/// </summary>
public sealed class PageCache
{
    private readonly SortedDictionary<ulong, long> _pages = [];
    private readonly PageAllocator _pa;

    public PageCache(PageAllocator pa, ulong sizePages)
    {
        _pa = pa;
        SizePages = sizePages;
    }

    /// <summary>i_size in pages: faults at or beyond it get SIGBUS.</summary>
    public ulong SizePages { get; set; }

    /// <summary>Pages currently cached.</summary>
    public int Count => _pages.Count;

    /// <summary>The cached pages, by offset (each holds one reference for the cache).</summary>
    public IEnumerable<(ulong Pgoff, long Pfn)> Pages => _pages.Select(p => (p.Key, p.Value));

    /// <summary>
    /// shmem_get_folio() + the fault's get_page(): the page at <paramref name="pgoff"/>, allocated zeroed on first use,
    /// with one extra reference for the caller. -1 when the allocation fails.
    /// </summary>
    public long GetPageForMapping(ulong pgoff)
    {
        if (!_pages.TryGetValue(pgoff, out var pfn))
        {
            pfn = _pa.AllocPage(Gfp.GFP_HIGHUSER_MOVABLE | Gfp.__GFP_ACCOUNT | Gfp.__GFP_ZERO, "shmem_alloc_folio");
            if (pfn < 0)
            {
                return -1;
            }

            _pages.Add(pgoff, pfn);
        }

        _pa.GetPage(pfn);
        return pfn;
    }

    /// <summary>truncate_inode_pages(): drop the cache's reference on every page, in offset order.</summary>
    public void Truncate()
    {
        foreach (var pfn in _pages.Values)
        {
            _pa.PutPage(pfn, "truncate_inode_pages");
        }

        _pages.Clear();
    }

    /// <summary>The ->fault of a page-cache backed mapping: the page at vmf.Pgoff, SIGBUS beyond the size, OOM on failure.</summary>
    public VmFaultResult Fault(VmFault vmf)
    {
        if (vmf.Pgoff >= SizePages)
        {
            return VmFaultResult.VM_FAULT_SIGBUS;
        }

        var pfn = GetPageForMapping(vmf.Pgoff);
        if (pfn < 0)
        {
            return VmFaultResult.VM_FAULT_OOM;
        }

        vmf.Page = pfn;
        return VmFaultResult.None;
    }
}

/// <summary>mm/shmem.c, reduced to what MAP_SHARED|MAP_ANONYMOUS needs: a "dev/zero" file whose pages are shared by
/// every mapping of it (and by fork children, which refault them).</summary>
internal sealed class ShmemFileOperations : FileOperations
{
    public static ShmemFileOperations Instance { get; } = new();

    public override int Mmap(VfsFile file, VmArea vma)
    {
        vma.VmOps = ShmemVmOperations.Instance;
        return 0;
    }

    /// <summary>
    /// shmem_get_unmapped_area() with shmem_huge=never: the mm's allocator (no THP alignment). It matters for mremap
    /// moves of shared anonymous memory, whose vm_file is this file.
    /// </summary>
    public override long GetUnmappedArea(MmStruct mm, VfsFile file, ulong addr, ulong len, ulong pgoff, ulong flags) =>
        len > MmStruct.TaskSize ? Errno.ENOMEM.Neg() : mm.MmGetUnmappedArea(file, addr, len, pgoff, flags);

    public override void Release(VfsFile file) => ((PageCache)file.PrivateData!).Truncate();

    public override bool ReferencesOnlyFromFdsAndVmas => true;
}

/// <summary>shmem_anon_vm_ops: a fault handler and no open/close.</summary>
internal sealed class ShmemVmOperations : VmOperations
{
    public static ShmemVmOperations Instance { get; } = new();

    public override VmFaultResult Fault(VmFault vmf) => ((PageCache)vmf.Vma.VmFile!.PrivateData!).Fault(vmf);
}

public sealed partial class MmStruct
{
    // shmem_zero_setup(): a MAP_SHARED anonymous mapping gets a shmem file of the mapping's size.
    private int ShmemZeroSetup(VmArea vma)
    {
        var size = vma.VmEnd - vma.VmStart;
        if ((vma.VmFlags & VmFlags.VM_NORESERVE) == 0 && SecurityVmEnoughMemory(size >> K.PAGE_SHIFT) != 0)
        {
            return -(int)Errno.ENOMEM;
        }

        var cache = new PageCache(Machine.PageAlloc, size >> K.PAGE_SHIFT);
        var file = Vm.AllocFile(ShmemFileOperations.Instance, FMode.FMODE_READ | FMode.FMODE_WRITE, cache, "/dev/zero (deleted)",
            new Inode(0, 1, Vm.GetNextIno()));
        if (file is null)
        {
            return -(int)Errno.ENOMEM;
        }

        vma.VmFile = file;
        vma.VmOps = ShmemVmOperations.Instance;
        return 0;
    }
}
