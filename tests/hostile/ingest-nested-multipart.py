import sys
# a report attachment inside 50 levels of multipart/mixed (cap: 10)
body = b"{}"
ct = b"application/tlsrpt+json"
for i in range(50):
    bnd = b"b%d" % i
    body = (b"--" + bnd + b"\r\nContent-Type: " + ct + b"\r\n\r\n" + body + b"\r\n--" + bnd
            + b"--\r\n")
    ct = b'multipart/mixed; boundary="' + bnd + b'"'
sys.stdout.buffer.write(b"From: reports@hostile.example\r\nTo: tls@example.org\r\nSubject: Report\r\n"
    b"Date: Mon, 1 Jan 2024 00:00:00 +0000\r\nMessage-ID: <x@hostile.example>\r\n"
    b"MIME-Version: 1.0\r\n" + b"Content-Type: " + ct + b"\r\n\r\n" + body)
