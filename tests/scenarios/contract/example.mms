# The example of the language contract (docs/scenario-language.md), verbatim.
spawn p
p: m = map_create type=arena entries=16 flags=mmapable|segv_on_fault extra=0x100000000
p: a = mmap addr=0x100000000 len=16p prot=rw flags=shared fd=m
p: read a => SIGSEGV                 # nothing allocated yet, and the arena asked for SIGSEGV
p: g = prog_load maps=m
g: x = arena_alloc_pages m count=2
p: write x 0x41
g: load m x => 0x41                  # the program sees the user's store through its own mapping
g: arena_free_pages m x count=2
p: read x => SIGSEGV                 # freeing zapped the user mapping
p: munmap a 16p
stat vm_close m => 1
check
