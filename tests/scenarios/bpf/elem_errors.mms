# Element syscalls on arrays: fd checks, access modes, and array_map_*'s errnos in order.
machine ram=64M cpus=2
spawn p
p: m = map_create type=array key=4 value=12 entries=3
p: e = perf_event_open
p: map_lookup 99 0 => EBADF
p: map_update 99 0 1 => EBADF
p: map_delete 99 0 => EBADF
p: map_get_next_key 99 0 => EBADF
p: map_freeze 99 => EBADF
p: map_lookup e 0 => EINVAL                    # not a map
p: map_update e 0 1 => EINVAL
p: map_freeze e => EINVAL
# update
p: map_update m 0 1 flags=lock => EINVAL       # BPF_F_LOCK without a bpf_spin_lock
p: map_update m 0 1 flags=3 => EINVAL          # (flags & ~BPF_F_LOCK) > BPF_EXIST
p: map_update m 3 1 => E2BIG                   # index >= max_entries
p: map_update m 3 1 flags=3 => EINVAL          # flags before the index
p: map_update m 0 1 flags=noexist => EEXIST
p: map_update m 2 0xffffffffffffffff flags=exist
p: map_update m 1 7 flags=any
p: map_lookup m 2 => 0xffffffffffffffff
p: map_lookup m 1 => 7
p: map_lookup m 3 => ENOENT
p: map_lookup m 0xffffffff => ENOENT
p: map_delete m 0 => EINVAL
p: map_delete m 7 => EINVAL
# get_next_key
p: map_get_next_key m => 0                     # NULL key: the first
p: map_get_next_key m 0 => 1
p: map_get_next_key m 1 => 2
p: map_get_next_key m 2 => ENOENT
p: map_get_next_key m 3 => 0                   # past the end: start over
# fd access modes
p: r = map_create type=array entries=2 flags=rdonly
p: map_lookup r 0 => 0
p: map_get_next_key r 0 => 1
p: map_update r 0 1 => EPERM
p: map_delete r 0 => EPERM                     # the permission check comes first
p: map_freeze r => EPERM
p: w = map_create type=array entries=2 flags=wronly
p: map_update w 1 5
p: map_lookup w 1 => EPERM
p: map_get_next_key w 0 => EPERM
p: map_delete w 1 => EINVAL
p: map_freeze w
p: map_update w 1 6 => EPERM
p: map_delete w 1 => EPERM
# per-CPU arrays: 8-byte stride, one value per possible CPU
p: c = map_create type=percpu_array key=4 value=4 entries=2
p: map_update c 0 0x11111111,0x22222222
p: map_lookup c 0 => 0x11111111,0x22222222
p: map_update c 1 9
p: map_lookup c 1 => 9,9
p: map_update c 2 1 => E2BIG
p: map_update c 0 1 flags=noexist => EEXIST
p: map_update c 0 1 flags=lock => EINVAL
p: map_update c 2 1 flags=3 => EINVAL
p: map_lookup c 2 => ENOENT
p: map_delete c 0 => EINVAL
p: g = prog_load maps=c,m
g: map_update c 0 5
p: map_lookup c 0 => 5,0x22222222              # programs run on CPU 0
g: map_lookup c 1 => 9
g: map_lookup m 1 => 7
g: map_update m 5 1 => E2BIG
g: map_lookup m 5 => ENOENT
check
