# arena_list in miniature: a program pushes three elements {next, value} on a list whose head is the arena's
# first word (an __arena global at offset 0); user space walks it through its own mapping.
spawn p
p: m = map_create type=arena entries=16 flags=mmapable extra=0x100000000
p: a = mmap addr=0x100000000 len=16p prot=rw flags=shared|fixed fd=m
p: g = prog_load maps=m
g: arena_alloc_pages m count=1 => a              # the globals page (libbpf would copy .arena.1 here)
g: pg = arena_alloc_pages m count=1
g: n1 = cast_kern m pg
g: store m n1+8 10                               # n1->value = 10; n1->next = head (NULL)
g: u1 = cast_user m n1
g: store m a u1                                  # head = n1
g: n2 = cast_kern m pg+16
g: h = load m a
g: store m n2 h                                  # n2->next = head
g: store m n2+8 20
g: u2 = cast_user m n2
g: store m a u2
g: n3 = cast_kern m pg+32
g: store m n3 u2
g: store m n3+8 30
g: u3 = cast_user m n3
g: store m a u3
# user space: head -> n3 -> n2 -> n1 -> NULL
p: e1 = read a => pg+32
p: read e1+8 => 30
p: e2 = read e1 => pg+16
p: read e2+8 => 20
p: e3 = read e2 => pg
p: read e3+8 => 10
p: read e3 => 0
check
