using MmSim.Kernel;

namespace MmSim.Bpf;

public sealed partial class BpfArena
{
    /// <summary>
    /// bpf_arena_alloc_pages(map, addr, page_cnt, node_id, flags): the user address of page_cnt new zeroed pages
    /// mapped in the kernel area (not in any user VMA), or 0 (NULL) on any failure.
    /// </summary>
    public static ulong BpfArenaAllocPages(BpfMap map, ulong addr, uint pageCnt, int nodeId, ulong flags)
    {
        ArgumentNullException.ThrowIfNull(map);
        if (map.MapType != BpfMapType.BPF_MAP_TYPE_ARENA || flags != 0 || pageCnt == 0 || map is not BpfArena arena)
        {
            return 0;
        }

        return arena.ArenaAllocPages(addr, pageCnt, nodeId);
    }

    /// <summary>bpf_arena_free_pages(map, ptr, page_cnt): no-op for a non-arena map, page_cnt 0 or a NULL ptr.</summary>
    public static void BpfArenaFreePages(BpfMap map, ulong ptr, uint pageCnt)
    {
        ArgumentNullException.ThrowIfNull(map);
        if (map.MapType != BpfMapType.BPF_MAP_TYPE_ARENA || pageCnt == 0 || ptr == 0 || map is not BpfArena arena)
        {
            return;
        }

        arena.ArenaFreePages(ptr, pageCnt);
    }

    // clear_lo32()
    private static ulong ClearLo32(ulong val) => val & ~(ulong)uint.MaxValue;

    /// <summary>
    /// arena_alloc_pages(): page_cnt &gt; page_cnt_max → NULL; a hint must be page aligned and leave room
    /// (compute_pgoff, low 32 bits only); kvcalloc the page array; mtree_insert_range at the hint or
    /// mtree_alloc_range lowest first; bpf_map_alloc_pages (memcg charged); vm_area_map_pages; each failure undone.
    /// </summary>
    public ulong ArenaAllocPages(ulong uaddr, long pageCnt, int nodeId)
    {
        _ = nodeId; // one node: alloc_pages_node(nid) is alloc_pages
        var pageCntMax = PageCntMax;
        var kernVmStart = KernVmStart;
        long pgoff = 0;
        if (pageCnt > pageCntMax)
        {
            return 0;
        }

        if (uaddr != 0)
        {
            if ((uaddr & ~K.PAGE_MASK) != 0)
            {
                return 0;
            }

            pgoff = ComputePgoff(uaddr);
            if (pgoff > pageCntMax - pageCnt)
            {
                return 0; // the requested address is outside of the user VMA
            }
        }

        // kvcalloc(page_cnt, sizeof(struct page *), GFP_KERNEL)
        var pagesArray = M.Vmalloc.Kvzalloc((ulong)pageCnt * 8, Gfp.GFP_KERNEL, "arena_alloc_pages");
        if (pagesArray == 0)
        {
            return 0;
        }

        int ret;
        if (uaddr != 0)
        {
            ret = Mt.MtreeInsertRange((ulong)pgoff, (ulong)(pgoff + pageCnt - 1), this, Gfp.GFP_KERNEL);
        }
        else
        {
            ret = Mt.MtreeAllocRange(out var start, this, (ulong)pageCnt, 0, (ulong)(pageCntMax - 1), Gfp.GFP_KERNEL);
            pgoff = (long)start;
        }

        if (ret != 0)
        {
            M.Vmalloc.Kvfree(pagesArray, "arena_alloc_pages");
            Tracepoints.bpf_arena_alloc_pages(M.Log.Bpf, Id, uaddr, pageCnt, 0);
            return 0;
        }

        Span<long> pages = pageCnt <= 64 ? stackalloc long[64] : new long[pageCnt];
        pages = pages[..(int)pageCnt];
        if (BpfMapAllocPages(pages) != 0)
        {
            return AllocOut(pgoff, pagesArray, uaddr, pageCnt);
        }

        var uaddr32 = unchecked((uint)(UserVmStart + ((ulong)pgoff * K.PAGE_SIZE)));
        var kstart = kernVmStart + uaddr32;
        var kend = kstart + ((ulong)pageCnt * K.PAGE_SIZE);
        if (M.Vmalloc.VmAreaMapPages(KernVm, kstart, kend, pages) != 0)
        {
            // Pages mapped before the failure stay in the kernel page table, as in the kernel.
            foreach (var p in pages)
            {
                M.PageAlloc.FreePages(p, 0, "arena_alloc_pages");
            }

            return AllocOut(pgoff, pagesArray, uaddr, pageCnt);
        }

        NrPages += pageCnt;
        M.Vmalloc.Kvfree(pagesArray, "arena_alloc_pages");
        var result = ClearLo32(UserVmStart) + uaddr32;
        Tracepoints.bpf_arena_alloc_pages(M.Log.Bpf, Id, uaddr, pageCnt, result);
        return result;
    }

