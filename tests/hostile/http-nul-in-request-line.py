import sys
sys.stdout.buffer.write(b"POST /tlsrpt\x00x HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\n{}")
