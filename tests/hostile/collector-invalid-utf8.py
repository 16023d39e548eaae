import sys
# invalid UTF-8 in the policy domain
sys.stdout.buffer.write(b'{"dpv": "1","d": "example.org","pr": "v=TLSRPTv1; rua=mailto:r@example.org","policies":[{"policy-type":2,"policy-domain": "example.org","policy-string":["version: STSv1"],"mx-host":["mx.example.org"],"t":0,"f":0}]}'.replace(b'"d": "example.org"', b'"d": "ex\xffample.org"'))
