# PROBE_MEM32: kern_vm_start + lo32(addr); an absent page reads 0 and a store to it is dropped.
spawn p
p: m = map_create type=arena entries=16 flags=mmapable extra=0x100000000
p: g = prog_load maps=m
g: load m 0x100000000 => 0
g: store m 0x100000000 5
g: load m 0x100000000 => 0
g: x = arena_alloc_pages m count=1
g: store m x 0x1122334455667788
g: load m x size=1 => 0x88
g: load m x size=2 => 0x7788
g: load m x size=4 => 0x55667788
g: load m x+4 size=4 => 0x11223344
g: load m x+0x700000000 => 0x1122334455667788     # only the low 32 bits count
g: store m x+8 0xab size=1
g: load m x+8 => 0xab
g: load m x+1p => 0                               # the next page is absent
check
