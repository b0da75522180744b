# A file whose expectations fail: exit 1, and the run goes on to the end.
machine ram=16M
a = alloc_pages => 1                      # it is 0
alloc_pages order=11 => ok                # a WARN nobody expected
stat free_pages => 4094, 1                # a list where a value came back
__free_pages a => KASAN                   # no report
b = alloc_pages order=11 => 5             # no value: b stays unbound
__free_pages b                            # not run: b has no value
stat free_pages => 4K                     # still running: this one holds
