import sys
sys.stdout.buffer.write(b'[log]\nlevel = "\xff\xfe"\n')
