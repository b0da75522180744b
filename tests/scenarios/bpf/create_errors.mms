# BPF_MAP_CREATE: every errno of map_create and array_map_alloc_check, in the kernel's order.
machine ram=64M cpus=2
spawn p
# map_create itself
p: map_create type=array entries=4 extra=0x1000 => EINVAL                 # map_extra is for bloom filters and arenas
p: map_create type=array entries=4 flags=rdonly|wronly => EINVAL          # bpf_get_file_flag
p: map_create type=array entries=4 flags=numa_node node=1 => EINVAL       # one node: node 0
p: map_create type=array entries=4 flags=numa_node|rdonly|wronly node=1 => EINVAL
p: map_create type=1 entries=4 => EINVAL                                  # hash maps are not modelled: no ops
p: map_create type=40 entries=4 => EINVAL                                 # past __MAX_BPF_MAP_TYPE
# array_map_alloc_check, step 1
p: map_create type=array entries=0 => EINVAL
p: map_create type=array key=8 entries=4 => EINVAL
p: map_create type=array key=0 entries=4 => EINVAL
p: map_create type=array value=0 entries=4 => EINVAL
p: map_create type=array entries=4 flags=no_prealloc => EINVAL
p: map_create type=array entries=4 flags=segv_on_fault => EINVAL
p: map_create type=array entries=4 flags=rdonly_prog|wronly_prog => EINVAL
p: map_create type=percpu_array entries=4 flags=numa_node node=0 => EINVAL
# step 2: mmapable and inner_map only for ARRAY
p: map_create type=percpu_array entries=4 flags=mmapable => EINVAL
p: map_create type=percpu_array entries=4 flags=inner_map => EINVAL
p: map_create type=prog_array entries=4 flags=mmapable => EINVAL
# step 3: preserve_elems only for PERF_EVENT_ARRAY
p: map_create type=array entries=4 flags=preserve_elems => EINVAL
p: pe = map_create type=perf_event_array entries=4 flags=preserve_elems
# step 4: sizes
p: map_create type=array value=0x80000000 entries=1 => E2BIG
p: map_create type=percpu_array value=32769 entries=1 => E2BIG
p: pc = map_create type=percpu_array value=32768 entries=1
# fd arrays: value_size 4 and no program access flags, before the array checks
p: map_create type=prog_array value=8 entries=4 => EINVAL
p: map_create type=perf_event_array value=8 entries=0 => EINVAL
p: map_create type=cgroup_array entries=4 flags=rdonly_prog => EINVAL
p: map_create type=prog_array entries=4 flags=wronly_prog => EINVAL
# the allocation: far too big for the machine
p: map_create type=array value=0x7ffffff8 entries=0xffffffff => ENOMEM
# successes, with the flags they keep
p: ok1 = map_create type=array entries=4 flags=numa_node node=0
p: ok2 = map_create type=array entries=4 flags=rdonly_prog|inner_map
p: ok3 = map_create type=array entries=1 flags=mmapable|wronly_prog
p: ok4 = map_create type=cgroup_array entries=2
stat memcg => any
check
