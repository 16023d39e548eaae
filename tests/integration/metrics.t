#!/usr/bin/python3
"""metrics.t - GET /metrics of the real daemon after a known load, checked with a strict
Prometheus text-format parser (tests/lib/promtext.py; promtool is not installed: Debian's
prometheus package is a 96 MB server) and exact counter values:
  7 good datagrams from `tlsrpt record` (5 sts successes, 2 certificate-expired), 3 bad
  ones (syntax, not_object, empty), one corpus report POSTed twice (stored, duplicate),
  a GET elsewhere (404), then two scrapes.
The parser itself is checked first on documents it must refuse."""
import gzip
import json
import os
import signal
import socket
import sys
import time
import urllib.error
import urllib.request

sys.path.insert(0, "tests/lib")
from promtext import PromError, parse, value  # noqa: E402
from tap import check, finish, ok, run  # noqa: E402
from tlsrpt_daemon import B, daemon_config, start_daemon  # noqa: E402

SHARED = os.environ.get("SHARED", "../shared")
T = os.path.join(os.environ.get("TLSRPT_TEST_TMP", "/tmp"), "metrics.%d" % os.getpid())
os.makedirs(T, exist_ok=True)

# ---- the strict parser refuses what Prometheus (or we) must not produce
GOOD = "# HELP a_total h\n# TYPE a_total counter\na_total{x=\"1\"} 2\n"
bad = {
    "sample before TYPE": "# HELP a_total h\na_total 1\n# TYPE a_total counter\n",
    "no newline at end": GOOD[:-1],
    "bad escape": GOOD.replace('"1"', '"\\t"'),
    "duplicate series": GOOD + "a_total{x=\"1\"} 3\n",
    "counter without _total": GOOD.replace("a_total", "a"),
    "family twice": GOOD + "# HELP b h\n# TYPE b gauge\nb 1\n# HELP a_total h\n",
    "bad value": GOOD.replace(" 2\n", " 2x\n"),
    "bad label name": GOOD.replace("x=", "1x="),
    "histogram without +Inf": "# HELP h h\n# TYPE h histogram\nh_bucket{le=\"1\"} 1\n"
                              "h_sum 1\nh_count 1\n",
}
refused = []
for name, doc in bad.items():
    try:
        parse(doc)
    except PromError:
        refused.append(name)
check("the strict parser refuses every malformed document", refused, list(bad))
ok(parse(GOOD)["a_total"]["samples"] == {("a_total", (("x", "1"),)): 2.0},
   "the strict parser reads a good document")

# ---- the daemon under a known load
sock = os.path.join(T, "collector.sock")
conf = daemon_config(T, sock, os.path.join(T, "db.sqlite"), "100ms")
proc, ready = start_daemon(conf, os.path.join(T, "d.err"))
ok(ready, "daemon starts", open(os.path.join(T, "d.err")).read())
port = None
for line in open(os.path.join(T, "d.err")):
    if "report upload endpoint listening=" in line:
        port = line.split(" port=")[1].split()[0]
base = "http://127.0.0.1:%s" % port


def http(method, path, body=None, ctype=None):
    req = urllib.request.Request(base + path, data=body, method=method)
    if ctype:
        req.add_header("Content-Type", ctype)
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, r.headers.get("Content-Type"), r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.headers.get("Content-Type"), e.read().decode()


rec = [B + "/tlsrpt", "record", "--config", conf, "--domain", "example.com",
       "--record", "v=TLSRPTv1; rua=mailto:tls@example.com", "--policy", "sts",
       "--policy-string", "version: STSv1", "--policy-string", "mode: enforce",
       "--mx-host", "mx.example.com"]
r1 = run(*rec, "--count", "5")
r2 = run(*rec, "--result", "certificate-expired", "--mx", "mx.example.com", "--count", "2")
ok(r1.returncode == 0 and r2.returncode == 0, "tlsrpt record sends 7 datagrams",
   r1.stderr + r2.stderr)
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
for d in (b"{not json", b"5", b""):
    s.sendto(d, sock)
s.close()

report = os.path.join(SHARED, "corpus/real/danmarg_tlsrpt_processor/sample.json")
raw = open(report, "rb").read()
st1 = http("POST", "/tlsrpt", gzip.compress(raw), "application/tlsrpt+gzip")
st2 = http("POST", "/tlsrpt", raw, "application/tlsrpt+json")
ok(st1[0] == 200 and st2[0] == 200 and st2[2].startswith("duplicate"),
   "a corpus report POSTed twice: stored, then duplicate", "%r %r" % (st1, st2))
check("GET elsewhere: 404", http("GET", "/nope")[0], 404)
check("POST /metrics: 405", http("POST", "/metrics", b"x")[0], 405)

