#!/usr/bin/python3
# inbound_https.t - the daemon's report upload endpoint with TLS and its rate limit.
#
# TLS: a self-signed certificate made by `openssl req`; curl --cacert POSTs a corpus
# report over https (200, stored, listed by `tlsrpt received list`); a plain-HTTP
# request to the TLS port gets no HTTP answer; a missing certificate file, a file that
# is not PEM and a key that does not fit the certificate each stop the daemon at start
# with a message naming the problem.
# Rate limit (web.rate-limit = 1 per minute, burst 5): 12 quick POSTs from 127.0.0.1
# give exactly 5 answers from the endpoint (400, empty body) and 7 x 429 with
# Retry-After 55..60; a 5 MiB body over the limit gets 429 without being read; another client address (127.0.0.2) is not limited; with
# web.rate-limit = 0 nothing is limited.
import json
import os
import re
import shutil
import subprocess
import sys
import time

sys.path.insert(0, "tests/lib")
from tap import check, finish, ok, run
from tlsrpt_daemon import B, daemon_config, start_daemon

SHARED = os.environ.get("SHARED", "../shared")
TMP = os.path.join(os.environ.get("TLSRPT_TEST_TMP") or "/tmp", "inbound_https.%d" % os.getpid())
shutil.rmtree(TMP, ignore_errors=True)
os.makedirs(TMP)
REPORT = os.path.join(SHARED, "corpus/real/Neztore_tls-rpt-monitor/microsoft-report.json.gz")


def path(name):
    return os.path.join(TMP, name)


def config(name, web_extra):
    conf = daemon_config(TMP, path(name + ".sock"), path(name + ".sqlite"), "1s")
    text = open(conf).read().replace('[web]\nlisten = "127.0.0.1:0"\n',
                                     '[web]\nlisten = "127.0.0.1:0"\n' + web_extra)
    out = path(name + ".toml")
    with open(out, "w") as f:
        f.write(text)
    return out


def port_of(errpath):
    for line in open(errpath):
        if "report upload endpoint" in line:
            for word in line.split():
                if word.startswith("port="):
                    return int(word[5:])
    return 0


def stop(p):
    p.terminate()
    try:
        p.wait(10)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()


# ---------------------------------------------------------------- TLS
r = run("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", path("key.pem"),
        "-out", path("cert.pem"), "-days", "2", "-subj", "/CN=localhost",
        "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1")
ok(r.returncode == 0, "openssl req made a self-signed certificate", r.stderr)
conf = config("tls", 'tls-cert = "%s"\ntls-key = "%s"\n' % (path("cert.pem"), path("key.pem")))
d, ready = start_daemon(conf, path("tls.err"))
ok(ready, "daemon starts with web.tls-cert and web.tls-key", open(path("tls.err")).read())
port = port_of(path("tls.err"))
ok("tls=yes" in open(path("tls.err")).read(), "the start line says tls=yes")
url = "https://127.0.0.1:%d/tlsrpt" % port
r = run("curl", "-sS", "--cacert", path("cert.pem"), "-o", path("body"), "-w", "%{http_code}",
        "-H", "Content-Type: application/tlsrpt+gzip", "--data-binary", "@" + REPORT, url)
check("https POST of a corpus report: 200 stored", (r.stdout, open(path("body")).read()),
      ("200", "stored report 1\n"))
r = run("curl", "-sS", "--cacert", path("cert.pem"), "-o", path("body"), "-w", "%{http_code}",
        "--data-binary", "@" + REPORT, "https://localhost:%d/tlsrpt" % port)
check("https POST by host name localhost: duplicate", (r.stdout, open(path("body")).read()),
      ("200", "duplicate of report 1\n"))
r = run("curl", "-sS", "-o", path("body"), "-w", "%{http_code}", "--data-binary", "@" + REPORT,
        url)
ok(r.returncode == 60, "curl without --cacert refuses the self-signed certificate",
   "rc %d %s" % (r.returncode, r.stderr))
r = run("curl", "-sS", "-m", "5", "-o", path("body"), "-w", "%{http_code}", "--data-binary",
        "@" + REPORT, "http://127.0.0.1:%d/tlsrpt" % port)
ok(r.returncode != 0 and r.stdout == "000", "plain HTTP to the TLS port gets no HTTP answer",
   "rc %d out %r" % (r.returncode, r.stdout))
