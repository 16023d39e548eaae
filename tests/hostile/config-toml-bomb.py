import sys
# the most values that fit in the 1 MiB cap: 500,000 array elements
sys.stdout.write("[report.analysis]\naddresses = [" + "1," * 500000 + "1]\n")
