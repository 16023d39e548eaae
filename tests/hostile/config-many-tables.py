import sys
# 100,000 table headers in 1 MiB
sys.stdout.write("".join("[t%d]\n" % i for i in range(100000))[:1000000])
