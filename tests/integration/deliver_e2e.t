#!/usr/bin/python3
# deliver_e2e.t - report delivery end to end (src/outbound/deliver.c, `tlsrpt deliver`).
#
# Results are recorded through the real daemon for a set of policy domains, the
# reports generated with a pretended clock (`tlsrpt generate --immediate --now G`),
# then `tlsrpt deliver --now ...` passes run (each a new process: the state lives only
# in the store) against a fake SMTP relay and a local HTTPS server (self-signed
# certificate from the openssl CLI, delivery.https-ignore-cert on; DKIM keys from
# `tlsrpt dkim keygen`), with the
# `_smtp._tls` records served from a local DNS zone file (no network).  Checks the
# exact SMTP transcript, the delivered message (headers, the gzip attachment equal to
# the outbox body, two DKIM signatures that verify with dkimpy), HTTPS method/headers/
# body, 4xx-then-2xx, 5xx, timeouts, 24 h give-up, the exactly-one-record rule, a
# destination no longer published, no double sends, outbox retry/cancel.
import email
import email.policy
import gzip
import http.server
import os
import re
import socket
import sqlite3
import ssl
import subprocess
import sys
import threading
import time

import dkim

B = os.environ.get("B", "build")
TMP = os.environ.get("TLSRPT_TEST_TMP") or "/tmp"
T = os.path.join(TMP, "deliver_e2e.%d" % os.getpid())
os.makedirs(T, exist_ok=True)
TLSRPT = os.path.join(B, "tlsrpt")



sys.path.insert(0, "tests/lib")
from fake_smtp import FakeSMTP  # noqa: E402
from tap import check, finish, ok, okn, run  # noqa: E402


smtp = FakeSMTP()

# ------------------------------------------------------------------ HTTPS server
cert = os.path.join(T, "cert.pem")
key = os.path.join(T, "key.pem")
subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key, "-out", cert,
                "-days", "2", "-subj", "/CN=localhost"],
               check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
posts = []  # (path, method, headers, body)
http_plan = {"/r503": [503], "/h404": [404, 404, 404, 404, 404]}


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        posts.append((self.path, self.command, dict(self.headers), body))
        if self.path == "/slow":
            time.sleep(3)
        q = http_plan.get(self.path, [])
        code = q.pop(0) if q else 200
        self.send_response(code)
        self.send_header("Content-Length", "0")
        self.end_headers()


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        pass


httpd = Server(("127.0.0.1", 0), Handler)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(cert, key)
httpd.socket = ctx.wrap_socket(httpd.socket, server_side=True)
HPORT = httpd.server_address[1]
threading.Thread(target=httpd.serve_forever, daemon=True).start()
H = "https://127.0.0.1:%d" % HPORT

# ------------------------------------------------------------------ DKIM keys
rsa_key = os.path.join(T, "rsa.pem")
ed_key = os.path.join(T, "ed.pem")


def keygen(alg, sel, path):
    """`tlsrpt dkim keygen`; returns the TXT record it prints (strings joined)."""
    r = run(TLSRPT, "dkim", "keygen", "--algorithm", alg, "--domain", "example.org",
            "--selector", sel, "--out", path, "--id", sel)
    line = [l for l in r.stdout.splitlines() if " IN TXT " in l]
    if r.returncode or not line:
        print("# keygen failed: %s %s" % (r.stdout, r.stderr))
        return b""
    return "".join(re.findall(r'"([^"]*)"', line[0])).encode()


dkim_txt = {
    b"rsa._domainkey.example.org.": keygen("rsa", "rsa", rsa_key),
    b"ed._domainkey.example.org.": keygen("ed25519", "ed", ed_key),
}

# ------------------------------------------------------------------ config
with open("etc/tlsrptd.toml") as f:
    base_conf = f.read()


def conf_with(extra_sign):
    c = base_conf
    c = re.sub(r'(?m)^socket = .*', 'socket = "%s/collector.sock"' % T, c)
    c = re.sub(r'(?m)^path = .*', 'path = "%s/tlsrptd.sqlite"' % T, c)
    c = re.sub(r'(?m)^listen = .*', 'listen = "127.0.0.1:0"', c)
    c = re.sub(r'(?m)^relay = .*',
               'relay = "smtp://127.0.0.1:%d"\nhttps-ignore-cert = true\n'
               'timeout = "1s"\nconnect-timeout = "2s"' % smtp.port, c)
    if extra_sign:
        c = re.sub(r'(?m)^sign = .*', 'sign = "[\'rsa\', \'ed\']"', c)
        c += ('\n[server]\nhostname = "mx.example.org"\n'
              '[signature.rsa]\nprivate-key = "%%{file:%s}%%"\ndomain = "example.org"\n'
              'selector = "rsa"\nalgorithm = "rsa-sha256"\n'
              '[signature.ed]\nprivate-key = "%%{file:%s}%%"\ndomain = "example.org"\n'
              'selector = "ed"\nalgorithm = "ed25519-sha256"\n') % (rsa_key, ed_key)
    return c


