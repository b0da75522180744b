# A scenario error (exit 2): a per-CPU update takes one value or one per possible CPU.
machine ram=64M cpus=2
spawn p
p: c = map_create type=percpu_array entries=2
p: map_update c 0 1,2,3
