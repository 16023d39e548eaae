import sys
sys.stdout.buffer.write(b'[log]\nlevel = "info\x00"\n')
