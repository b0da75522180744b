# bpf(2) map statements of the contract. Pending: runs once the bpf layer implements them.
machine ram=64M cpus=2
spawn p
p: m = map_create type=array key=4 value=8 entries=4
p: map_update m 0 42
p: map_lookup m 0 => 42
p: map_lookup m 1 => 0               # array elements exist and start zeroed
p: map_lookup m 4 => ENOENT          # out of range
p: map_get_next_key m 0 => 1
p: map_delete m 0 => EINVAL          # array elements cannot be deleted
p: map_update m 0 1 flags=noexist => EEXIST
p: c = map_create type=percpu_array key=4 value=8 entries=2
p: map_update c 1 1,2
p: map_lookup c 1 => 1,2
p: g = prog_load maps=m,c
p: fork q
q: map_lookup m 0 => 42              # the child has the parent's fds under the same numbers
q: exit
p: map_freeze m
p: map_update m 1 1 => EPERM         # a frozen map is read-only to user space
p: close c
check