    // arena_alloc_pages()'s "out:" label: mtree_erase(pgoff) (the whole range is one entry), kvfree, NULL.
    private ulong AllocOut(long pgoff, ulong pagesArray, ulong uaddr, long pageCnt)
    {
        Mt.MtreeErase((ulong)pgoff);
        M.Vmalloc.Kvfree(pagesArray, "arena_alloc_pages");
        Tracepoints.bpf_arena_alloc_pages(M.Log.Bpf, Id, uaddr, pageCnt, 0);
        return 0;
    }

    // bpf_map_alloc_pages(): one accounted zeroed page at a time; on failure the earlier ones are freed.
    private int BpfMapAllocPages(Span<long> pages)
    {
        for (var i = 0; i < pages.Length; i++)
        {
            var pg = M.PageAlloc.AllocPage(Gfp.GFP_KERNEL | Gfp.__GFP_ZERO | Gfp.__GFP_ACCOUNT, "bpf_map_alloc_pages");
            if (pg >= 0)
            {
                pages[i] = pg;
                continue;
            }

            for (var j = 0; j < i; j++)
            {
                M.PageAlloc.FreePages(pages[j], 0, "bpf_map_alloc_pages");
            }

            return -(int)Errno.ENOMEM;
        }

        return 0;
    }

    // zap_pages(): zap_page_range_single() on every VMA of the list (through vml->vma, which may dangle on 6.12.0).
    private void ZapPages(ulong uaddr, long pageCnt)
    {
        foreach (var vml in _vmaList)
        {
            var vma = vml.Vma;
            vma.VmMm.ZapPageRangeSingle(vma, uaddr, K.PAGE_SIZE * (ulong)pageCnt);
        }
    }

    /// <summary>
    /// arena_free_pages(): low 32 bits, rounded down to a page; clipped to user_vm_end; the range is cleared in the
    /// maple tree, user PTEs are zapped (in bulk for more than one page, else only if the page is mapped), kernel
    /// PTEs removed and the pages freed.
    /// </summary>
    public void ArenaFreePages(ulong ptr, long pageCnt)
    {
        var uaddr = (ulong)(uint)ptr & K.PAGE_MASK;
        var fullUaddr = ClearLo32(UserVmStart) + uaddr;
        var uaddrEnd = Math.Min(UserVmEnd, fullUaddr + ((ulong)pageCnt << K.PAGE_SHIFT));
        if (fullUaddr >= uaddrEnd)
        {
            return;
        }

        pageCnt = (long)((uaddrEnd - fullUaddr) >> K.PAGE_SHIFT);
        var pgoff = ComputePgoff(uaddr);
        Mt.MtreeStoreRange((ulong)pgoff, (ulong)(pgoff + pageCnt - 1), null, Gfp.GFP_KERNEL);
        Tracepoints.bpf_arena_free_pages(M.Log.Bpf, Id, fullUaddr, pageCnt);
        if (pageCnt > 1)
        {
            ZapPages(fullUaddr, pageCnt); // bulk zap if multiple pages are freed
        }

        var kaddr = KernVmStart + uaddr;
        for (long i = 0; i < pageCnt; i++, kaddr += K.PAGE_SIZE, fullUaddr += K.PAGE_SIZE)
        {
            var page = M.Vmalloc.VmallocToPage(kaddr);
            if (page < 0)
            {
                continue;
            }

            if (pageCnt == 1 && M.PageAlloc.Frame(page).Mapcount > 0)
            {
                ZapPages(fullUaddr, 1); // page_mapped(): some user process maps it
            }

            M.Vmalloc.VmAreaUnmapPages(KernVm, kaddr, kaddr + K.PAGE_SIZE);
            M.PageAlloc.FreePages(page, 0, "arena_free_pages");
            NrPages--;
        }
    }
}
