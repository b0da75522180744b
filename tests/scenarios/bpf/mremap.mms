# mremap of an array mapping: growing is refused (VM_DONTEXPAND), a same-size move opens the new VMA and closes
# the old one, a shrink unmaps the tail (a split: open, then close).
machine ram=64M cpus=2
spawn p
p: m = map_create type=array entries=2048 flags=mmapable
p: a = mmap len=4p prot=rw flags=shared fd=m
p: write a + 8 5
p: mremap a 4p 5p flags=maymove => EFAULT
p: b = mremap a 4p 4p flags=maymove|fixed new=0x20000000
p: read b + 8 => 5
p: read a + 8 => SIGSEGV
stat vm_open m => 1
stat vm_close m => 1
stat writecnt m => 1
p: mremap b 4p 2p => 0x20000000
stat vm_open m => 2
stat vm_close m => 2
stat writecnt m => 1
p: munmap b 2p
stat writecnt m => 0
stat vm_close m => 3
check
