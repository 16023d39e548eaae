import sys
# a key of 20,001 parts
sys.stdout.write("a" + ".a" * 20000 + " = 1\n")
