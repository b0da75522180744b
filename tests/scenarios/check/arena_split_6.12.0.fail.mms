# mmsim check counterexample: invariant bpf
# found by: mmsim check --kernel 6.12.0 --seed 0 (sequence 60, step 29); shrunk from 29 to 5 steps
# violation: bpf: arena 1: vma_list entry 0xffff888000007000 points to a freed VMA (vml->vma dangles)
# replay: mmsim run FILE (fails at the line marked violation); kept as found by the checker, unedited
machine ram=8M kernel=6.12.0
spawn p1
p1: m4 = map_create type=arena entries=1 flags=mmapable extra=0 => 0
p1: fork p6
p6: a8 = mmap addr=0 len=4608 prot=rw flags=shared fd=m4 => 0x7ffff7ffb000
p6: munmap a8 1 => 0
check   # violation: invariant bpf
