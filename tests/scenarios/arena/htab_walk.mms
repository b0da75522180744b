# arena_htab in miniature: two buckets at the start of the arena, elements {next, key, value}; the program inserts
# keys 1, 2, 3 (bucket = key % 2); user space looks key 3 up by walking bucket 1.
spawn p
p: m = map_create type=arena entries=16 flags=mmapable extra=0x100000000
p: a = mmap addr=0x100000000 len=16p prot=rw flags=shared|fixed fd=m
p: g = prog_load maps=m
g: buckets = arena_alloc_pages m count=1
g: pg = arena_alloc_pages m count=1
g: store m pg+8 1                                # e1 = {NULL, 1, 100} into bucket 1
g: store m pg+16 100
g: store m buckets+8 pg
g: store m pg+32 2                               # e2 = {NULL, 2, 200} into bucket 0
g: store m pg+40 200
g: store m buckets pg+24
g: h = load m buckets+8                          # e3 = {bucket1 head, 3, 300} into bucket 1
g: store m pg+48 h
g: store m pg+56 3
g: store m pg+64 300
g: store m buckets+8 pg+48
p: e = read buckets+8 => pg+48
p: read e+8 => 3
p: read e+16 => 300
p: f = read e => pg
p: read f+8 => 1
p: read f => 0
p: b0 = read buckets => pg+24
p: read b0+16 => 200
check
