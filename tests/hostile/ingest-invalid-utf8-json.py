import base64, sys
# a report attachment whose JSON has invalid UTF-8 in organization-name
rep = (b'{"organization-name":"Hostile \xff\xfe","date-range":{"start-datetime":"2024-01-01T00:00:00Z","end-datetime":"2024-01-01T23:59:59Z"},"contact-info":"a@example.com","report-id":"hostile-1","policies":[' + b"]}")
sys.stdout.buffer.write(b"From: reports@hostile.example\r\nTo: tls@example.org\r\nSubject: Report\r\n"
    b"Date: Mon, 1 Jan 2024 00:00:00 +0000\r\nMessage-ID: <x@hostile.example>\r\n"
    b"MIME-Version: 1.0\r\n" + b'Content-Type: multipart/report; report-type="tlsrpt"; boundary="B"\r\n\r\n'
    b"--B\r\nContent-Type: application/tlsrpt+json\r\nContent-Transfer-Encoding: base64\r\n\r\n" +
    base64.encodebytes(rep).replace(b"\n", b"\r\n") + b"--B--\r\n")
