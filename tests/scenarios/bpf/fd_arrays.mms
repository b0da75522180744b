# Prog, perf-event and cgroup arrays: fd values, references held by slots, tail calls.
machine ram=64M cpus=2
spawn p
p: pa = map_create type=prog_array entries=4
p: m = map_create type=array entries=1
p: g = prog_load maps=pa,m
p: h = prog_load maps=m
# prog_array update: flags, index, fd
p: map_update pa 0 g flags=exist => EINVAL
p: map_update pa 0 g flags=noexist => EINVAL
p: map_update pa 4 g => E2BIG
p: map_update pa 0 99 => EBADF
p: map_update pa 0 m => EINVAL                 # a map fd is not a program
p: map_lookup pa 0 => ENOENT
p: map_update pa 0 g
p: map_update pa 1 h
p: map_lookup pa 0 => 1                        # the program id
p: map_lookup pa 1 => 2
p: map_lookup pa 4 => ENOENT
p: map_get_next_key pa 3 => ENOENT
# tail calls: 33 at most, empty slots and indexes past the end fall through
g: tail_call pa 0 => 33
g: tail_call pa 1 => 33
g: tail_call pa 2 => 0
g: tail_call pa 9 => 0
g: map_lookup pa 0 => EINVAL                   # programs cannot look into prog arrays
# delete
p: map_delete pa 1
p: map_delete pa 1 => ENOENT
p: map_delete pa 4 => E2BIG
# the array holds g: closing g's fd keeps the program (its slot), closing the array's fd clears the slots
p: close g
g: tail_call pa 0 => 33
p: close pa                                    # usercnt 0: prog_array_map_clear; g goes, and with it pa
check
# perf event arrays: perf fds; entries go with the map file that added them
p: pe = map_create type=perf_event_array entries=2
p: e = perf_event_open
p: i = perf_event_open inherit=1
p: map_update pe 0 e
p: map_update pe 1 i => EOPNOTSUPP             # perf_event_read_local() cannot read an inherited event
p: map_update pe 1 m => EBADF                  # not a perf event
p: map_update pe 2 e => E2BIG
p: map_update pe 1 e flags=exist => EINVAL
p: map_lookup pe 0 => ENOTSUPP                 # no map_fd_sys_lookup_elem
p: map_delete pe 1 => ENOENT
p: fork q
q: close pe                                    # the child's fd shares the file: nothing released yet
p: map_delete pe 0
p: map_update pe 0 e
p: close pe                                    # the adding file released: its entries go
p: pp = map_create type=perf_event_array entries=2 flags=preserve_elems
p: map_update pp 1 e
p: close pp
p: close e
check
# cgroup arrays: cgroup v2 directory fds
p: ca = map_create type=cgroup_array entries=2
p: c = cgroup_open
p: c1 = cgroup_open v1=1
p: map_update ca 0 c
p: map_update ca 1 c1 => EBADF                 # cgroup v1
p: map_update ca 1 m => EBADF                  # not a cgroup directory
p: map_lookup ca 0 => ENOTSUPP
p: map_delete ca 0
p: map_delete ca 0 => ENOENT
p: map_update ca 1 c
p: close c
p: close ca
check
