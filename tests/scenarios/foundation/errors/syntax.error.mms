# Syntax errors: every line is reported, nothing runs.
spawn p
p: a = mmap len=16p prot=wr flags=shared|anonymous
p: b = mmap len=0x1_0000_0000_0000_0000 prot=rw flags=private
p: munmap 0x1000 4096 5
p: mmapp len=1
stat free_pages => EFOO
p: read 0x1000 size=3
mprotect 1 2 r
p: munmap 1 -1
machine ram=1G
