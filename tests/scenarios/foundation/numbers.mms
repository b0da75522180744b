# Lexical rules: decimal, 0x hex, '_' separators, suffixes K M G (x1024^n) and p (x4096), -1, expressions.
machine ram=16M
n = stat free_pages
stat free_pages => 4096
stat free_pages => 4_096
stat free_pages => 0x1000
stat free_pages => 0x10_00
stat free_pages => 4K
stat free_pages => 1p
stat free_pages => 0x1p
stat free_pages => 2p - 4K
stat free_pages => n
stat free_pages => n + 0 - 0x0
stat free_pages => -1 + 4097
stat free_pages => 16M - 16M + 1G - 1G + 4K
stat free_pages => 1G - 1048576K + 1p
stat free_pages => any
a = alloc_pages => 0
b = alloc_pages => a + 1
c = alloc_pages => b + b - a             # 2
__free_pages c
__free_pages b
__free_pages a
	stat   free_pages   =>   n    # tabs and runs of blanks are fine
