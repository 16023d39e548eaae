#!/usr/bin/python3
# web_dashboard.t - the dashboard pages rendered by headless Chromium (Debian's
# chromium) from the real daemon, on a store loaded with the shared corpus and 120
# generated reports (tests/lib/web_fixture.py), plus outbound sessions recorded through
# the collector socket.
#
# Each page: the text holds the expected numbers (computed from the generated JSON, or
# for the whole corpus taken from the API's walk-based summary, another code path), no
# console message at all (errors, CSP violations: Chromium's --enable-logging prints
# every console message as a CONSOLE line), stored text escaped.  A deliberately broken
# page (an uncaught exception and an inline script blocked by our CSP) served by a local
# Python server proves that the console check catches errors.  Screenshots (1280x2000)
# go to $B/web_dashboard/.  The daemon has no credentials configured and listens on
# loopback, where the dashboard answers (docs/api.md).  Without chromium the test is
# skipped, except under CI=true where it fails.
import http.server
import json
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

sys.path.insert(0, "tests/lib")
from tap import ok, check, finish  # noqa: E402
import web_fixture as wf  # noqa: E402

CHROMIUM = shutil.which("chromium") or ("/usr/bin/chromium" if os.path.exists("/usr/bin/chromium")
                                       else None)
if CHROMIUM is None:
    if os.environ.get("CI") == "true":
        print("1..1\nnot ok 1 - chromium is installed (scripts/install-deps installs it)")
        sys.exit(1)
    print("1..0 # SKIP chromium is not installed (scripts/install-deps)")
    sys.exit(0)

TMP = os.path.join(os.environ.get("TLSRPT_TEST_TMP") or "/tmp", "web_dash.%d" % os.getpid())
os.makedirs(TMP, exist_ok=True)
SHOTS = os.path.join(wf.B, "web_dashboard")
os.makedirs(SHOTS, exist_ok=True)
E = wf.expected()


def chromium(url, extra):
    """Runs headless Chromium on url; returns (stdout, console lines, rc)."""
    profile = tempfile.mkdtemp(dir=TMP)
    p = subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                        "--no-first-run", "--disable-background-networking",
                        "--disable-component-update", "--disable-sync",
                        "--user-data-dir=" + profile, "--enable-logging=stderr", "--v=0"]
                       + extra + [url], capture_output=True, text=True, timeout=120)
    console = [l for l in p.stderr.splitlines() if ":CONSOLE" in l]
    shutil.rmtree(profile, ignore_errors=True)
    return p.stdout, console, p.returncode


def dom(url):
    return chromium(url, ["--dump-dom"])


def value(html, ident):
    m = re.search(r'id="%s">([^<]*)<' % ident, html)
    return m.group(1) if m else None


def n(v):
    return "{:,}".format(v)


def row(html, first, cells):
    """True when a table row starts with the cell `first` followed by the numeric cells."""
    pat = r"<td>%s</td>" % re.escape(first) + "".join(
        r'<td class="n">%s</td>' % re.escape(c) for c in cells)
    return re.search(pat, html) is not None


# ------------------------------------------------------------ the detector works
class Broken(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = (b"<!DOCTYPE html><html><head><link rel=icon href='data:,'></head><body>"
                b"<p>broken</p><script>throw new Error('deliberate')</script></body></html>")
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        if self.path == "/csp":
            self.send_header("Content-Security-Policy", "default-src 'none'")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *a):
        pass


srv = http.server.HTTPServer(("127.0.0.1", 0), Broken)
threading.Thread(target=srv.serve_forever, daemon=True).start()
out, console, rc = dom("http://127.0.0.1:%d/js" % srv.server_address[1])
ok("broken" in out and any("Uncaught Error: deliberate" in l for l in console),
   "console check catches an uncaught exception in a deliberately broken page",
   "rc=%d console=%r" % (rc, console))
out, console, rc = dom("http://127.0.0.1:%d/csp" % srv.server_address[1])
ok(any("violates the following Content Security Policy" in l for l in console),
   "console check catches a CSP violation (inline script blocked)", "console=%r" % console)
srv.shutdown()

# ------------------------------------------------------------ the daemon
db, p1, p2 = wf.build_store(TMP)
ok(p2.returncode == 0, "store: corpus and 120 generated reports ingested", p2.stderr[-300:])
daemon, port, log = wf.start(TMP, db)
ok(port is not None, "daemon started (no credentials, loopback listener)",
   open(log).read()[-1500:])
