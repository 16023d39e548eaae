import sys
# 1,000 policies (cap: 16)
p = '{"policy-type":2,"policy-domain": "example.org","t":0,"f":0}'
sys.stdout.write('{"dpv": "1","d": "example.org","pr": "v=TLSRPTv1; rua=mailto:r@example.org","policies":[' + ",".join([p] * 1000) + "]}")
