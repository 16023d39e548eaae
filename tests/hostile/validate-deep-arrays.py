import sys
# 100,000 nested arrays
sys.stdout.write("[" * 100000 + "]" * 100000)