if port is None:
    daemon.kill()
    finish()
BASE = "http://127.0.0.1:%d" % port
sock = os.path.join(TMP, "col.sock")
for args in (["--result", "certificate-expired", "--count", "3"], ["--count", "5"],
             ["--result", "starttls-not-supported", "--count", "2"]):
    subprocess.run([wf.tlsrpt(), "record", "--socket", sock, "--domain", "out.example",
                    "--policy", "sts"] + args, capture_output=True)


def api(path):
    with urllib.request.urlopen(BASE + path, timeout=30) as r:
        return json.load(r)


for _ in range(100):
    c = api("/api/v1/outbound/counters")["counters"]
    if sum(x["successes"] + x["failures"] for x in c) == 10:
        break
    time.sleep(0.1)

pages_console = {}
GEN = "until=%s&days=%d" % (wf.GEN_UNTIL, wf.GEN_DAYS)

# ------------------------------------------------------------ overview, generated range
html, console, rc = dom(BASE + "/?" + GEN)
pages_console["overview"] = console
succ = E["gen"][0] + E["gen2"][0]
check("overview (generated range): reports, domains, sessions, failures",
      [value(html, i) for i in ("reports", "domains", "successes", "failures")],
      [n(120), "2", n(succ), n(E["gen2"][1])])
check("overview: failure rate", value(html, "rate"),
      "%.2f %%" % (100.0 * E["gen2"][1] / (succ + E["gen2"][1])))
ok(re.search(r'>gen\.example</a></td><td class="n">120</td><td class="n">%s</td>'
             r'<td class="n">0</td><td class="n">0\.00 %%</td><td class="ok">MTA-STS testing: '
             r'no failures for 14 days, enforce looks safe</td>' % re.escape(n(E["gen"][0])),
             html), "overview: gen.example row with the MTA-STS hint: enforce looks safe")
ok(re.search(r'>gen2\.example</a></td><td class="n">120</td><td class="n">%s</td>'
             r'<td class="n">%s</td>' % (re.escape(n(E["gen2"][0])), E["gen2"][1]), html)
   and "MTA-STS enforce" in html, "overview: gen2.example row, MTA-STS enforce")
d0 = E["days"]["2023-06-05"]
ok(re.search(r'<td class="n">2023-06-05</td><td class="n">3</td><td class="n">%s</td>'
             r'<td class="n">%s</td>' % (re.escape(n(d0[0])), d0[1]), html),
   "overview: per-day table row 2023-06-05 (3 reports, %d / %d)" % tuple(d0))
ok(html.count("<svg") >= 4 and 'role="img"' in html, "overview: inline SVG charts")
ok(row(html, "validation-failure", ["40", "40"]) and row(html, "starttls-not-supported",
                                                         ["40", "80"]),
   "overview: failure types table (reports, failed sessions)")

# ------------------------------------------------------------ overview, everything
html, console, rc = dom(BASE + "/?until=2026-12-01&days=3660")
pages_console["overview-all"] = console
since = time.strftime("%Y-%m-%d", time.gmtime(
    time.mktime(time.strptime("2026-12-01", "%Y-%m-%d")) - 3660 * 86400 - time.timezone))
s = api("/api/v1/received/summary?by=policy&since=%s&until=2026-12-01" % since)
check("overview (3660 days, corpus + generated): sessions equal the API summary",
      [value(html, "successes"), value(html, "failures"), value(html, "reports")],
      [n(s["total"]["successes"]), n(s["total"]["failures"]), n(s["reports"])])
chromium(BASE + "/?until=2026-12-01&days=3660",
         ["--screenshot=" + os.path.join(SHOTS, "overview-all.png"), "--window-size=1280,2000"])

# ------------------------------------------------------------ domain pages
html, console, rc = dom(BASE + "/domain?d=gen2.example&" + GEN)
pages_console["domain gen2"] = console
check("domain gen2.example: reports, sessions, failures",
      [value(html, i) for i in ("reports", "successes", "failures")],
      [n(120), n(E["gen2"][0]), n(E["gen2"][1])])
