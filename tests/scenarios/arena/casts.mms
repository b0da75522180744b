# addr_space_cast: cast_kern keeps lo32; cast_user restores user_vm_start's upper half (NULL stays NULL);
# with BPF_F_NO_USER_CONV both are 32-bit moves.
spawn p
p: m = map_create type=arena entries=16 flags=mmapable extra=0x7f0000000000
p: n = map_create type=arena entries=16 flags=mmapable|no_user_conv extra=0x7f0000000000
p: g = prog_load maps=m
p: h = prog_load maps=n
g: cast_kern m 0x7f0000001000 => 0x1000
g: cast_user m 0x1000 => 0x7f0000001000
g: cast_user m 0x500000000 => 0                   # lo32 == 0: NULL
g: cast_user m 0x123456789abc => 0x7f0056789abc
h: cast_user n 0x7f0000001000 => 0x1000
h: cast_kern n 0x7f0000001000 => 0x1000
h: arena_alloc_pages n count=1 => 0x7f0000000000  # the kfunc returns the full user address
