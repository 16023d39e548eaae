#!/usr/bin/python3
# deliver_direct.t - delivery.mode = direct: report mail goes to the rua domain's MX
# (local DNS zone: MX and A records pointing at a fake SMTP server on 127.0.0.1,
# `tlsrpt deliver --direct-port`), unsigned when `sign` is empty.  Checks the
# transcript (EHLO server.hostname, MAIL FROM from-address), a 550 from the MX
# (given-up), a null MX (given-up), a domain whose MX has no address (failed), and the
# delivery.bcc archive copy of the delivered report.
#
import os
import re
import socket
import sqlite3
import subprocess
import sys
import threading
import time

B = os.environ.get("B", "build")
TMP = os.environ.get("TLSRPT_TEST_TMP") or "/tmp"
T = os.path.join(TMP, "deliver_direct.%d" % os.getpid())
os.makedirs(T, exist_ok=True)
TLSRPT = os.path.join(B, "tlsrpt")

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


def okn(name, cond, detail=""):
    ok(cond, name, detail)


def check(name, got, want):
    ok(got == want, name, "got %r, want %r" % (got, want))


def run(*args, **kw):
    return subprocess.run(list(args), capture_output=True, text=True, **kw)


# ------------------------------------------------------------------ fake SMTP relay
class FakeSMTP:
    """Records every line per session; RCPT replies per recipient from self.plan
    (a list of replies popped per attempt, then 250)."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.plan = {}
        self.sessions = []  # (rcpt, bytes)
        self.lock = threading.Lock()
        threading.Thread(target=self.serve, daemon=True).start()

    def serve(self):
        while True:
            conn, _ = self.sock.accept()
            threading.Thread(target=self.session, args=(conn,), daemon=True).start()

    def session(self, conn):
        rec = bytearray()
        rcpt = [None]
        conn.settimeout(10)
        f = conn.makefile("rb")

        def send(line):
            conn.sendall(line + b"\r\n")
        try:
            send(b"220 relay.test ESMTP")
            while True:
                line = f.readline()
                if not line:
                    return
                rec += line
                verb = line.split(b" ", 1)[0].split(b":", 1)[0].strip().upper()
                if verb == b"EHLO":
                    send(b"250-relay.test")
                    send(b"250 8BITMIME")
                elif verb == b"MAIL":
                    send(b"250 2.1.0 ok")
                elif verb == b"RCPT":
                    addr = line.split(b"<", 1)[1].split(b">", 1)[0].decode()
                    rcpt[0] = addr
                    with self.lock:
                        q = self.plan.get(addr, [])
                        reply = q.pop(0) if q else b"250 2.1.5 ok"
                    send(reply)
                elif verb == b"DATA":
                    send(b"354 go ahead")
                    while True:
                        dl = f.readline()
                        if not dl:
                            return
                        rec += dl
                        if dl == b".\r\n":
                            break
                    send(b"250 2.0.0 queued")
                elif verb == b"QUIT":
                    send(b"221 2.0.0 bye")
                    return
                else:
                    send(b"250 ok")
        except OSError:
            return
        finally:
            with self.lock:
                self.sessions.append((rcpt[0], bytes(rec)))
            conn.close()

    def of(self, rcpt):
        with self.lock:
            return [s for r, s in self.sessions if r == rcpt]


smtp = FakeSMTP()


with open("etc/tlsrptd.toml") as f:
    base_conf = f.read()


def conf_with(direct):
    c = base_conf
    c = re.sub(r'(?m)^socket = .*', 'socket = "%s/collector.sock"' % T, c)
    c = re.sub(r'(?m)^path = .*', 'path = "%s/tlsrptd.sqlite"' % T, c)
    c = re.sub(r'(?m)^listen = .*', 'listen = "127.0.0.1:0"', c)
    c = re.sub(r'(?m)^relay = .*', 'relay = "smtp://127.0.0.1:1"\ntimeout = "5s"', c)
    if direct:
        c = re.sub(r'(?m)^mode = "relay".*', 'mode = "direct"\nbcc = "archive@arch.example"', c)
        c = re.sub(r'(?m)^sign = .*', 'sign = "[]"', c)
        c += '\n[server]\nhostname = "mx.example.org"\n'
    return c


daemon_conf = os.path.join(T, "daemon.toml")
conf = os.path.join(T, "tlsrptd.toml")
with open(daemon_conf, "w") as f:
    f.write(conf_with(False))
with open(conf, "w") as f:
    f.write(conf_with(True))

recorded = {
    "d.example": "v=TLSRPTv1; rua=mailto:tls@rua.d.example",
    "p.example": "v=TLSRPTv1; rua=mailto:tls@p.example",
    "nullmx.example": "v=TLSRPTv1; rua=mailto:tls@nullmx.example",
    "noaddr.example": "v=TLSRPTv1; rua=mailto:tls@noaddr.example",
}
ZONE = os.path.join(T, "zone")
with open(ZONE, "w") as f:
    for d, r in recorded.items():
        f.write('_smtp._tls.%s. 300 IN TXT "%s"\n' % (d, r))
    f.write("rua.d.example. 300 IN MX 10 mx1.d.example.\n")
    f.write("mx1.d.example. 300 IN A 127.0.0.1\n")
    f.write("p.example. 300 IN MX 10 mx.p.example.\n")
    f.write("mx.p.example. 300 IN A 127.0.0.1\n")
    f.write("nullmx.example. 300 IN MX 0 .\n")
    f.write("arch.example. 300 IN MX 10 mx.arch.example.\n")
    f.write("mx.arch.example. 300 IN A 127.0.0.1\n")
    f.write("noaddr.example. 300 IN MX 10 mx.noaddr.example.\n")
smtp.plan = {"tls@p.example": [b"550 5.7.1 go away"]}

derr = open(os.path.join(T, "d.err"), "w")
d = subprocess.Popen([os.path.join(B, "tlsrptd"), "--foreground", "--config", daemon_conf],
                     stderr=derr)
for _ in range(200):
    with open(os.path.join(T, "d.err")) as f:
        if " ready" in f.read():
            break
    time.sleep(0.05)
two_days_ago = int(time.time()) - 2 * 86400
for dom, rec in recorded.items():
    r = run(TLSRPT, "record", "--socket", T + "/collector.sock", "--domain", dom,
            "--record", rec, "--policy", "sts", "--policy-string", "version: STSv1",
            "--mx-host", "mx." + dom, "--time", str(two_days_ago), "--count", "3")
    if r.returncode:
        print("# record:", r.stderr)
d.terminate()
d.wait()
G = int(time.time())
r = run(TLSRPT, "generate", "--config", conf, "--immediate", "--now", str(G))
check("generate puts 4 reports into the outbox", r.stdout.strip(),
      "windows=4 reports=4 invalid=0 split=0 dropped-details=0 not-yet=0")
db = sqlite3.connect(os.path.join(T, "tlsrptd.sqlite"))


def rows():
    out = {}
    for dest, state, att, err in db.execute(
            "SELECT dest, state, attempts, last_error FROM outbox_deliveries"):
        out[dest] = (["pending", "sent", "failed", "given-up"][state], att, err or "")
    return out


r = run(TLSRPT, "deliver", "--config", conf, "--dns-zone", ZONE, "--now", str(G + 5),
        "--direct-port", str(smtp.port))
check("direct pass counts", r.stdout.strip(),
      "reports=4 attempts=4 sent=1 failed=1 given-up=2")
st = rows()
check("MX delivery sent", st["mailto:tls@rua.d.example"][:2], ("sent", 1))
check("550 from the MX: given up", st["mailto:tls@p.example"][0], "given-up")
okn("550 reason recorded", "550 5.7.1 go away" in st["mailto:tls@p.example"][2],
    st["mailto:tls@p.example"][2])
check("null MX: given up", st["mailto:tls@nullmx.example"][0], "given-up")
check("MX without address: failed (retried)", st["mailto:tls@noaddr.example"][0], "failed")
sess = smtp.of("tls@rua.d.example")
check("one session at the MX", len(sess), 1)
raw = sess[0] if sess else b""
head_, _, rest = raw.partition(b"DATA\r\n")
check("direct transcript", head_,
      b"EHLO mx.example.org\r\nMAIL FROM:<tls-reports@example.org>\r\n"
      b"RCPT TO:<tls@rua.d.example>\r\n")
okn("unsigned with sign = []", b"DKIM-Signature" not in rest, rest[:300])
okn("ends with QUIT", rest.endswith(b"\r\n.\r\nQUIT\r\n"), rest[-40:])

copies = smtp.of("archive@arch.example")
check("delivery.bcc: one copy (one report was delivered)", len(copies), 1)
c0 = copies[0] if copies else b""
okn("the copy is addressed to the archive and is d.example's report",
    b"\r\nTo: archive@arch.example\r\n" in c0 and b"\r\nTLS-Report-Domain: d.example\r\n" in c0,
    c0[:600])

print("1..%d" % n)
sys.exit(1 if failed else 0)
