# a has no value because its step returned null (as expected): using it is an error in the scenario.
machine ram=16M
inject fail_page_alloc nth=1
a = alloc_pages => null
__free_pages a
