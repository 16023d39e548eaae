import sys
# a request with one 200 KB header field
sys.stdout.buffer.write(b"POST /tlsrpt HTTP/1.1\r\nHost: 127.0.0.1\r\nX-A: " + b"a" * 200000 +
                        b"\r\nContent-Length: 2\r\n\r\n{}")
