# Fault injection: fail-nth, probability/interval/times, off.
machine ram=16M seed=42
inject fail_page_alloc nth=1
alloc_pages => null               # the very next allocation fails
a = alloc_pages => 0              # and only that one
inject fail_page_alloc nth=3
b = alloc_pages => 1
c = alloc_pages => 2
alloc_pages order=1 => null
inject off
d = alloc_pages order=1 => 4

# probability=100 with times=2: two failures, then allocations succeed again.
inject fail_page_alloc probability=100 times=2
alloc_pages => null
alloc_pages => null
e = alloc_pages => 3
inject off

# interval=3: only every third eligible call may fail.
inject fail_page_alloc probability=100 interval=3 times=-1
f = alloc_pages => ok
g = alloc_pages => ok
alloc_pages => null
inject off

# failslab fails slab allocations (kmalloc), not page allocations.
inject failslab nth=2
k = kmalloc size=32 => ok
kmalloc size=32 => null
h = alloc_pages => ok
inject failslab probability=100 times=1
kmalloc size=100 => null
l = kmalloc size=100 => ok
inject off
kfree k
kfree l
__free_pages h
__free_pages a
__free_pages b
__free_pages c
__free_pages d order=1
__free_pages e
__free_pages f
__free_pages g
stat free_pages => 4K
check
