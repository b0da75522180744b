# BPF_F_SEGV_ON_FAULT: a user fault on a page the program did not allocate is SIGSEGV; never an allocation.
spawn p
p: m = map_create type=arena entries=16 flags=mmapable|segv_on_fault extra=0x100000000
p: a = mmap addr=0x100000000 len=16p prot=rw flags=shared fd=m
p: read a => SIGSEGV
p: write a+1p 1 => SIGSEGV
stat arena_pages m => 0
p: g = prog_load maps=m
g: x = arena_alloc_pages m count=2
p: write x+1p 0x41
g: load m x+1p => 0x41
g: arena_free_pages m x count=2
p: read x+1p => SIGSEGV
stat arena_pages m => 0
check
