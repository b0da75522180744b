# Linux v6.12 as released: fork inherits the arena VMA (open bumps mmap_count, vml->vma stays the parent's),
# the parent unmaps, and free_pages zaps through the dangling vml->vma: KASAN slab-use-after-free.
machine kernel=6.12.0
spawn p
p: m = map_create type=arena entries=16 flags=mmapable extra=0x100000000
p: a = mmap addr=0x100000000 len=16p prot=rw flags=shared|fixed fd=m
p: g = prog_load maps=m
g: x = arena_alloc_pages m count=2
p: fork c
c: write x 1                       # the child shares the mapping
stat vm_open m => 1
p: munmap a 16p
g: arena_free_pages m x count=2 => KASAN
