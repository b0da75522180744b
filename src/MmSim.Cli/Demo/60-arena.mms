## bpf_arena: sparse memory shared by a BPF program and user space
## An arena is created empty: a 4 GiB + 64 KiB window of kernel address space and nothing in it. map_extra fixes
## the user address; mmap must then use exactly that address and length.
machine ram=64M memcg=64M
spawn p
p: m = map_create type=arena entries=16 flags=mmapable extra=0x100000000
p: a = mmap addr=0x100000000 len=16p prot=rw flags=shared|fixed fd=m
p: mmap addr=0x200000000 len=16p prot=rw flags=shared|fixed fd=m => EINVAL   # arena_get_unmapped_area refuses
stat arena_pages m => 0
##
## A user fault allocates a zeroed page (charged to the memcg) and maps it in the kernel window and the VMA.
## A program sees the same page through PROBE_MEM32: kern_vm_start + the low 32 bits of the address.
p: write a+3p 0x41
p: g = prog_load maps=m
g: load m a+3p => 0x41
g: load m a+5p => 0                  # an absent page reads 0 (the JIT's exception table), no allocation
stat arena_pages m => 1
##
## The kfuncs: bpf_arena_alloc_pages takes the lowest free offsets (maple tree first fit) or a hint; a taken hint
## gives NULL. bpf_arena_free_pages zaps every user mapping, so the next user access faults again.
g: x = arena_alloc_pages m count=2
g: arena_alloc_pages m count=1 addr=a+3p => 0
g: store m x 7
p: read x => 7
g: arena_free_pages m x count=2
g: load m x => 0
p: read x => 0                       # a fresh zero page
show arena m
##
## Pointers: cast_user turns an arena offset into the user address; cast_kern keeps the low 32 bits.
g: cast_user m 0x3000 => a+3p
g: cast_kern m a+3p => 0x3000
##
## Linux v6.12 as released let fork inherit the arena VMA, leaving vma_list pointing at the parent's VMA: the
## scenario tests/scenarios/arena/uaf_6.12.0.mms shows the resulting KASAN use-after-free; 6.12.y refuses.
p: fork c
c: read a => SIGSEGV                 # VM_DONTCOPY: the child has no arena mapping
p: munmap a+4p 1p => EINVAL          # may_split
check
