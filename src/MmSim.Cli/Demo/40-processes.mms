## Processes, VMAs and the vm_ops rule
## `spawn` makes a process with an empty address space. mmap places mappings top-down below mmap_base
## (TASK_SIZE - 128M, no randomization), and adjacent compatible anonymous mappings merge into one VMA.
machine ram=64M
spawn p
f0 = stat free_pages
p: a = mmap len=2p prot=rw flags=private|anonymous
p: b = mmap len=2p prot=rw flags=private|anonymous
stat vmas p => 1
##
## A read of untouched anonymous memory maps the shared zero page; a write allocates a page. A store to a
## read-only page raises SIGSEGV in the process (the store does not happen; the process lives on).
p: read a => 0
p: write a 0x41
p: mprotect a 1p r
p: write a 0x42 => SIGSEGV
p: read a => 0x41
show maps p
##
## `open_test` opens a test device whose vm_ops count ->open and ->close. ->mmap itself is not an open:
## closes = opens + 1 for every mapping, whatever splits, forks and moves happen in between.
p: d = open_test
p: m = mmap len=4p prot=rw flags=shared fd=d
p: munmap m + 1p 1p
stat test_open d => 2
stat test_close d => 1
p: fork c
stat test_open d => 4
c: exit
p: exit
stat test_close d => 5
##
## Everything the processes used came back.
stat free_pages => f0
check