ip_reports = {}
for d in range(wf.GEN_DAYS):
    for r in range(3):
        if (d + r) % 3:
            ip = "203.0.113.%d" % (r + 1)
            ip_reports[ip] = ip_reports.get(ip, 0) + 1
ok(all(row(html, ip, [str(ip_reports[ip]), str(c)]) for ip, c in E["by_ip"].items()),
   "domain gen2.example: receiving IPs table %r" % E["by_ip"])
ok(all(row(html, sub, [str(sum(1 for d in range(40) if (d + int(sub[6])) % 3)), str(c)])
       for sub, c in E["by_reporter_fail"].items()),
   "domain gen2.example: reporters that see failures %r" % E["by_reporter_fail"])
ok(row(html, "mx1.gen2.example", ["80", "120"]), "domain gen2.example: failing MX host")
ok("<td>seen by &lt;gen&gt; &amp; co</td>" in html and "<gen>" not in html,
   "domain gen2.example: reasons table, stored text escaped")
ok('id="sts" class="ok">MTA-STS enforce<' in html, "domain gen2.example: MTA-STS enforce")
chromium(BASE + "/domain?d=gen2.example&" + GEN,
         ["--screenshot=" + os.path.join(SHOTS, "domain.png"), "--window-size=1280,2000"])
html, console, rc = dom(BASE + "/domain?d=gen.example&" + GEN)
pages_console["domain gen"] = console
ok('id="sts" class="ok">MTA-STS testing: no failures for 14 days, enforce looks safe<' in html,
   "domain gen.example: enforce looks safe")
html, console, rc = dom(BASE + "/domain?d=gen.example&until=2023-06-06&days=5")
pages_console["domain gen short"] = console
ok('id="sts" class="warn">MTA-STS testing: no failures so far, 5 of 14 days of reports<' in html,
   "domain gen.example after 5 days: not enough days yet", value(html, "sts"))

# ------------------------------------------------------------ reporters, outbound
html, console, rc = dom(BASE + "/reporters")
pages_console["reporters"] = console
reps = api("/api/v1/received/groups?by=reporter")["groups"]
check("reporters: count equals the API's reporter groups", value(html, "nreporters"),
      str(len(reps)))
ok(re.search(r'<td>Gen Reporter 1</td><td>genrep1\.example</td><td class="n">40</td>', html),
   "reporters: Gen Reporter 1 with 40 reports")
ok("<td>mx-host-string, failure-sum-mismatch" in html or "mx-host-string" in html,
   "reporters: data-quality quirks of corpus reporters shown")
chromium(BASE + "/reporters", ["--screenshot=" + os.path.join(SHOTS, "reporters.png"),
                               "--window-size=1280,2000"])
html, console, rc = dom(BASE + "/outbound")
pages_console["outbound"] = console
ok(re.search(r'<td>out\.example</td><td class="n">1</td><td class="n">5</td>'
             r'<td class="n">5</td><td class="n">50\.00 %</td>', html),
   "outbound: out.example 1 window, 5 successful, 5 failed")
ok(row(html, "out.example", []) and "<td>certificate-expired</td><td class=\"n\">3</td>" in html,
   "outbound: failures per result type")
chromium(BASE + "/outbound", ["--screenshot=" + os.path.join(SHOTS, "outbound.png"),
                              "--window-size=1280,2000"])
# a phone-sized screenshot of the overview
chromium(BASE + "/?" + GEN, ["--screenshot=" + os.path.join(SHOTS, "overview-phone.png"),
                             "--window-size=390,1600"])
chromium(BASE + "/?" + GEN, ["--screenshot=" + os.path.join(SHOTS, "dashboard.png"),
                             "--window-size=1280,2000"])

for page, console in pages_console.items():
    ok(console == [], "%s: no console messages" % page, "\n".join(console))


def png_size(path):
    try:
        with open(path, "rb") as f:
            head = f.read(24)
        return struct.unpack(">II", head[16:24]) if head[:8] == b"\x89PNG\r\n\x1a\n" else None
    except OSError:
        return None


check("screenshot %s/dashboard.png is a 1280x2000 PNG" % SHOTS,
      png_size(os.path.join(SHOTS, "dashboard.png")), (1280, 2000))
check("screenshot domain.png is a 1280x2000 PNG", png_size(os.path.join(SHOTS, "domain.png")),
      (1280, 2000))
daemon.terminate()
daemon.wait(timeout=20)
finish()
