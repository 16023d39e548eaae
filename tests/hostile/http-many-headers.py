import sys
# a request with 20,000 header fields
sys.stdout.buffer.write(b"POST /tlsrpt HTTP/1.1\r\nHost: 127.0.0.1\r\n" +
                        b"".join(b"X-%d: a\r\n" % i for i in range(20000)) +
                        b"Content-Length: 2\r\n\r\n{}")
