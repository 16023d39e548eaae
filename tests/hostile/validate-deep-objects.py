import sys
# 5,000 nested objects
sys.stdout.write('{"a":' * 5000 + "1" + "}" * 5000)
