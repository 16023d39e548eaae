import sys
# a JSON attachment of 100,000 nested arrays
sys.stdout.buffer.write(b"From: reports@hostile.example\r\nTo: tls@example.org\r\nSubject: Report\r\n"
    b"Date: Mon, 1 Jan 2024 00:00:00 +0000\r\nMessage-ID: <x@hostile.example>\r\n"
    b"MIME-Version: 1.0\r\n" + b"Content-Type: application/tlsrpt+json\r\n\r\n" +
    b"[" * 100000 + b"]" * 100000 + b"\r\n")
