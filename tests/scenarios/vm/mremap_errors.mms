# mremap(2) of 6.12: parameter checks, EFAULT cases, shrink, grow in place, moves and their open/close.
machine ram=64M
spawn p
p: mremap 0x10000000 1p 1p flags=8 => EINVAL                       # an unknown flag
p: mremap 0x10000000 1p 1p flags=fixed => EINVAL                   # FIXED without MAYMOVE
p: mremap 0x10000000 1p 2p flags=maymove|dontunmap => EINVAL       # DONTUNMAP cannot resize
p: mremap 0x10000001 1p 1p => EINVAL
p: mremap 0x10000000 1p 0 => EINVAL
p: mremap 0x10000000 1p 2p => EFAULT                               # no VMA at old_addr
p: a = mmap len=2p prot=rw flags=private|anonymous|fixed addr=0x10000000
p: mremap a 2p 2p flags=maymove|fixed new=a + 1p => EINVAL         # overlapping ranges
p: mremap a + 1p 2p 4p flags=maymove => EFAULT                     # the old range leaves the VMA
p: mremap a 0 2p flags=maymove => EINVAL                           # only shared mappings can be duplicated
p: write a 0x77
p: mremap a 2p 4p => a                                             # grows in place
p: g = mmap len=1p prot=r flags=private|anonymous|fixed addr=a + 4p
p: mremap a 4p 5p => ENOMEM                                        # blocked, and no MAYMOVE
p: n = mremap a 4p 5p flags=maymove                                # moved: the contents come along
p: read n => 0x77
p: read a => SIGSEGV
p: d = open_test
p: m = mmap len=2p prot=rw flags=shared fd=d
p: mremap m 2p 3p flags=maymove => EFAULT                          # VM_DONTEXPAND cannot grow ...
p: mremap m 2p 2p flags=maymove|dontunmap => EINVAL
p: m2 = mremap m 2p 2p flags=maymove|fixed new=0x20000000         # ... but can move: open new, close old
stat test_open d => 1
stat test_close d => 1
p: mremap m2 2p 1p                                                 # a shrink unmaps the tail: 1 open, 1 close
stat test_open d => 2
stat test_close d => 2
p: r = open_test refuse=split|mremap
p: x = mmap len=2p prot=rw flags=shared fd=r
p: mremap x + 1p 1p 1p flags=maymove|fixed new=0x30000000 => EINVAL   # ->may_split refuses a partial move
p: mremap x 2p 2p flags=maymove|fixed new=0x30000000 => EINVAL        # ->mremap refuses: moved back, copy unmapped
stat test_open r => 1
stat test_close r => 1
stat vmas p => 4                                                   # n, g, m2, x
check
