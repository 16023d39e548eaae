import sys
# a 5 MiB comment (files are capped at 1 MiB)
sys.stdout.write("# " + "x" * (5 << 20) + "\n")
