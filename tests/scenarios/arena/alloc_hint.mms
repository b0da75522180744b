# bpf_arena_alloc_pages: at a hint, overlapping hints (NULL), past the end (NULL), low 32 bits only.
spawn p
p: m = map_create type=arena entries=16 flags=mmapable extra=0x100000000
p: g = prog_load maps=m
g: arena_alloc_pages m count=2 addr=0x100004000 => 0x100004000
g: arena_alloc_pages m count=2 addr=0x100005000 => 0       # overlaps the end
g: arena_alloc_pages m count=2 addr=0x100003000 => 0       # overlaps the start
g: arena_alloc_pages m count=1 addr=0x100004000 => 0       # exactly taken
g: arena_alloc_pages m count=2 addr=0x10000f000 => 0       # past the end
g: arena_alloc_pages m count=17 => 0                       # more than page_cnt_max
g: arena_alloc_pages m count=1 addr=0x100000800 => 0       # not page aligned
g: arena_alloc_pages m count=1 flags=1 => 0                # flags must be 0
g: arena_alloc_pages m count=0 => 0
g: arena_alloc_pages m count=1 addr=0x50000f000 => 0x10000f000   # upper 32 bits ignored: pgoff 15
g: arena_alloc_pages m count=4 => 0x100000000              # first fit from the lowest offset
g: arena_alloc_pages m count=2 => 0x100006000
g: arena_alloc_pages m count=8 => 0                        # no run of 8 left
g: arena_alloc_pages m count=7 => 0x100008000
stat arena_pages m => 16
g: arena_alloc_pages m count=1 => 0                        # full
check
