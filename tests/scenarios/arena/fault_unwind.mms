# Failure paths leave the arena as it was: a fault whose page allocation fails is SIGSEGV (the maple-tree
# insert is undone, so the offset stays free); a kfunc whose page allocation fails returns NULL with the range
# released; a memcg at its limit does the same.
machine memcg=unlimited
spawn p
p: m = map_create type=arena entries=16 flags=mmapable extra=0x100000000
p: a = mmap addr=0x100000000 len=16p prot=rw flags=shared|fixed fd=m
p: g = prog_load maps=m
inject fail_page_alloc nth=1
p: read a+2p => SIGSEGV
inject off
stat arena_pages m => 0
g: arena_alloc_pages m count=1 addr=a+2p => a+2p     # the failed fault left offset 2 free
inject fail_page_alloc nth=2
g: arena_alloc_pages m count=3 => 0                  # the second page fails: the first is freed, the range erased
inject off
stat arena_pages m => 1
g: arena_alloc_pages m count=2 => a                  # offsets 0 and 1 are free again
p: read a+2p => 0
stat arena_pages m => 3
check
