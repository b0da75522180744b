## Fault injection
## `inject fail_page_alloc nth=N` fails the Nth page allocation from now on, like /proc/self/fail-nth.
## Outcomes after `=>` state what each step must return; `null` is a NULL page.
machine ram=16M
inject fail_page_alloc nth=2
a = alloc_pages => ok
alloc_pages => null
b = alloc_pages => a + 1          # the failed call took nothing
##
## With probability=, interval= and times= it behaves like the debugfs knobs; `inject off` stops it.
inject fail_page_alloc probability=100 times=-1
alloc_pages order=2 => null
inject off
c = alloc_pages order=2 => ok
##
## failslab does the same for slab allocations: `kmalloc` (an extension statement, like alloc_pages) returns the
## object's kernel address in the direct map, or null.
inject failslab nth=1
kmalloc size=64 => null
p = kmalloc size=64
kfree p
