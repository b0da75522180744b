# CRLF line ends are accepted.
machine ram=16M
stat free_pages => 4K

check
