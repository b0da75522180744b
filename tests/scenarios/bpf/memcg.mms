# Map memory is charged to the memcg (__GFP_ACCOUNT) and uncharged exactly when the map is freed.
machine ram=64M cpus=2 memcg=1M
spawn p
b = stat memcg
p: map_create type=array value=4096 entries=300 flags=mmapable => ENOMEM  # 301 pages: over the limit
stat memcg => b                                                        # nothing left charged
p: big = map_create type=array value=4096 entries=255 => ENOMEM        # vmalloc, 1 MiB + header
p: pc = map_create type=percpu_array value=32768 entries=16 => ENOMEM  # the per-CPU chunks: 16 x 64 KiB
stat memcg => b
p: m = map_create type=array value=4096 entries=100 flags=mmapable     # 101 pages
p: a = mmap len=100p prot=rw flags=shared fd=m
p: write a 1
p: close m                                                             # the mapping keeps the map alive
p: read a => 1
p: munmap a 100p                                                       # last reference: freed after a grace period
stat memcg => b
check
