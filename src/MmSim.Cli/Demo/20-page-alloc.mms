## The buddy allocator
## `alloc_pages` calls the page allocator as a kernel test module would, and returns the PFN of the block.
## The lowest free block is split in halves until one of the right order remains. Orders 0..3 go through the
## per-CPU page lists (pcp) first, as in the kernel: an empty list is refilled with pcp->batch blocks at once
## (here two order-3 blocks, PFNs 0 and 8), so the spare block 8 waits on the list, not in /proc/buddyinfo.
machine ram=64M
free = stat free_pages
a = alloc_pages order=3
show buddyinfo
stat free_pages => free - 8
b = alloc_pages order=0 => a + 16
##
## Freeing parks orders 0..3 on the per-CPU lists (they still count as free frames), so the count returns
## exactly to where it was; buddyinfo shows only the buddy free lists, as in the kernel.
__free_pages a order=3
__free_pages b
stat free_pages => free
show buddyinfo
##
## Freeing a block twice is a memory-safety bug: KASAN reports it, and the step says it expected that.
__free_pages b => KASAN
##
## `check` runs every invariant of the simulated kernel (page conservation, free lists, per-CPU lists ...).
check
