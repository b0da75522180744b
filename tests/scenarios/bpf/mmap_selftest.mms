# The sequences of tools/testing/selftests/bpf/prog_tests/mmap.c on a BPF_F_MMAPABLE array.
machine ram=64M cpus=2
spawn p
p: m = map_create type=array key=4 value=8 entries=4096 flags=mmapable    # 8 pages of values
p: g = prog_load maps=m
p: a = mmap len=8p prot=rw flags=shared fd=m
stat writecnt m => 1
stat vm_open m => 0
# user writes are seen by syscall lookups and by the program
p: write a 0x1234
p: write a + 800 77
p: map_lookup m 0 => 0x1234
p: map_lookup m 100 => 77
g: map_lookup m 100 => 77
# and syscall / program updates are seen through the mapping
p: map_update m 4095 0xbeef
p: read a + 32760 => 0xbeef
g: map_update m 5 55
p: read a + 40 => 55
# a writable mapping blocks freeze
p: map_freeze m => EBUSY
# mapping past the end fails, MAP_PRIVATE is refused
p: mmap len=9p prot=r flags=shared fd=m => EINVAL
p: mmap len=1p prot=r flags=shared fd=m off=8p => EINVAL
p: mmap len=8p prot=r flags=private fd=m => EINVAL
stat writecnt m => 1
# munmap, then freeze succeeds
p: munmap a 8p
stat writecnt m => 0
p: map_freeze m
p: map_freeze m => EPERM                     # already frozen: the fd lost FMODE_CAN_WRITE
p: map_update m 0 1 => EPERM
g: map_update m 0 9                          # programs can still write a frozen map
p: map_lookup m 0 => 9
# a frozen map refuses writable mappings; read-only ones cannot be upgraded
p: mmap len=8p prot=rw flags=shared fd=m => EPERM
p: r = mmap len=8p prot=r flags=shared fd=m
p: read r => 9
p: write r 1 => SIGSEGV
p: mprotect r 8p rw => EACCES
p: mprotect r 8p rx => EACCES
p: r2 = mmap len=1p prot=r flags=shared fd=m off=7p
p: read r2 + 4088 => 0xbeef
p: munmap r 8p
p: munmap r2 1p
stat vm_open m => 0
stat vm_close m => 3
check
