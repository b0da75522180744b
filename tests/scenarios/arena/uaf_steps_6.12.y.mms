# The same steps on 6.12.y: VM_DONTCOPY, may_split and mremap refuse; no use after free.
spawn p
p: m = map_create type=arena entries=16 flags=mmapable extra=0x100000000
p: a = mmap addr=0x100000000 len=16p prot=rw flags=shared|fixed fd=m
p: g = prog_load maps=m
g: x = arena_alloc_pages m count=2
p: fork c
c: read x => SIGSEGV               # not inherited
stat vm_open m => 0
p: munmap a+4p 1p => EINVAL        # may_split
p: mprotect a 1p r => EINVAL
p: mremap a 16p 8p => EINVAL       # a shrink is a split
p: mremap a 16p 32p => EFAULT      # VM_DONTEXPAND
p: mremap a 16p 16p flags=maymove|fixed new=0x200000000 => EINVAL   # arena_get_unmapped_area refuses the address
p: munmap a 16p
g: arena_free_pages m x count=2
stat vm_close m => 1
check
