# Linux v6.12 as released: a middle munmap splits the arena VMA (two opens, one close). As in 6.12's
# vms_gather_munmap_vmas (split at the start with new_below=1, at the end with new_below=0), the original
# vm_area_struct is the middle piece, freed at once: vml->vma dangles, and the next zap uses it.
machine kernel=6.12.0
spawn p
p: m = map_create type=arena entries=16 flags=mmapable extra=0x100000000
p: a = mmap addr=0x100000000 len=16p prot=rw flags=shared|fixed fd=m
p: munmap a+4p 1p
stat vm_open m => 2
stat vm_close m => 1
p: g = prog_load maps=m
g: x = arena_alloc_pages m count=2 addr=a+8p
p: write x 1
g: arena_free_pages m x count=2 => KASAN
show arena m                       # the user PTE at pgoff 8 was not zapped: it still maps the page the arena freed
