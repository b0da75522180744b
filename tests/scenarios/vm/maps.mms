# /proc/PID/maps in show_map_vma()'s format.
machine ram=64M
spawn p
p: a = mmap len=2p prot=rw flags=private|anonymous|fixed addr=0x10000000
p: b = mmap len=1p prot=r flags=shared|anonymous|fixed addr=0x10004000
p: d = open_test
p: c = mmap len=2p prot=rx flags=shared fd=d off=1p addr=0x10010000
p: e = mmap len=3p prot=rw flags=private|anonymous
p: mprotect e + 1p 1p none
show maps p
stat vmas p => 6
