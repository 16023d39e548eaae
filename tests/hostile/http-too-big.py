import sys
# 11 MiB of zeros (web.max-body: 10 MiB)
sys.stdout.buffer.write(b"\0" * (11 << 20))
