import sys
# 64 KiB of every byte value
sys.stdout.buffer.write(bytes(range(256)) * 256)
