# Stand-alone maple tree statements of the contract. Pending: runs once the maple tree layer implements them.
tree t
t: insert 10 19 1
t: insert 15 15 2 => EEXIST
t: load 15 => 1
t: load 20 => null
t: store 30 39 2
t: erase 35 => 2                     # erasing any index of a range erases the range
t: load 30 => null
tree u alloc_range
u: alloc_range size=10 min=0 max=99 7 => 0
u: alloc_range size=10 min=0 max=99 8 => 10
u: alloc_rrange size=10 min=0 max=99 9 => 90
u: empty_area min=0 max=99 size=5 => 20
u: empty_area_rev min=0 max=99 size=5 => 85
check
