import sys
# an unknown key holding 1,000 nested arrays (skipped values: cap 16 levels)
sys.stdout.write('{"dpv": "1","x":' + "[" * 1000 + "]" * 1000 + ',"d": "example.org"}')
