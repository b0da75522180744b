# /proc/buddyinfo in the kernel's format: splitting and merging of buddies.
machine ram=16M
show buddyinfo                    # four free 4M blocks
a = alloc_pages                   # order 0 splits one 4M block all the way down
show buddyinfo
b = alloc_pages order=10 => 1K    # the next whole 4M block (PFN 1024)
show buddyinfo
__free_pages a
__free_pages b order=10
show buddyinfo                    # b merged again; a waits on the per-CPU list (pcp), so its buddies stay split
check
