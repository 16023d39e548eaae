import sys
# not HTTP at all: every byte value, then an empty line
sys.stdout.buffer.write(bytes(range(256)) * 16 + b"\r\n\r\n")
