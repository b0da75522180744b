# arena_get_unmapped_area, bpf_map_mmap and arena_map_mmap errnos, in the kernel's order.
spawn p
p: m = map_create type=arena entries=16 flags=mmapable extra=0x100000000
p: mmap addr=0x100000000 len=16p prot=rw flags=shared|fixed fd=m off=1p => EINVAL    # pgoff != 0
p: mmap addr=0x100000000 len=17p prot=rw flags=shared|fixed fd=m => E2BIG            # longer than the arena
p: mmap addr=0x100000000 len=15p prot=rw flags=shared|fixed fd=m => EINVAL           # shorter
p: mmap addr=0x100001000 len=16p prot=rw flags=shared|fixed fd=m => EINVAL           # another address
p: mmap len=16p prot=rw flags=shared fd=m => EINVAL                                  # mmap(NULL) once bound
p: mmap addr=0x100000000 len=16p prot=rw flags=private|fixed fd=m => EINVAL          # MAP_PRIVATE (bpf_map_mmap)
# Without MAP_FIXED the hint is tested for 2 x len: something just above moves it, and arena_map_mmap says EBUSY.
p: mmap addr=0x100010000 len=1p prot=rw flags=private|anonymous|fixed
p: mmap addr=0x100000000 len=16p prot=rw flags=shared fd=m => EBUSY
p: a = mmap addr=0x100000000 len=16p prot=rw flags=shared|fixed fd=m => 0x100000000
# Unbound arena: len > 4 GiB; then the first mmap binds it, for good.
p: n = map_create type=arena entries=8 flags=mmapable
p: mmap len=0x100001000 prot=rw flags=shared fd=n => E2BIG
p: b = mmap len=8p prot=rw flags=shared fd=n
p: munmap b 8p
p: mmap addr=b+1p len=8p prot=rw flags=shared|fixed fd=n => EINVAL                   # user_vm_start is never reset
p: mmap addr=b len=8p prot=rw flags=shared|fixed fd=n => b
stat vm_close n => 1
check
