import sys
# 100 KB: above the 64 KiB datagram cap
sys.stdout.write('{"dpv": "1","x":"' + "a" * 100000 + '"}')
