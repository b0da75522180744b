# Memory accesses that fail: SIGSEGV (no mapping, protection) and SIGBUS (beyond a shared file's end).
machine ram=64M
spawn p
p: read 0x10000000 => SIGSEGV
p: a = mmap len=1p prot=r flags=private|anonymous
p: read a => 0
p: write a 1 => SIGSEGV
p: mprotect a 1p none
p: read a => SIGSEGV
p: s = mmap len=1p prot=rw flags=shared|anonymous
p: t = mremap s 1p 2p flags=maymove                               # grows past the shmem file's size
p: write t 5
p: read t + 1p => SIGBUS
p: d = open_test pages=1
p: m = mmap len=2p prot=rw flags=shared fd=d
p: read m + 1p => SIGBUS
p: write m + 0xffc 0x1122334455667788 => SIGBUS                    # crosses into the page beyond the device
p: read m + 0xffc size=4 => 0                                     # nothing was written
p: read 0x800000000000 => SIGSEGV                                  # non-canonical
check
