# A wrong expectation: a writable mapping makes BPF_MAP_FREEZE fail with EBUSY, so this file must fail (exit 1).
machine ram=64M cpus=2
spawn p
p: m = map_create type=array entries=512 flags=mmapable
p: a = mmap len=1p prot=rw flags=shared fd=m
p: map_freeze m => ok
