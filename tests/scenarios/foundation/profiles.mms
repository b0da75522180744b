## Both kernel profiles boot.
machine ram=64K kernel=6.12.0 memcg=0 cpus=256 seed=0xffffffffffffffff
stat free_pages => 16
show meminfo
check
