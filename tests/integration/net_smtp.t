#!/usr/bin/python3
# net_smtp.t - the SMTP client (src/net/smtp_client) against a fake SMTP server.
#
# The fake server (plain sockets + ssl, 127.0.0.1 only) records every byte the client
# sends, per connection, answers each step with a configurable reply (so 451 / 550 can
# be injected at greeting, EHLO, MAIL, RCPT, DATA or end of data), and optionally
# offers STARTTLS with a self-signed certificate made by the openssl CLI at test time,
# or offers it and then breaks the handshake.  The driver is
# $B/tests/tools/net_smtp_send; DNS data for MX delivery is loaded into a local-only
# resolver (no network).
import os
import socket
import ssl
import subprocess
import sys
import threading
import time

B = os.environ.get("B", "build")
TMP = os.environ.get("TLSRPT_TEST_TMP") or "/tmp"
work = os.path.join(TMP, "net_smtp.%d" % os.getpid())
os.makedirs(work, exist_ok=True)
DRIVER = os.path.join(B, "tests/tools/net_smtp_send")

n = 0
failed = 0


def ok(cond, name, detail=""):
    global n, failed
    n += 1
    if cond:
        print("ok %d - %s" % (n, name))
    else:
        failed += 1
        print("not ok %d - %s" % (n, name))
        for line in str(detail).splitlines():
            print("# " + line)
    sys.stdout.flush()


cert = os.path.join(work, "cert.pem")
key = os.path.join(work, "key.pem")
subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key, "-out", cert,
                "-days", "2", "-subj", "/CN=localhost",
                "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
               check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
tls_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
tls_ctx.load_cert_chain(cert, key)

DEFAULT_REPLIES = {
    "greeting": b"220 fake.example ESMTP",
    "EHLO": None,  # built from the capabilities
    "MAIL": b"250 2.1.0 ok",
    "RCPT": b"250 2.1.5 ok",
    "DATA": b"354 go ahead",
    "END": b"250 2.0.0 queued as 1234",
    "STARTTLS": b"220 2.0.0 ready",
    "AUTH": b"235 2.7.0 ok",
    "RSET": b"250 ok",
    "QUIT": b"221 2.0.0 bye",
}


class FakeSMTP:
    def __init__(self):
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        self.reset()
        threading.Thread(target=self.serve, daemon=True).start()

    def reset(self, starttls=None, auth=False, **replies):
        self.starttls = starttls  # None, "good", "broken"
        self.auth = auth
        self.replies = dict(DEFAULT_REPLIES)
        for k, v in replies.items():
            self.replies[k] = v
        self.sessions = []

    def serve(self):
        while True:
            conn, _ = self.sock.accept()
            threading.Thread(target=self.session, args=(conn,), daemon=True).start()

    def session(self, conn):
        rec = bytearray()
        self.sessions.append(rec)
        conn.settimeout(10)
        tls = False
        f = conn.makefile("rb")

        def send(line):
            conn.sendall(line + b"\r\n")

        try:
            send(self.replies["greeting"])
            if not self.replies["greeting"].startswith(b"2"):
                return
            while True:
                line = f.readline()
                if not line:
                    return
                rec += line
                verb = line.split(b" ", 1)[0].split(b":", 1)[0].strip().upper()
                if verb in (b"EHLO", b"HELO"):
                    if self.replies["EHLO"]:
                        send(self.replies["EHLO"])
                        continue
                    caps = [b"fake.example"]
                    if self.starttls and not tls:
                        caps.append(b"STARTTLS")
                    if self.auth:
                        caps.append(b"AUTH PLAIN LOGIN")
                    caps.append(b"HELP")
                    for c in caps[:-1]:
                        send(b"250-" + c)
                    send(b"250 " + caps[-1])
                elif verb == b"STARTTLS":
                    garbage = b"this is not a TLS server hello\r\n" * 4
                    if self.starttls == "glued":
                        # reply and garbage in one segment: the client reads both
                        conn.sendall(self.replies["STARTTLS"] + b"\r\n" + garbage)
                        return
                    send(self.replies["STARTTLS"])
                    if not self.replies["STARTTLS"].startswith(b"220"):
                        continue
                    if self.starttls == "broken":
                        time.sleep(0.2)  # the client is in its handshake by now
                        conn.sendall(garbage)
                        return
                    conn = tls_ctx.wrap_socket(conn, server_side=True)
                    conn.settimeout(10)
                    f = conn.makefile("rb")
                    tls = True
                    rec += b"<TLS>\r\n"
                elif verb == b"AUTH" and len(line.split()) == 2:
                    send(b"334 ")  # no initial response: ask for it
                    cred = f.readline()
                    rec += cred
                    send(self.replies["AUTH"])
                elif verb in (b"MAIL", b"RCPT", b"AUTH", b"RSET"):
                    send(self.replies[verb.decode()])
                elif verb == b"DATA":
                    send(self.replies["DATA"])
                    if not self.replies["DATA"].startswith(b"354"):
                        continue
                    while True:
                        dl = f.readline()
                        if not dl:
                            return
                        rec += dl
                        if dl == b".\r\n":
                            break
                    send(self.replies["END"])
                elif verb == b"QUIT":
                    send(self.replies["QUIT"])
                    return
                else:
                    send(b"502 5.5.2 unknown command")
        except (OSError, ssl.SSLError):
            return
        finally:
            try:
                conn.close()
            except OSError:
                pass

    def wait_sessions(self, count):
        # the server thread may still be reading the last bytes when the client exits
        for _ in range(100):
            if len(self.sessions) >= count:
                break
            time.sleep(0.02)
        time.sleep(0.05)
        return [bytes(s) for s in self.sessions]


