import sys
# 100,000 header fields (cap: 1000)
sys.stdout.buffer.write(b"From: reports@hostile.example\r\nTo: tls@example.org\r\nSubject: Report\r\n"
    b"Date: Mon, 1 Jan 2024 00:00:00 +0000\r\nMessage-ID: <x@hostile.example>\r\n"
    b"MIME-Version: 1.0\r\n" +
    b"".join(b"X-Junk-%d: %s\r\n" % (i, b"x" * 60) for i in range(100000)) + b"\r\nhello\r\n")
