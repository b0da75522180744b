# kvmalloc falls back to vmalloc only above PAGE_SIZE, and only for blocking gfp.
machine ram=64M
free = stat free_pages
inject failslab nth=1
kvmalloc size=4K => null                              # size <= PAGE_SIZE: no fallback
inject failslab nth=1
a = kvmalloc size=4K+1 => 0xffffc90000000000        # kmalloc failed: vmalloc, 2 pages
inject failslab nth=1
kvmalloc size=4K+1 gfp=atomic => null               # non-blocking: no fallback
inject off
kvmalloc size=0x80000000 => WARN                      # > INT_MAX: WARN_ON_ONCE, NULL
kvmalloc size=0x80000000 gfp=kernel|nowarn => null
b = kvmalloc size=4M+1 => a + 3p                    # above KMALLOC_MAX_SIZE: vmalloc without the order WARN
show vmallocinfo
kvfree a
kvfree b
bpf_map_area_alloc size=32K => any                    # kmalloc (<= PAGE_SIZE << PAGE_ALLOC_COSTLY_ORDER)
stat vmalloc_pages => 0
purge_vmap_area_lazy
check
