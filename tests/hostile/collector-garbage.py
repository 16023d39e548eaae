import sys
# 4 KiB of every byte value
sys.stdout.buffer.write(bytes(range(256)) * 16)
