# free_pages conservation: when everything is released the count returns exactly to its earlier value.
machine ram=32M
total = stat free_pages => 8K
a = alloc_pages order=0
b = alloc_pages order=3
c = alloc_pages order=10
d = alloc_pages order=5 gfp=kernel|zero
stat free_pages => total - 1 - 8 - 1K - 32
__free_pages c order=10
__free_pages a
stat free_pages => total - 8 - 32
__free_pages d order=5
__free_pages b order=3
stat free_pages => total
check

# Exhaust memory with 4M blocks, then give them all back.
m0 = alloc_pages order=10
m1 = alloc_pages order=10
m2 = alloc_pages order=10
m3 = alloc_pages order=10
m4 = alloc_pages order=10
m5 = alloc_pages order=10
m6 = alloc_pages order=10
m7 = alloc_pages order=10
stat free_pages => 0
alloc_pages gfp=nowarn => null
__free_pages m3 order=10
__free_pages m0 order=10
__free_pages m7 order=10
__free_pages m1 order=10
__free_pages m6 order=10
__free_pages m2 order=10
__free_pages m5 order=10
__free_pages m4 order=10
stat free_pages => total
check