daemon_conf = os.path.join(T, "daemon.toml")
conf = os.path.join(T, "tlsrptd.toml")
with open(daemon_conf, "w") as f:
    f.write(conf_with(False))
with open(conf, "w") as f:
    f.write(conf_with(True))

# ------------------------------------------------------------------ outbox content
# domain -> record at collection time
recorded = {
    "a.example": "v=TLSRPTv1; rua=mailto:tls@a.example",
    "h.example": "v=TLSRPTv1; rua=mailto:tls@p.example,%s/ok" % H,
    "r.example": "v=TLSRPTv1; rua=mailto:tls@r.example,%s/r503" % H,
    "g.example": "v=TLSRPTv1; rua=mailto:tls@g.example,%s/h404" % H,
    "t.example": "v=TLSRPTv1; rua=%s/slow" % H,
    "two.example": "v=TLSRPTv1; rua=mailto:tls@two.example",
    "gone.example": "v=TLSRPTv1; rua=mailto:old@gone.example",
    "none.example": "v=TLSRPTv1; rua=mailto:tls@none.example",
}
zone = dict(recorded)
zone["gone.example"] = "v=TLSRPTv1; rua=mailto:new@gone.example"
del zone["none.example"]
with open(os.path.join(T, "zone"), "w") as f:
    for d, r in zone.items():
        f.write('_smtp._tls.%s. 300 IN TXT "%s"\n' % (d, r))
    f.write('_smtp._tls.two.example. 300 IN TXT "v=TLSRPTv1; rua=mailto:x@two.example"\n')
ZONE = os.path.join(T, "zone")
smtp.plan = {"tls@p.example": [b"550 5.1.1 no such user"],
             "tls@r.example": [b"451 4.3.0 try later"],
             "tls@g.example": [b"451 4.3.0 busy"] * 10}

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
check("generate puts 8 reports into the outbox", r.stdout.strip(),
      "windows=8 reports=8 invalid=0 split=0 dropped-details=0 not-yet=0")

db = sqlite3.connect(os.path.join(T, "tlsrptd.sqlite"))


def rows():
    out = {}
    for dom, dest, state, att, err in db.execute(
            "SELECT r.domain, d.dest, d.state, d.attempts, d.last_error FROM "
            "outbox_deliveries d JOIN outbox_reports r ON r.id = d.report"):
        out[dest] = (["pending", "sent", "failed", "given-up"][state], att, err or "")
    return out


def deliver(now):
    r = run(TLSRPT, "deliver", "--config", conf, "--dns-zone", ZONE, "--now", str(now))
    if r.returncode:
        print("# deliver rc=%d: %s" % (r.returncode, r.stderr))
    return r.stdout.strip()


# ------------------------------------------------------------------ pass 1
P1 = G + 10
out = deliver(P1)
check("pass 1 counts", out, "reports=8 attempts=11 sent=2 failed=5 given-up=4")
st = rows()
want1 = {
    "mailto:tls@a.example": ("sent", 1),
    "mailto:tls@p.example": ("given-up", 1),
    H + "/ok": ("sent", 1),
    "mailto:tls@r.example": ("failed", 1),
    H + "/r503": ("failed", 1),
    "mailto:tls@g.example": ("failed", 1),
    H + "/h404": ("failed", 1),
    H + "/slow": ("failed", 1),
    "mailto:tls@two.example": ("given-up", 1),
    "mailto:old@gone.example": ("given-up", 1),
    "mailto:tls@none.example": ("given-up", 1),
}
for dest, w in want1.items():
    got = st.get(dest, ("missing", 0, ""))
    check("after pass 1 %s is %s" % (dest, w[0]), got[:2], w)
check("5xx error recorded", st["mailto:tls@p.example"][2],
      "smtp://127.0.0.1:%d: 550 5.1.1 no such user" % smtp.port)
okn("two records: given up with the exactly-one reason",
   "2 TLSRPT records" in st["mailto:tls@two.example"][2], st["mailto:tls@two.example"][2])
check("destination no longer published",
      st["mailto:old@gone.example"][2], "no longer published in the current TLSRPT record")
check("new destination in the current record is not added",
      "mailto:new@gone.example" in st, False)
okn("no record: given up with the reason",
   st["mailto:tls@none.example"][2].startswith("no TLSRPT record at _smtp._tls.none.example"),
   st["mailto:tls@none.example"][2])
okn("HTTPS 503 recorded", "503" in st[H + "/r503"][2], st[H + "/r503"][2])
okn("HTTPS timeout recorded", "timed out" in st[H + "/slow"][2], st[H + "/slow"][2])
check("HTTP 404 recorded", st[H + "/h404"][2], H + "/h404: HTTP 404")