srv = FakeSMTP()
URL = "smtp://127.0.0.1:%d" % srv.port

msg = (b"From: TLS reports <reports@sender.example>\r\n"
       b"To: r@rcpt.example\r\n"
       b"Subject: test\r\n"
       b"\r\n"
       b".leading dot\r\n"
       b"line\r\n"
       b"..two dots\r\n"
       b".\r\n"
       b"end\r\n")
stuffed = (b"From: TLS reports <reports@sender.example>\r\n"
           b"To: r@rcpt.example\r\n"
           b"Subject: test\r\n"
           b"\r\n"
           b"..leading dot\r\n"
           b"line\r\n"
           b"...two dots\r\n"
           b"..\r\n"
           b"end\r\n"
           b".\r\n")
msg_file = os.path.join(work, "msg.eml")
with open(msg_file, "wb") as fh:
    fh.write(msg)

FROM = "reports@sender.example"


def send(*args, to=("r@rcpt.example",)):
    cmd = [DRIVER, "--from", FROM, "--helo", "client.example", "--timeout-ms", "10000"]
    for t in to:
        cmd += ["--to", t]
    cmd += list(args) + [msg_file]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    lines = p.stdout.splitlines()
    res = {"exit": p.returncode, "stdout": p.stdout, "stderr": p.stderr}
    if lines:
        for kv in lines[0].split():
            k, _, v = kv.partition("=")
            res[k] = v
    res["text"] = lines[1][5:] if len(lines) > 1 else ""
    res["error"] = lines[2][6:] if len(lines) > 2 else ""
    return res


def ok_want(res, name, **kw):
    bad = ["%s: got %s, want %s" % (k, res.get(k), v) for k, v in kw.items()
           if res.get(k) != str(v)]
    ok(not bad, name, "\n".join(bad) + "\n" + res["stdout"] + res["stderr"])


def ok_transcript(got, want, name):
    ok(got == want, name, "got  %r\nwant %r" % (got, want))


def head(rcpts=("r@rcpt.example",)):
    t = b"EHLO client.example\r\nMAIL FROM:<reports@sender.example>\r\n"
    for r in rcpts:
        t += b"RCPT TO:<%s>\r\n" % r.encode()
    return t


FULL = head() + b"DATA\r\n" + stuffed + b"QUIT\r\n"

print("1..50")

# 1-4: relay, 250: exact transcript with dot-stuffing
srv.reset()
r = send("--url", URL)
ok_want(r, "relay 250: sent", rc=0, outcome="sent", code=250, tls=0)
ok(r["text"] == "250 2.0.0 queued as 1234", "reply text kept", "got %r" % r["text"])
s = srv.wait_sessions(1)
ok(len(s) == 1, "one connection", "got %d" % len(s))
ok_transcript(s[0] if s else b"", FULL, "exact transcript, message dot-stuffed")

# 5-6: two recipients in one transaction
srv.reset()
r = send("--url", URL, to=("a@rcpt.example", "b@rcpt.example"))
ok_want(r, "two recipients: sent", rc=0, outcome="sent", code=250)
s = srv.wait_sessions(1)
ok_transcript(s[0] if s else b"",
              head(("a@rcpt.example", "b@rcpt.example")) + b"DATA\r\n" + stuffed + b"QUIT\r\n",
              "two RCPT TO lines")

# 7-9: 451 at MAIL: temporary
srv.reset(MAIL=b"451 4.3.0 try again later")
r = send("--url", URL)
ok_want(r, "451 at MAIL: tempfail", rc=-6, outcome="tempfail", code=451)
ok(r["text"] == "451 4.3.0 try again later", "451 text", "got %r" % r["text"])
ok(r["error"] == URL + ": 451 4.3.0 try again later", "451 error message",
   "got %r" % r["error"])

