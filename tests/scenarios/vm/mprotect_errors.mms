# mprotect(2): argument errors, holes, VM_MAY* refusals, splits and merges, non-atomic failure.
machine ram=64M
spawn p
p: mprotect 0x10000001 1p r => EINVAL
p: mprotect 0x10000001 0 r => EINVAL                               # alignment is checked before the length
p: mprotect 0x10000000 0 r                                         # len 0 succeeds, mapped or not
p: mprotect 0x10000000 0xfffffffff0000000 r => ENOMEM              # end overflows
p: mprotect 0x10000000 1p 0x10 => EINVAL                           # an unknown PROT bit
p: mprotect 0x10000000 1p r => ENOMEM                              # nothing mapped
p: a = mmap len=2p prot=rw flags=private|anonymous|fixed addr=0x10000000
p: b = mmap len=2p prot=rw flags=private|anonymous|fixed addr=0x10003000
p: mprotect a - 1p 2p r => ENOMEM                                  # starts in a hole
p: mprotect a 5p r => ENOMEM                                       # a hole in the middle ...
p: write a 1 => SIGSEGV                                            # ... but the first VMA already changed
p: write b 1
p: mprotect b + 1p 1p r                                            # split: [b, b+1p) rw, [b+1p, b+2p) r
stat vmas p => 3
p: mprotect b + 1p 1p rw                                           # and merged back
stat vmas p => 2
p: d = open_test
p: m = mmap len=3p prot=rw flags=shared fd=d
p: mprotect m + 1p 1p r                                            # a VM_SPECIAL VMA splits (2 opens) ...
stat test_open d => 2
p: mprotect m 3p rw                                                # ... and never merges back
stat vmas p => 5
p: ro = open_test mode=r
p: s = mmap len=1p prot=r flags=shared fd=ro
p: mprotect s 1p rw => EACCES                                      # VM_MAYWRITE was cleared
p: mprotect s 1p rx
check