# ------------------------------------------------------------------ the SMTP transcript
sess = smtp.of("tls@a.example")
check("one SMTP session for tls@a.example", len(sess), 1)
raw = sess[0] if sess else b""
head, _, rest = raw.partition(b"DATA\r\n")
check("SMTP transcript before DATA", head,
      b"EHLO mx.example.org\r\nMAIL FROM:<tls-reports@example.org>\r\n"
      b"RCPT TO:<tls@a.example>\r\n")
body, _, tail = rest.partition(b"\r\n.\r\n")
check("SMTP transcript after DATA", tail, b"QUIT\r\n")
msg_bytes = re.sub(rb"(?m)^\.\.", b".", body + b"\r\n")
m = email.message_from_bytes(msg_bytes, policy=email.policy.SMTP)
check("From", str(m["From"]), "TLS Report <tls-reports@example.org>")
check("To", m["To"], "tls@a.example")
check("TLS-Report-Domain", m["TLS-Report-Domain"], "a.example")
check("TLS-Report-Submitter", m["TLS-Report-Submitter"], "mx.example.org")
check("TLS-Required", m["TLS-Required"], "No")
okn("Subject names the report", str(m["Subject"]).startswith(
    "Report Domain: a.example Submitter: mx.example.org Report-ID: <"), m["Subject"])
check("Date from the pretended clock",
      email.utils.parsedate_to_datetime(m["Date"]).timestamp(), float(P1))
sigs = m.get_all("DKIM-Signature") or []
check("two DKIM signatures", len(sigs), 2)
okn("rsa first, then ed25519", len(sigs) == 2 and "a=rsa-sha256" in sigs[0].replace(" ", "")
   and "a=ed25519-sha256" in sigs[1].replace(" ", ""), sigs)
att = [p for p in m.walk() if p.get_content_type() == "application/tlsrpt+gzip"]
check("one application/tlsrpt+gzip attachment", len(att), 1)
stored = db.execute("SELECT body, filename FROM outbox_reports WHERE domain='a.example'"
                    ).fetchone()
if att:
    got = att[0].get_payload(decode=True)
    check("attachment equals the outbox body", got, stored[0])
    check("attachment filename", att[0].get_filename(), stored[1])
    okn("attachment decodes to the report JSON",
       b'"policy-domain":"a.example"' in gzip.decompress(got).replace(b" ", b""))


def dnsfunc(name, timeout=5):
    return dkim_txt.get(name if isinstance(name, bytes) else name.encode(), b"")


for i in range(2):
    okn("DKIM signature %d verifies with dkimpy" % (i + 1),
        dkim.DKIM(msg_bytes).verify(idx=i, dnsfunc=dnsfunc))
# the same message after a relay: a Received field on top still verifies
relayed = b"Received: from mx.example.org by relay.test; Sun, 1 Jan 2026 00:00:00 +0000\r\n" \
          + msg_bytes
d0 = dkim.DKIM(relayed)
okn("after a relay (Received prepended) both signatures verify",
   d0.verify(idx=0, dnsfunc=dnsfunc) and d0.verify(idx=1, dnsfunc=dnsfunc))

# ------------------------------------------------------------------ HTTPS request
okp = [p for p in posts if p[0] == "/ok"]
check("one POST to /ok", len(okp), 1)
if okp:
    hb = stored_h = db.execute("SELECT body FROM outbox_reports WHERE domain='h.example'"
                               ).fetchone()[0]
    check("method", okp[0][1], "POST")
    check("Content-Type", okp[0][2].get("Content-Type"), "application/tlsrpt+gzip")
    okn("User-Agent", okp[0][2].get("User-Agent", "").startswith("tlsrptd/"), okp[0][2])
    check("body is the outbox gzip body", okp[0][3], hb)
check("mailto 550 and https 200 of one report are independent",
      (st["mailto:tls@p.example"][0], st[H + "/ok"][0]), ("given-up", "sent"))

# ------------------------------------------------------------------ no double send
out = deliver(P1)
check("pass 2 at the same time: nothing due", out,
      "reports=0 attempts=0 sent=0 failed=0 given-up=0")
check("no second session for tls@a.example", len(smtp.of("tls@a.example")), 1)
check("no second POST to /ok", len([p for p in posts if p[0] == "/ok"]), 1)

# ------------------------------------------------------------------ pass 3: retries
out = deliver(P1 + 4000)
check("pass 3 (new process, state from the store) counts", out,
      "reports=3 attempts=5 sent=2 failed=3 given-up=0")
st = rows()
check("4xx then 2xx: tls@r.example sent after the retry", st["mailto:tls@r.example"][:2],
      ("sent", 2))
