import sys
# 100,000 nested arrays
sys.stdout.write("a = " + "[" * 100000 + "]" * 100000 + "\n")
