# vmalloc from a scenario: addresses, guard pages, lazy purge, /proc/vmallocinfo, meminfo.
machine ram=64M cpus=2
free = stat free_pages
a = vmalloc size=3p => 0xffffc90000000000
b = vmalloc_user size=5000 => a + 4p                  # 3 pages + the guard page
stat vmalloc_pages => 5
show vmallocinfo
vfree a
c = vmalloc size=1p => b + 3p                         # a's range is lazy: not reused yet
show vmallocinfo
purge_vmap_area_lazy
d = vmalloc size=1p => a                              # reused after the purge
vfree a + 8 => WARN                              # unaligned: two WARNs, nothing freed
vfree a + 4K                                     # d's guard page: the containment lookup frees d
vfree a => WARN                                  # already freed: nonexistent vm area
vfree b
vfree c
vfree 0
check
vmalloc size=0 => WARN                                # WARN_ON_ONCE(!size), NULL
vmalloc size=1G => null                               # more than totalram: warn_alloc only
k = kvmalloc size=4K => any                           # kmalloc: no vmalloc area
kvfree k
m = bpf_map_area_mmapable_alloc size=2p => any
bpf_map_area_free m
purge_vmap_area_lazy
stat vmalloc_pages => 0
stat free_pages => free
check
