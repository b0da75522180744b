# Map lifetime: fds, VMAs (through their file) and programs hold references; the map goes after the last one.
machine ram=64M cpus=2
spawn p
f0 = stat free_pages
p: m = map_create type=array entries=512 flags=mmapable
p: a = mmap len=1p prot=rw flags=shared fd=m
p: g = prog_load maps=m
show map m
p: write a 42
p: close m                                # the VMA keeps the file (so usercnt stays 1), the program its reference
show map m
g: map_lookup m 0 => 42
p: munmap a 1p                            # the file goes: only the program holds the map
show map m
p: map_lookup m 0 => EBADF
p: close g                                # the program goes, then the map (after a grace period)
check
stat vmalloc_pages => 0
purge_vmap_area_lazy                      # the freed area's range (and vmap_area object) was lazy
stat free_pages => f0
stat memcg => 0
