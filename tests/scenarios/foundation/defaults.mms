# Without a machine statement: ram=1G cpus=2 memcg=unlimited seed=0 kernel=6.12.y.
stat free_pages => 256K
show buddyinfo
spawn p
spawn q
check