# 10-12: 550 at RCPT: permanent, no DATA sent
srv.reset(RCPT=b"550 5.1.1 no such user")
r = send("--url", URL)
ok_want(r, "550 at RCPT: permfail", rc=-111, outcome="permfail", code=550)
ok(r["text"] == "550 5.1.1 no such user", "550 text", "got %r" % r["text"])
s = srv.wait_sessions(1)
ok(s and b"DATA" not in s[0] and s[0].startswith(head()), "no DATA after a refused RCPT",
   "got %r" % (s[0] if s else None))

# 13-14: 451 after the data: temporary, the whole message was sent
srv.reset(END=b"451 4.7.1 greylisted")
r = send("--url", URL)
ok_want(r, "451 after data: tempfail", rc=-6, outcome="tempfail", code=451)
s = srv.wait_sessions(1)
ok(s and s[0].startswith(head() + b"DATA\r\n" + stuffed), "data sent before the 451",
   "got %r" % (s[0] if s else None))

# 15: 550 after the data: permanent
srv.reset(END=b"554 5.7.1 rejected as spam")
r = send("--url", URL)
ok_want(r, "554 after data: permfail", rc=-111, outcome="permfail", code=554)

# 16: 421 greeting: temporary
srv.reset(greeting=b"421 4.3.2 too busy")
r = send("--url", URL)
ok_want(r, "421 greeting: tempfail", rc=-6, outcome="tempfail", code=421)

# 17-18: connection refused: temporary, no code
sk = socket.socket()
sk.bind(("127.0.0.1", 0))
dead = sk.getsockname()[1]
sk.close()
r = send("--url", "smtp://127.0.0.1:%d" % dead)
ok_want(r, "connection refused: tempfail", rc=-6, outcome="tempfail", code=0)
ok("connect" in r["error"].lower(), "connection error text", r["error"])

# 19-21: relay with STARTTLS required and the self-signed certificate: verification on
srv.reset(starttls="good")
r = send("--url", URL, "--starttls", "required")
ok_want(r, "relay verifies the certificate: tempfail", rc=-6, outcome="tempfail",
        cleartext_retry=0)
ok("certificate" in r["error"].lower(), "certificate error text", r["error"])
s = srv.wait_sessions(1)
ok(s and b"MAIL FROM" not in b"".join(s), "nothing sent in the clear by a relay with TLS",
   "got %r" % s)

# 22-23: the same with --insecure: sent over TLS
srv.reset(starttls="good")
r = send("--url", URL, "--starttls", "required", "--insecure")
ok_want(r, "relay STARTTLS insecure: sent over TLS", rc=0, outcome="sent", tls=1)
s = srv.wait_sessions(1)
ok_transcript(s[0] if s else b"",
              b"EHLO client.example\r\nSTARTTLS\r\n<TLS>\r\n" + FULL, "STARTTLS transcript")

# 24: relay with the certificate's CA: verified and sent
srv.reset(starttls="good")
r = send("--url", "smtp://localhost:%d" % srv.port, "--starttls", "required",
         "--ca-file", cert)
ok_want(r, "relay STARTTLS verified with CA file: sent", rc=0, outcome="sent", tls=1)

# 25-26: STARTTLS required but not offered: temporary failure
srv.reset()
r = send("--url", URL, "--starttls", "required")
ok_want(r, "STARTTLS required, not offered: tempfail", rc=-6, outcome="tempfail")
ok(r["error"] == URL + ": STARTTLS not supported.", "STARTTLS required error text",
   "got %r" % r["error"])

# 27-28: AUTH PLAIN on the relay
srv.reset(auth=True)
r = send("--url", URL, "--starttls", "none", "--user", "rep", "--password", "s3cret")
ok_want(r, "AUTH: sent", rc=0, outcome="sent")
s = srv.wait_sessions(1)
ok_transcript(s[0] if s else b"",
              b"EHLO client.example\r\nAUTH PLAIN\r\nAHJlcABzM2NyZXQ=\r\n" + FULL[21:],
              "AUTH PLAIN exchange")

# 29-30: direct to one host: opportunistic STARTTLS, self-signed accepted
srv.reset(starttls="good")
r = send("--host", "127.0.0.1", "--port", str(srv.port))
ok_want(r, "direct STARTTLS, no verification: sent over TLS", rc=0, outcome="sent", tls=1,
        cleartext_retry=0)
s = srv.wait_sessions(1)
ok_transcript(s[0] if s else b"",
              b"EHLO client.example\r\nSTARTTLS\r\n<TLS>\r\n" + FULL, "direct TLS transcript")

