# Process statements of the contract.
machine ram=64M cpus=2
spawn p
p: a = mmap len=4p prot=rw flags=private|anonymous
p: write a 0x4142
p: read a => 0x4142
p: read a + 1 size=1 => 0x41         # little endian
p: b = mremap a 4p 8p flags=maymove
p: read b => 0x4142                  # the contents moved with the mapping
p: mprotect b 1p r
p: write b 1 => SIGSEGV              # a store to a read-only page
p: read b size=2 => 0x4142
p: munmap b 8p
stat vmas p => 0
p: read b => SIGSEGV                 # nothing is mapped there any more
p: mmap len=0 prot=rw flags=private|anonymous => EINVAL
p: munmap 0x1001 1p => EINVAL        # not page aligned
check
