## The buddy allocator
## `alloc_pages` calls the page allocator as a kernel test module would, and returns the PFN of the block.
## The lowest free block is split in halves until one of the right order remains.
machine ram=64M
free = stat free_pages
a = alloc_pages order=3
show buddyinfo
stat free_pages => free - 8
b = alloc_pages order=0 => a + 8
##
## Freeing merges each block with its free buddy again: the count returns exactly to where it was.
__free_pages a order=3
__free_pages b
stat free_pages => free
show buddyinfo
##
## Freeing a block twice is a memory-safety bug: KASAN reports it, and the step says it expected that.
__free_pages b => KASAN
##
## `check` runs every invariant of the simulated kernel (page conservation, free lists ...).
check
