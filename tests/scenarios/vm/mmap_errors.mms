# mmap(2) errors in the kernel's order (sys_mmap, ksys_mmap_pgoff, do_mmap, __get_unmapped_area).
machine ram=64M
spawn p
p: d = open_test mode=rw
p: ro = open_test mode=r
p: wo = open_test mode=w
p: mmap len=1p prot=rw flags=shared fd=99 off=1 => EINVAL        # the offset check comes before the fd
p: mmap len=1p prot=rw flags=shared fd=99 => EBADF
p: mmap len=0 prot=rw flags=private|anonymous => EINVAL
p: mmap len=0xffffffffffffff00 prot=rw flags=private|anonymous => ENOMEM   # PAGE_ALIGN overflows
p: mmap len=1p prot=rw flags=shared fd=d off=0xfffffffffffff000 => EOVERFLOW
p: mmap len=0x800000000000 prot=rw flags=private|anonymous => ENOMEM       # longer than TASK_SIZE
p: mmap len=2p prot=rw flags=private|anonymous|fixed addr=0x7ffffffff000 => ENOMEM
p: mmap len=1p prot=rw flags=private|anonymous|fixed addr=0x10000001 => EINVAL
p: a = mmap len=4p prot=rw flags=private|anonymous|fixed addr=0x10000000
p: mmap len=1p prot=rw flags=private|anonymous|fixed_noreplace addr=a + 3p => EEXIST
p: mmap len=1p prot=rw flags=shared_validate|populate|0x80000 fd=d => EOPNOTSUPP   # MAP_SYNC is not supported
p: mmap len=1p prot=rw flags=shared fd=ro => EACCES                # writable shared needs FMODE_WRITE
p: r = mmap len=1p prot=r flags=shared fd=ro                       # ... read-only is fine, without VM_MAYWRITE
p: mprotect r 1p rw => EACCES
p: mmap len=1p prot=r flags=private fd=wo => EACCES                # no FMODE_READ: refused even private
p: mmap len=1p prot=r flags=0 fd=d => EINVAL                       # no map type
p: mmap len=1p prot=r flags=anonymous => EINVAL
p: mmap len=1p prot=r flags=shared_validate|anonymous => EINVAL
p: h = mmap len=1p prot=r flags=private|anonymous addr=0x1000      # a hint below mmap_min_addr is raised
p: read h => 0
p: munmap 0x10000 1p
check
