# kmalloc/kfree (extension statements) on SLUB: slab objects, large kmalloc, ZERO_SIZE_PTR, failslab, double free.
machine ram=16M
f = stat free_pages
a = kmalloc size=64                       # the first object of a kmalloc-64 slab
b = kmalloc size=64 => a + 64             # the next one in the same slab
c = kmalloc size=16K                      # above KMALLOC_MAX_CACHE_SIZE: compound pages
z = kmalloc size=0 => 16                  # ZERO_SIZE_PTR
kmalloc size=4M + 1 gfp=nowarn => null    # above KMALLOC_MAX_SIZE
inject failslab nth=1
kmalloc size=8 => null
d = kmalloc size=8 => ok
kfree a
kfree b
kfree c
kfree d
kfree d => KASAN                          # double free
kfree z
kfree 0                                   # kfree(NULL) is fine
stat free_pages => f                      # empty slabs are given back
check
