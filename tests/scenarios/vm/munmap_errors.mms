# munmap(2): argument errors, holes, may_split refusals, and what a partial unmap costs in open/close.
machine ram=64M
spawn p
p: munmap 0x10000001 1p => EINVAL
p: munmap 0x10000000 0 => EINVAL
p: munmap 0x800000000000 1p => EINVAL                              # start beyond TASK_SIZE
p: munmap 0x10000000 0x7ffffffff000 => EINVAL                      # len beyond TASK_SIZE - start
p: munmap 0x10000000 64p                                           # a hole: success
p: d = open_test
p: a = mmap len=4p prot=rw flags=shared fd=d
p: munmap a + 1p 1p                                                # a middle hole: 2 opens, 1 close
stat test_open d => 2
stat test_close d => 1
stat vmas p => 2
p: munmap a 4p                                                     # spanning both pieces and the hole
stat test_close d => 3
stat vmas p => 0
p: r = open_test refuse=split
p: b = mmap len=4p prot=rw flags=shared fd=r
p: munmap b + 1p 1p => EINVAL                                      # ->may_split refuses: nothing changes
p: munmap b 1p => EINVAL
stat vmas p => 1
stat test_close r => 0
p: munmap b 4p                                                     # the whole VMA needs no split
stat test_close r => 1
check
