# Every outcome kind the foundation can produce: ok, any, a value, null, WARN, KASAN.
machine ram=16M
spawn p
check => ok
stat free_pages => ok
stat free_pages => any
a = alloc_pages => 0
alloc_pages order=11 => WARN              # WARN_ON_ONCE(order > MAX_PAGE_ORDER): NULL
alloc_pages order=11 => null              # ... and only once per boot
__free_pages a
__free_pages a => KASAN                   # a double free
check
