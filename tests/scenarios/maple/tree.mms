# The stand-alone maple tree (lib/maple_tree.c) through the scenario language.
machine ram=64M seed=3

# A plain tree: ranges are inclusive, insert refuses any overlap, erase removes the whole range.
tree t
t: insert 10 19 1
t: insert 19 25 2 => EEXIST
t: insert 15 15 2 => EEXIST
t: insert 20 29 2
t: load 10 => 1
t: load 19 => 1
t: load 20 => 2
t: load 30 => null
t: insert 5 4 3 => EINVAL                 # first > last
t: erase 25 => 2                          # any index of the range erases all of it
t: load 20 => null
t: erase 25 => null

# Storing overwrites exactly its indices and truncates the neighbours; storing 0 (NULL) erases a sub-range.
t: store 0 99 7
t: store 40 49 8
t: load 39 => 7
t: load 45 => 8
t: load 50 => 7
t: store 45 45 0
t: load 45 => null
t: erase 44 => 8                          # [40, 44] is all that is left of the 8
t: load 46 => 8
t: erase 0 => 7                           # [0, 39]
t: load 99 => 7

# Equal neighbours are not merged.
t: store 200 209 5
t: store 210 219 5
t: erase 205 => 5
t: load 215 => 5

# The ends of the index space.
t: insert 0xffffffffffffffff 0xffffffffffffffff 9
t: load 0xffffffffffffffff => 9
t: load 0xfffffffffffffffe => null
t: alloc_range size=1 min=0 max=10 4 => EINVAL      # not an allocation tree

# An allocation tree: lowest and highest fit inside [min, max], both inclusive.
tree u alloc_range
u: alloc_range size=10 min=0 max=99 1 => 0
u: alloc_range size=10 min=0 max=99 2 => 10
u: alloc_rrange size=10 min=0 max=99 3 => 90
u: empty_area min=0 max=99 size=5 => 20
u: empty_area_rev min=0 max=99 size=5 => 85
u: empty_area min=0 max=8 size=10 => EINVAL          # the window is smaller than the size
u: empty_area min=9 max=8 size=1 => EINVAL
u: empty_area min=0 max=99 size=0 => EINVAL
u: alloc_range size=71 min=0 max=99 4 => EBUSY       # 70 free indices in [20, 89]
u: alloc_range size=70 min=0 max=99 4 => 20
u: alloc_range size=1 min=0 max=99 5 => EBUSY
u: erase 50 => 4
u: alloc_rrange size=70 min=0 max=99 6 => 20         # the freed run, from the top
u: load 89 => 6
u: alloc_range size=1 min=100 max=100 7 => 100
u: alloc_rrange size=2 min=0 max=0xffffffffffffffff 8 => 0xfffffffffffffffe

# A lone entry at index 0 lives in the root pointer; gap searches then start at 1.
tree w alloc_range
w: insert 0 0 1
w: empty_area min=0 max=10 size=3 => 1
w: empty_area min=0 max=0 size=1 => EBUSY
w: alloc_range size=2 min=0 max=100 2 => 1
w: load 0 => 1
w: load 2 => 2

# Node allocation goes through the maple_node slab cache. With fail-nth the first (GFP_NOWAIT) attempt
# fails, mas_nomem() retries with GFP_KERNEL and the insert succeeds, as in the kernel.
inject failslab nth=1
w: insert 1000 1999 3
w: load 1500 => 3
# When every slab allocation fails, a write that needs a node gets -ENOMEM and changes nothing (check_nomem):
# on an empty tree index 0 needs no node (the root pointer holds it), any other index does. A store that fits
# in an existing leaf needs no node either.
tree x alloc_range
inject failslab probability=100 times=-1
x: store 3000 3999 4 => ENOMEM
x: alloc_range size=5 min=5000 max=6000 5 => ENOMEM
x: insert 0 0 6
w: store 3000 3999 4
inject off
x: load 3500 => null
x: load 0 => 6
x: alloc_range size=5 min=5000 max=6000 5 => 5000
w: load 3500 => 4
check
