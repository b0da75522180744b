# mmap of map fds: the mm core's file checks, then bpf_map_mmap's, then array_map_mmap's.
machine ram=64M cpus=2
spawn p
p: m = map_create type=array entries=1024 flags=mmapable           # 2 pages of values
p: r = map_create type=array entries=1024 flags=mmapable|rdonly
p: w = map_create type=array entries=1024 flags=mmapable|wronly
p: n = map_create type=array entries=1024
p: c = map_create type=percpu_array entries=4
p: pa = map_create type=prog_array entries=4
p: ro = map_create type=array entries=1024 flags=mmapable|rdonly_prog
# mm core (do_mmap)
p: mmap len=1p prot=rw flags=shared fd=r => EACCES                 # MAP_SHARED + PROT_WRITE on an fd without FMODE_WRITE
p: mmap len=1p prot=r flags=shared fd=r => EINVAL                  # VM_SHARED cleared for the O_RDONLY fd: bpf_map_mmap refuses
p: mmap len=1p prot=r flags=private fd=w => EACCES                 # no FMODE_READ
p: mmap len=1p prot=r flags=shared fd=w => EACCES
p: mmap len=0 prot=r flags=shared fd=m => EINVAL
p: mmap len=1p prot=r flags=shared fd=m off=1 => EINVAL
p: mmap len=1p prot=r flags=shared fd=77 => EBADF
# bpf_map_mmap
p: mmap len=1p prot=r flags=shared fd=c => ENOTSUPP                # no map_mmap
p: mmap len=1p prot=r flags=shared fd=pa => ENOTSUPP
p: mmap len=1p prot=r flags=private fd=c => ENOTSUPP               # ENOTSUPP comes before the VM_SHARED check
p: mmap len=1p prot=r flags=private fd=m => EINVAL
p: mmap len=1p prot=rw flags=shared fd=ro => EACCES                # BPF_F_RDONLY_PROG: no writable mapping
p: a = mmap len=2p prot=r flags=shared fd=ro
p: mprotect a 2p rw => EACCES
# array_map_mmap
p: mmap len=1p prot=r flags=shared fd=n => EINVAL                  # not BPF_F_MMAPABLE
p: mmap len=3p prot=r flags=shared fd=m => EINVAL                  # past PAGE_ALIGN(max_entries * elem_size)
p: mmap len=2p prot=r flags=shared fd=m off=1p => EINVAL
p: mmap len=1p prot=r flags=shared fd=m off=2p => EINVAL
p: b = mmap len=1p prot=rw flags=shared fd=m off=1p                # the second page: elements 512..1023
p: write b 5
p: map_lookup m 512 => 5
p: mremap b 1p 2p flags=maymove => EFAULT                          # VM_DONTEXPAND
stat writecnt m => 1
stat writecnt ro => 0
stat vm_close m => 0
stat vm_close ro => 0
p: exit
stat vm_close m => 1
stat vm_close ro => 1
stat writecnt m => 0
check