# 31-32: direct, broken handshake: retried on the same host in the clear
srv.reset(starttls="broken")
r = send("--host", "127.0.0.1", "--port", str(srv.port))
ok_want(r, "broken TLS: sent in the clear", rc=0, outcome="sent", tls=0, cleartext_retry=1)
s = srv.wait_sessions(2)
ok(len(s) == 2 and s[0] == b"EHLO client.example\r\nSTARTTLS\r\n" and s[1] == FULL,
   "first session stops at STARTTLS, second is the clear-text transaction", "got %r" % s)

# 33-34: the same when the garbage arrives with the 220 reply
srv.reset(starttls="glued")
r = send("--host", "127.0.0.1", "--port", str(srv.port))
ok_want(r, "garbage after 220: sent in the clear", rc=0, outcome="sent", tls=0,
        cleartext_retry=1)
s = srv.wait_sessions(2)
ok(len(s) == 2 and s[0] == b"EHLO client.example\r\nSTARTTLS\r\n" and s[1] == FULL,
   "glued: second session is the clear-text transaction", "got %r" % s)

# 35-38: relay STARTTLS try without an offer: clear text; none with an offer: no STARTTLS
srv.reset()
r = send("--url", URL, "--starttls", "try")
ok_want(r, "relay try, not offered: sent in the clear", rc=0, outcome="sent", tls=0)
s = srv.wait_sessions(1)
ok_transcript(s[0] if s else b"", FULL, "try without an offer: plain transcript")
srv.reset(starttls="good")
r = send("--url", URL, "--starttls", "none")
ok_want(r, "relay none, offered: sent in the clear", rc=0, outcome="sent", tls=0)
s = srv.wait_sessions(1)
ok_transcript(s[0] if s else b"", FULL, "none: STARTTLS never sent")

# 39-50: MX delivery with local DNS data
dns_file = os.path.join(work, "zone.txt")
with open(dns_file, "w") as fh:
    fh.write("zone rcpt.example static\n"
             "rcpt.example. 300 IN MX 20 mx2.rcpt.example.\n"
             "rcpt.example. 300 IN MX 10 mx1.rcpt.example.\n"
             "mx1.rcpt.example. 300 IN A 127.0.0.2\n"
             "mx2.rcpt.example. 300 IN A 127.0.0.1\n"
             "implicit.example. 300 IN A 127.0.0.1\n"
             "nullmx.example. 300 IN MX 0 .\n"
             "noaddr.example. 300 IN TXT \"no mail here\"\n"
             "lame.example. 300 IN MX 10 nowhere.lame.example.\n")
srv.reset()
r = send("--mx", "rcpt.example", "--port", str(srv.port), "--dns-data", dns_file,
         "--connect-timeout-ms", "2000")
ok_want(r, "MX: first host refuses, second takes it", rc=0, outcome="sent",
        host="mx2.rcpt.example", addr="127.0.0.1")
srv.reset(RCPT=b"550 5.1.1 no such user")
r = send("--mx", "rcpt.example", "--port", str(srv.port), "--dns-data", dns_file)
ok_want(r, "MX: 550 is permanent", rc=-111, outcome="permfail", code=550)
want_err = "smtp: rcpt.example: mx2.rcpt.example[127.0.0.1]: 550 5.1.1 no such user"
ok(r["error"] == want_err, "MX error text", "got %r, want %r" % (r["error"], want_err))
srv.reset()
r = send("--mx", "implicit.example", "--port", str(srv.port), "--dns-data", dns_file)
ok_want(r, "implicit MX: the domain itself", rc=0, outcome="sent", host="implicit.example")
r = send("--mx", "nullmx.example", "--port", str(srv.port), "--dns-data", dns_file)
ok_want(r, "null MX: permanent, nothing sent", rc=-111, outcome="permfail")
ok(r["error"] == "smtp: nullmx.example: null MX, the domain accepts no mail",
   "null MX error text", "got %r" % r["error"])
r = send("--mx", "nothere.rcpt.example", "--port", str(srv.port), "--dns-data", dns_file)
ok_want(r, "NXDOMAIN: permanent", rc=-111, outcome="permfail")
ok(r["error"] == "smtp: nothere.rcpt.example: domain does not exist (NXDOMAIN)",
   "NXDOMAIN error text", "got %r" % r["error"])

r = send("--mx", "noaddr.example", "--port", str(srv.port), "--dns-data", dns_file)
ok_want(r, "no MX, no address: permanent", rc=-111, outcome="permfail")
ok(r["error"] == "smtp: noaddr.example: no MX and no address record", "no address error text",
   "got %r" % r["error"])
r = send("--mx", "lame.example", "--port", str(srv.port), "--dns-data", dns_file)
ok_want(r, "MX host without address: temporary", rc=-6, outcome="tempfail")
ok(r["error"] == "smtp: lame.example: nowhere.lame.example has no address",
   "MX host without address error text", "got %r" % r["error"])

sys.exit(1 if failed else 0)
