## BPF array maps: bpf(2), mmap and freezing
## `map_create` returns an fd and binds the name to the map, so `stat` and `show map` can name it.
## A BPF_F_MMAPABLE array lives in a vmalloc area whose values start on a page boundary; mmap maps those pages.
machine ram=64M
spawn p
p: m = map_create type=array key=4 value=8 entries=1024 flags=mmapable
p: a = mmap len=2p prot=rw flags=shared fd=m
p: write a + 8 0x41                  # element 1, through the mapping
p: map_lookup m 1 => 0x41            # ... is what the syscall sees
p: map_update m 2 0x42
p: read a + 16 => 0x42
##
## A writable mapping counts in `writecnt`, and freezing refuses while it exists (EBUSY). vm_ops->open runs for
## every VMA made from it (fork, split); ->close once per VMA; closes = opens + mmaps once all are gone.
stat writecnt m => 1
p: fork q
stat writecnt m => 2
p: map_freeze m => EBUSY
q: exit
p: munmap a 2p
stat vm_close m => 2
p: map_freeze m
p: map_update m 2 1 => EPERM         # frozen: read-only for user space
p: mmap len=2p prot=rw flags=shared fd=m => EPERM
p: r = mmap len=2p prot=r flags=shared fd=m
p: mprotect r 2p rw => EACCES        # a read-only mapping lost VM_MAYWRITE
##
## Programs hold map references and use the helpers in kernel context: a frozen map stays writable for them.
p: g = prog_load maps=m
g: map_update m 2 7
p: read r + 16 => 7
show map m
check
