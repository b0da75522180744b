machine ram=1G cpus=0
