import sys
# 10,000 nested inline tables
sys.stdout.write("a = " + "{b = " * 10000 + "1" + "}" * 10000 + "\n")
