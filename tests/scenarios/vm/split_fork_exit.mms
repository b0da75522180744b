# The vm_ops rule close = open + 1 through splits, fork, MAP_FIXED and exit; page references come back.
machine ram=64M
spawn p
f0 = stat free_pages
p: d = open_test
p: a = mmap len=8p prot=rw flags=shared fd=d
p: write a + 7p 0x70
p: munmap a + 2p 1p                                                # middle hole: 2 opens, 1 close
p: mprotect a + 4p 1p r                                            # split the tail piece twice: 2 more opens
stat test_open d => 4
stat test_close d => 1
p: fork c                                                          # 4 VMAs copied, each opened
stat test_open d => 8
c: read a + 7p => 0x70                                             # shared pages: the same page in both
c: write a + 7p 0x71
p: read a + 7p => 0x71
p: mmap len=1p prot=rw flags=shared|fixed fd=d addr=a + 5p         # MAP_FIXED splits (1 open), closes what it replaces
stat test_open d => 9
stat test_close d => 2
c: exit                                                            # the child's 4 VMAs are closed
stat test_close d => 6
p: exit
stat test_mmaps d => 2
stat test_open d => 9
stat test_close d => 11                                            # 2 mmaps + 9 opens
stat free_pages => f0
check