check("503 then 200: /r503 sent after the retry", st[H + "/r503"][:2], ("sent", 2))
check("tls@a.example still sent once", st["mailto:tls@a.example"][:2], ("sent", 1))
check("sessions for tls@r.example", len(smtp.of("tls@r.example")), 2)

# ------------------------------------------------------------------ 24 h give-up
out = deliver(G + 86300)
check("pass 4 near retry-until gives up the rest", out,
      "reports=2 attempts=3 sent=0 failed=0 given-up=3")
st = rows()
check("g.example mailto given up", st["mailto:tls@g.example"][0], "given-up")
okn("reason names retry-until", st["mailto:tls@g.example"][2].startswith(
    "retry-until passed; last error: "), st["mailto:tls@g.example"][2])
check("/h404 given up", st[H + "/h404"][:2], ("given-up", 3))
check("/slow given up", st[H + "/slow"][0], "given-up")

# ------------------------------------------------------------------ retry / cancel
pid = db.execute("SELECT id FROM outbox_reports WHERE domain='h.example'").fetchone()[0]
r = run(TLSRPT, "outbox", "retry", "--config", conf, str(pid))
check("outbox retry: one row (the sent one stays)", r.stdout.strip(), "changed=1")
out = deliver(G + 86350)
check("retried row is tried once more", out,
      "reports=1 attempts=1 sent=1 failed=0 given-up=0")
check("tls@p.example sent after the operator retry", rows()["mailto:tls@p.example"][:2],
      ("sent", 2))
check("/ok still posted once", len([p for p in posts if p[0] == "/ok"]), 1)
gid = db.execute("SELECT id FROM outbox_reports WHERE domain='g.example'").fetchone()[0]
run(TLSRPT, "outbox", "retry", "--config", conf, str(gid))
r = run(TLSRPT, "outbox", "cancel", "--config", conf, str(gid))
check("outbox cancel", r.stdout.strip(), "changed=2")
check("cancelled rows", rows()["mailto:tls@g.example"][::2], ("given-up",
                                                               "cancelled by the operator"))
r = run(TLSRPT, "outbox", "cancel", "--config", conf, "999999")
check("cancel of a missing report", (r.returncode, r.stderr.strip()),
      (1, "tlsrpt: outbox cancel: outbox: no report 999999"))

# ------------------------------------------------------------------ the daemon's workers
# g.example's two rows are made due again; the daemon (delivery.workers = 4 threads, a
# pass at start) must try each exactly once.  It resolves with the system resolver, so
# the outcome (NXDOMAIN: given-up, no resolver: failed) depends on the machine; the
# attempt counts do not.
gdests = ("mailto:tls@g.example", H + "/h404")
before = {k: v[1] for k, v in rows().items() if k in gdests}
run(TLSRPT, "outbox", "retry", "--config", conf, str(gid))
derr2 = open(os.path.join(T, "d2.err"), "w")
d = subprocess.Popen([os.path.join(B, "tlsrptd"), "--foreground", "--config", conf],
                     stderr=derr2)
for _ in range(200):
    if all(v[0] != "pending" for k, v in rows().items() if k in gdests):
        break
    time.sleep(0.05)
time.sleep(0.3)
d.terminate()
d.wait()
after = {k: v for k, v in rows().items() if k in gdests}
check("daemon workers tried each due row exactly once",
      {k: v[1] - before[k] for k, v in after.items()},
      {"mailto:tls@g.example": 1, H + "/h404": 1})
okn("daemon rows left pending state", all(v[0] in ("failed", "given-up")
                                           for v in after.values()), after)
with open(os.path.join(T, "d2.err")) as f:
    dlog = f.read()
okn("daemon started delivery (no 'report delivery disabled')",
    "report delivery disabled" not in dlog and d.returncode == 0, dlog[-2000:])

# ------------------------------------------------------------------ signer errors at start
bad = os.path.join(T, "bad.toml")
with open(bad, "w") as f:
    f.write(conf_with(True).replace("sign = \"['rsa', 'ed']\"", "sign = \"['rsa', 'nope']\""))
r = run(TLSRPT, "deliver", "--config", bad, "--dns-zone", ZONE, "--now", str(G))
check("unknown signature id is an error at start", (r.returncode, r.stderr.strip()),
      (1, "tlsrpt: deliver: %s: report.tls.aggregate.sign: unknown signature id 'nope' "
          "(no [signature.nope] block)" % bad))
with open(bad, "w") as f:
    f.write(conf_with(True).replace(ed_key, cert))
r = run(TLSRPT, "deliver", "--config", bad, "--dns-zone", ZONE, "--now", str(G))
okn("unloadable key is an error at start",
   r.returncode == 1 and "signature.ed: private-key" in r.stderr, r.stderr)

finish()
