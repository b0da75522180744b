# A user fault allocates a zeroed page, charged to the memcg, and maps it in the kernel area and the VMA.
machine memcg=64M
spawn p
p: m = map_create type=arena entries=16 flags=mmapable extra=0x100000000
p: a = mmap addr=0x100000000 len=16p prot=rw flags=shared|fixed fd=m
p: g = prog_load maps=m
stat arena_pages m => 0
p: read a+3p => 0                  # a read fault allocates too (no SEGV_ON_FAULT)
stat arena_pages m => 1
p: write a+3p+8 0x1234
g: load m a+3p+8 => 0x1234         # same page for the program
g: store m a+5p 7                  # absent page: dropped
p: read a+5p => 0
g: store m a+5p 7
p: read a+5p => 7
stat arena_pages m => 2
g: arena_alloc_pages m count=1 addr=a+3p => 0    # the fault took that offset
g: arena_alloc_pages m count=1 => a              # first fit, lowest offset
show arena m
check
