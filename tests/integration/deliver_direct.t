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



sys.path.insert(0, "tests/lib")
from fake_smtp import FakeSMTP  # noqa: E402
from tap import check, finish, ok, okn, run  # noqa: E402


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

finish()
