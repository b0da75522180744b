# bpf_arena_free_pages zaps every user mapping: the next user access faults again (fresh zero page).
spawn p
p: m = map_create type=arena entries=16 flags=mmapable extra=0x100000000
p: a = mmap addr=0x100000000 len=16p prot=rw flags=shared|fixed fd=m
p: g = prog_load maps=m
g: x = arena_alloc_pages m count=1
p: write x 0x77
g: arena_free_pages m x+0x100 count=1     # misaligned: rounded down
g: load m x => 0                          # gone for the program
p: read x => 0                            # a fresh zero page for the user
g: arena_alloc_pages m count=1 addr=x => 0    # ... which took the offset again
g: arena_free_pages m a+16p count=1       # at the end: nothing
g: arena_free_pages m a+14p count=8       # clipped to the end
stat arena_pages m => 1                    # the re-faulted page
check
