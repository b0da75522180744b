## Booting a machine
## A scenario starts with `machine`: simulated RAM, possible CPUs, the memory cgroup limit (where map memory
## is charged), the seed of the only random source, and the kernel profile whose behaviour is reproduced.
machine ram=64M cpus=2 memcg=unlimited seed=1 kernel=6.12.y
##
## The views print in the kernel's own format. /proc/buddyinfo counts the free blocks of each order
## (4K, 8K, ... 4M): 64M of RAM is sixteen free 4M blocks.
show buddyinfo
show meminfo
##
## `stat` returns a counter, checked with `=> VALUE`; `NAME = ...` binds a result for later expressions.
free = stat free_pages
stat free_pages => 16384
