# vm_ops open/close of map VMAs: fork copies them (open in the child), partial munmap and mprotect split them.
machine ram=64M cpus=2
spawn p
p: m = map_create type=array entries=2048 flags=mmapable          # 4 pages
p: a = mmap len=4p prot=rw flags=shared fd=m
p: ra = mmap len=4p prot=r flags=shared fd=m
stat writecnt m => 1
p: fork q
stat vm_open m => 2
stat writecnt m => 2                                              # the child's writable copy counts
q: write a + 8 0x77
p: read a + 8 => 0x77                                             # shared pages, both ways
p: read ra + 8 => 0x77
p: write a + 16 0x88
q: read a + 16 => 0x88
q: map_lookup m 1 => 0x77
p: map_freeze m => EBUSY
q: exit
stat vm_close m => 2
stat writecnt m => 1
# a partial munmap splits: open on the new VMA, close on the removed part
p: munmap a + 1p 1p
stat vm_open m => 4
stat vm_close m => 3
stat writecnt m => 2                                              # two writable VMAs remain
stat vmas p => 3
# mprotect down to read-only keeps VM_MAYWRITE: writecnt does not drop
p: mprotect a 1p r
stat writecnt m => 2
p: write a 1 => SIGSEGV
p: mprotect a 1p rw
p: write a 1
p: map_freeze m => EBUSY
p: munmap a 4p
stat writecnt m => 0
p: map_freeze m
p: read ra + 16 => 0x88
p: munmap ra 4p
stat vm_close m => 6                                              # closes = opens + mmaps
stat vm_open m => 4
check
