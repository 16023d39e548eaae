import sys
# one header field of 10 MiB (cap: 64 KiB per field)
sys.stdout.buffer.write(b"From: reports@hostile.example\r\nTo: tls@example.org\r\nSubject: Report\r\n"
    b"Date: Mon, 1 Jan 2024 00:00:00 +0000\r\nMessage-ID: <x@hostile.example>\r\n"
    b"MIME-Version: 1.0\r\n" + b"X-Long: " + b"x" * (10 << 20) + b"\r\n\r\nhello\r\n")