stop(d)
r = run(B + "/tlsrpt", "received", "list", "--store", path("tls.sqlite"), "--json")
rows = json.loads(r.stdout) if r.returncode == 0 else None
ok(rows is not None and len(rows) == 1 and rows[0]["channels"] == "http",
   "received list: one report, channel http", "got %r %s" % (rows, r.stderr))

with open(path("notpem.pem"), "w") as f:
    f.write("this is not a certificate\n")
subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout",
                path("key2.pem"), "-out", path("cert2.pem"), "-days", "2", "-subj", "/CN=x"],
               capture_output=True)
bad = [
    ("missing certificate file", path("nosuch.pem"), path("key.pem"),
     "not starting: web.tls-cert %s: cannot open: No such file or directory" % path("nosuch.pem")),
    ("certificate file not PEM", path("notpem.pem"), path("key.pem"),
     "not starting: web.tls-cert %s: not a PEM file (no -----BEGIN line)" % path("notpem.pem")),
    ("key of another certificate", path("cert.pem"), path("key2.pem"),
     "not starting: web.listen 127.0.0.1:0: httpd: cannot listen on 127.0.0.1:0 (or the TLS "
     "certificate/key is not usable PEM)"),
]
for i, (name, cert, key, want) in enumerate(bad):
    conf = config("bad%d" % i, 'tls-cert = "%s"\ntls-key = "%s"\n' % (cert, key))
    d, ready = start_daemon(conf, path("bad%d.err" % i))
    try:
        rc = d.wait(10)
    except subprocess.TimeoutExpired:
        stop(d)
        rc = None
    log = open(path("bad%d.err" % i)).read()
    ok(not ready and rc == 1 and want in log, "%s: daemon refuses to start, says why" % name,
       "rc %r, want %r in:\n%s" % (rc, want, log))


# ---------------------------------------------------------------- rate limit
def post_many(port, n, interface=None):
    codes, retry = [], []
    for _ in range(n):
        args = ["curl", "-sS", "-D", path("hdrs"), "-o", path("body"), "-w", "%{http_code}",
                "--data-binary", "", "http://127.0.0.1:%d/tlsrpt" % port]
        if interface:
            args[1:1] = ["--interface", interface]
        r = run(*args)
        codes.append(r.stdout)
        for line in open(path("hdrs")):
            if line.lower().startswith("retry-after:"):
                retry.append(int(line.split(":", 1)[1]))
    return codes, retry


conf = config("rl", "rate-limit = 1\nrate-limit-burst = 5\n")
d, ready = start_daemon(conf, path("rl.err"))
ok(ready, "daemon starts with web.rate-limit = 1, burst 5", open(path("rl.err")).read())
port = port_of(path("rl.err"))
t0 = time.monotonic()
codes, retry = post_many(port, 12)
check("12 quick uploads: 5 reach the endpoint, 7 get 429",
      (codes.count("400"), codes.count("429"), codes[:5].count("400")), (5, 7, 5))
ok(len(retry) == 7 and all(55 <= v <= 60 for v in retry) and time.monotonic() - t0 < 5,
   "every 429 carries Retry-After 55..60", "got %r" % retry)
body = open(path("body")).read()
ok(re.fullmatch(r"too many uploads from 127\.0\.0\.1: retry in (5[5-9]|60) s\n", body),
   "429 body names the client and the wait", "got %r" % body)
with open(path("big"), "wb") as f:
    f.write(b"\0" * (5 << 20))
r = run("curl", "-sS", "-o", path("body"), "-w", "%{http_code}", "--data-binary",
        "@" + path("big"), "http://127.0.0.1:%d/tlsrpt" % port)
check("over the limit, a 5 MiB body is answered 429 before it is read", r.stdout, "429")
codes, retry = post_many(port, 3, "127.0.0.2")
check("another client address is not limited", codes, ["400", "400", "400"])
stop(d)

conf = config("norl", "rate-limit = 0\n")
d, ready = start_daemon(conf, path("norl.err"))
port = port_of(path("norl.err"))
codes, retry = post_many(port, 70)
check("web.rate-limit = 0: 70 uploads, no 429", (codes.count("400"), retry), (70, []))
stop(d)
finish()