# the collector flushes every 100 ms: wait for the 7 sessions to be counted and flushed
fams = {}
scrapes = 0
for _ in range(100):
    status, ctype, text = http("GET", "/metrics")
    scrapes += 1
    fams = parse(text)
    if value(fams, "tlsrpt_collector_flushes_total", outcome="ok") and \
       value(fams, "tlsrpt_collector_datagrams_total") == 10:
        break
    time.sleep(0.05)
status, ctype, text = http("GET", "/metrics")
open(os.path.join(T, "metrics.txt"), "w").write(text)
check("GET /metrics: 200", status, 200)
check("Content-Type of the 0.0.4 text format", ctype, "text/plain; version=0.0.4; charset=utf-8")
try:
    fams = parse(text)
    ok(True, "GET /metrics passes the strict text-format parser")
except PromError as e:
    fams = {}
    ok(False, "GET /metrics passes the strict text-format parser", str(e))

want_families = [
    "tlsrpt_alert_errors_total", "tlsrpt_alerts_total",
    "tlsrpt_collector_datagrams_rejected_total", "tlsrpt_collector_datagrams_total",
    "tlsrpt_collector_dropped_sessions_total", "tlsrpt_collector_flush_duration_seconds", "tlsrpt_collector_flushes_total",
    "tlsrpt_collector_sessions_total", "tlsrpt_deliveries_total", "tlsrpt_http_requests_total",
    "tlsrpt_received_failure_sessions_total", "tlsrpt_received_rejected_total",
    "tlsrpt_received_reports_total", "tlsrpt_report_details_dropped_total",
    "tlsrpt_report_windows_generated_total", "tlsrpt_reports_generated_total",
    "tlsrpt_reports_split_total",
]
names = [n for n in fams if n.startswith("tlsrpt_")]
check("every documented family, in name order", names, want_families)

V = lambda fam, sample=None, **lb: value(fams, fam, sample, **lb)  # noqa: E731
check("datagrams received", V("tlsrpt_collector_datagrams_total"), 10.0)
check("rejected: syntax / not_object / empty / caps",
      [V("tlsrpt_collector_datagrams_rejected_total", reason=r)
       for r in ("syntax", "not_object", "empty", "caps")], [1.0, 1.0, 1.0, 0.0])
check("sessions sts/success", V("tlsrpt_collector_sessions_total", policy_type="sts",
                                  result="success"), 5.0)
check("sessions sts/certificate-expired",
      V("tlsrpt_collector_sessions_total", policy_type="sts", result="certificate-expired"), 2.0)
check("sessions: 7 in all",
      sum(v for k, v in fams["tlsrpt_collector_sessions_total"]["samples"].items()), 7.0)
flushes = V("tlsrpt_collector_flushes_total", outcome="ok")
ok(flushes is not None and flushes >= 1, "at least one flush", "got %r" % flushes)
check("flush duration histogram counts every successful flush",
      V("tlsrpt_collector_flush_duration_seconds", "tlsrpt_collector_flush_duration_seconds_count"),
      flushes)
check("no failed flush", V("tlsrpt_collector_flushes_total", outcome="error"), 0.0)
check("received report: verified from company-x.example",
      V("tlsrpt_received_reports_total", reporter="company-x.example", verdict="verified"), 1.0)
check("received report: then a duplicate",
      V("tlsrpt_received_reports_total", reporter="company-x.example", verdict="duplicate"), 1.0)
doc = json.loads(raw)
want = {}
for p in doc["policies"]:
    for fd in p.get("failure-details", []):
        k = (p["policy"]["policy-domain"], fd["result-type"])
        want[k] = want.get(k, 0) + fd["failed-session-count"]
got = {(dict(k[1])["domain"], dict(k[1])["result_type"]): v
       for k, v in fams["tlsrpt_received_failure_sessions_total"]["samples"].items() if v}
check("failure sessions about us by domain and result type (from the report itself)", got,
      {k: float(v) for k, v in want.items()})
# the 2 POSTs and the polling scrapes were 200s (a scrape is counted once it is answered)
http200 = V("tlsrpt_http_requests_total", status="200")
check("HTTP 200 answers counted: 2 POSTs + %d scrapes" % scrapes, http200, 2.0 + scrapes)
check("HTTP 404 and 405 answers counted",
      [V("tlsrpt_http_requests_total", status="404"),
       V("tlsrpt_http_requests_total", status="405")], [1.0, 1.0])
# a second scrape: exactly one more 200 (the previous scrape), nothing else moved
_, _, text2 = http("GET", "/metrics")
fams2 = parse(text2)
check("the next scrape counts the previous one",
      value(fams2, "tlsrpt_http_requests_total", status="200"), http200 + 1)
check("counters do not move without load",
      value(fams2, "tlsrpt_collector_sessions_total", policy_type="sts", result="success"), 5.0)

proc.send_signal(signal.SIGTERM)
check("daemon exits 0", proc.wait(timeout=20), 0)
finish()
