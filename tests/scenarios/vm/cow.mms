# Private anonymous memory after fork is copy-on-write; free pages come back when both exit.
machine ram=64M
spawn p
f0 = stat free_pages
p: a = mmap len=2p prot=rw flags=private|anonymous
p: write a 1
p: write a + 1p 2
p: fork c
c: read a => 1
c: write a 10                                                      # the child's copy
p: read a => 1
p: write a + 1p 20                                                 # the parent's copy
c: read a + 1p => 2
c: mprotect a 2p r
c: write a 11 => SIGSEGV
p: exit
c: exit
stat free_pages => f0
check
