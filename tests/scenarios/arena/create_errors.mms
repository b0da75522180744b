# arena_map_alloc: every creation errno, in the kernel's order (kernel/bpf/arena.c, 6.12).
spawn p
p: map_create type=arena key=4 entries=16 flags=mmapable => EINVAL                   # key_size
p: map_create type=arena value=8 entries=16 flags=mmapable => EINVAL                 # value_size
p: map_create type=arena entries=0 flags=mmapable => EINVAL                          # max_entries 0
p: map_create type=arena entries=16 => EINVAL                                        # BPF_F_MMAPABLE missing
p: map_create type=arena entries=16 flags=mmapable|rdonly_prog => EINVAL             # flag outside the three
p: map_create type=arena entries=16 flags=mmapable|wronly_prog => EINVAL
p: map_create type=arena entries=16 flags=mmapable|inner_map => EINVAL
p: map_create type=arena entries=16 flags=mmapable extra=0x100000001 => EINVAL       # map_extra not page aligned
p: map_create type=arena entries=0x100001 flags=mmapable extra=0x100000001 => EINVAL # alignment before size
p: map_create type=arena entries=0x100001 flags=mmapable => E2BIG                    # more than 4 GiB of pages
p: map_create type=arena entries=0x100001 flags=mmapable extra=0xfffff000 => E2BIG   # size before the boundary rule
p: map_create type=arena entries=2 flags=mmapable extra=0xfffff000 => ERANGE         # would cross 4 GiB
p: map_create type=arena entries=0x100000 flags=mmapable extra=0x100000000           # exactly 4 GiB, aligned: fine
p: map_create type=arena entries=1 flags=mmapable|segv_on_fault|no_user_conv extra=0xfffff000
stat free_pages
check
