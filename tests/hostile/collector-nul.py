import sys
# a NUL byte inside the domain string
sys.stdout.buffer.write(b'{"dpv": "1","d": "example.org","pr": "v=TLSRPTv1; rua=mailto:r@example.org","policies":[{"policy-type":2,"policy-domain": "example.org","policy-string":["version: STSv1"],"mx-host":["mx.example.org"],"t":0,"f":0}]}'.replace(b"example.org\",\"pr\"", b"exam\x00ple.org\",\"pr\""))
