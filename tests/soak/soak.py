#!/usr/bin/python3
# soak.py - `make soak`: SOAK_SECONDS (default 1800) of mixed load on the real daemon
# with its resident memory and open file descriptors sampled every 10 s; fails when
# either grows after the warm-up.  Not part of `make test` or CI.
#
# Load, all at once:
#   - datagrams at a steady rate (SOAK_RATE, default 500/s) to the collector socket,
#     for domains that change every minute (so each generation pass has new windows);
#   - HTTP uploads of a corpus report with a new report-id each (SOAK_UPLOADS/s,
#     default 5) to the daemon's upload endpoint;
#   - every 10 s `tlsrpt generate --immediate` with a clock two hours ahead (hourly
#     windows: the daemon has no test clock, so the CLI generates against the same
#     store while the daemon writes to it) and `tlsrpt deliver` with a clock ahead of
#     that, to a fake SMTP relay, with the `_smtp._tls` records from a local zone file.
# The daemon's own scheduler and delivery workers run too (real clock: nothing of the
# fast-clock outbox is due for them, so they never need DNS).
#
# Verdict: after the warm-up (the first fifth of the run, at least 60 s) a least-squares
# line through the samples may not rise more than SOAK_RSS_TOLERANCE_KB (default
# max(4096, 5 % of the mean)) for RSS, or more than 2 for descriptors, over the rest of
# the run; the daemon must still be running, and the load must have been served.
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

sys.path.insert(0, "tests/lib")
from fake_smtp import FakeSMTP  # noqa: E402

B = os.environ.get("B", "build")
SHARED = os.environ.get("SHARED", "../shared")
SECONDS = int(os.environ.get("SOAK_SECONDS", "1800"))
RATE = float(os.environ.get("SOAK_RATE", "500"))
UPLOADS = float(os.environ.get("SOAK_UPLOADS", "5"))
SAMPLE = 10
work = tempfile.mkdtemp(prefix="tlsrpt-soak.")
sock, db = os.path.join(work, "c.sock"), os.path.join(work, "db.sqlite")
DOMAINS_PER_MINUTE = 50

smtp = FakeSMTP()
conf = os.path.join(work, "tlsrptd.toml")
with open(conf, "w") as f:
    f.write('[collector]\nsocket = "%s"\nflush-interval = "1s"\n'
            '[store]\nbackend = "sqlite"\npath = "%s"\n'
            '[web]\nlisten = "127.0.0.1:0"\n'
            '[log]\ndestination = "stderr"\n'
            '[report.tls.aggregate]\nsend = "hourly"\nsign = "[]"\n'
            'contact-info = "\'tls-reports@example.org\'"\n'
            '[report]\nsubmitter = "\'mx.example.org\'"\n'
            '[delivery]\nrelay = "smtp://127.0.0.1:%d"\ntimeout = "10s"\nworkers = 2\n'
            % (sock, db, smtp.port))
minutes = SECONDS // 60 + 2
zone = os.path.join(work, "zone")
with open(zone, "w") as f:
    for m in range(minutes):
        for i in range(DOMAINS_PER_MINUTE):
            f.write('_smtp._tls.m%d-%d.example. 300 IN TXT "v=TLSRPTv1; rua=mailto:tls@m%d-%d.example"\n'
                    % (m, i, m, i))

errlog = os.path.join(work, "d.err")
d = subprocess.Popen([B + "/tlsrptd", "--foreground", "--config", conf],
                     stdout=subprocess.DEVNULL, stderr=open(errlog, "w"))
port = None
for _ in range(400):
    with open(errlog) as f:
        text = f.read()
    m = re.search(r"port=(\d+) path=", text)
    if " ready" in text and m:
        port = int(m.group(1))
        break
    time.sleep(0.05)
if port is None:
    print("soak: the daemon did not start:\n" + open(errlog).read())
    sys.exit(1)

stop = threading.Event()
stats = {"datagrams": 0, "send_errors": 0, "uploads": 0, "upload_errors": 0,
         "generate": 0, "generate_errors": 0, "deliver": 0, "deliver_errors": 0,
         "reports": 0, "sent": 0}
t_start = time.monotonic()


def sender():
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    n = 0
    while not stop.is_set():
        due = t_start + n / RATE
        delay = due - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        minute = int((time.monotonic() - t_start) // 60)
        dom = "m%d-%d.example" % (minute, n % DOMAINS_PER_MINUTE)
        fail = n % 10 == 0
        dg = ('{"dpv": "1","d": "%s","pr": "v=TLSRPTv1; rua=mailto:tls@%s","policies":[{'
              '"policy-type":2,"policy-domain": "%s","policy-string":["version: STSv1",'
              '"mode: enforce","mx: mx.%s"],"mx-host":["mx.%s"]%s,"t":%d,"f":%d}]}'
              % (dom, dom, dom, dom, dom,
                 ',"failure-details":[{"c":204,"s": "192.0.2.1","n": "mx.%s","r": '
                 '"198.51.100.7"}]' % dom if fail else "", 1 if fail else 0,
                 1 if fail else 0))
        try:
            s.sendto(dg.encode(), sock)
            stats["datagrams"] += 1
        except OSError:
            stats["send_errors"] += 1
        n += 1


def uploader():
    with open(os.path.join(SHARED, "corpus/real/marcbradshaw_mail-tls-rpt/report.json")) as f:
        rep = json.load(f)
    n = 0
    while not stop.is_set():
        rep["report-id"] = "soak-%d-%d" % (os.getpid(), n)
        body = json.dumps(rep).encode()
        req = urllib.request.Request("http://127.0.0.1:%d/tlsrpt" % port, data=body,
                                     headers={"Content-Type": "application/tlsrpt+json"})
        try:
            with urllib.request.urlopen(req, timeout=10) as r:
                if r.status == 200:
                    stats["uploads"] += 1
                else:
                    stats["upload_errors"] += 1
        except Exception:
            stats["upload_errors"] += 1
        n += 1
        stop.wait(1.0 / UPLOADS)


def clock_runner():
    """Generation and delivery with a clock ahead of the real one."""
    while not stop.wait(SAMPLE):
        now = int(time.time()) + 2 * 3600
        r = subprocess.run([B + "/tlsrpt", "generate", "--config", conf, "--immediate",
                            "--now", str(now)], capture_output=True, text=True)
        stats["generate"] += 1
        if r.returncode:
            stats["generate_errors"] += 1
            print("# generate: %s" % r.stderr.strip())
        else:
            m = re.search(r"reports=(\d+)", r.stdout)
            stats["reports"] += int(m.group(1)) if m else 0
        r = subprocess.run([B + "/tlsrpt", "deliver", "--config", conf, "--dns-zone", zone,
                            "--now", str(now + 60)], capture_output=True, text=True)
        stats["deliver"] += 1
        if r.returncode:
            stats["deliver_errors"] += 1
            print("# deliver: %s" % r.stderr.strip())
        else:
            m = re.search(r"sent=(\d+)", r.stdout)
            stats["sent"] += int(m.group(1)) if m else 0


def sample(pid):
    with open("/proc/%d/status" % pid) as f:
        rss = int(re.search(r"VmRSS:\s+(\d+)", f.read()).group(1))
    return rss, len(os.listdir("/proc/%d/fd" % pid))


threads = [threading.Thread(target=t, daemon=True) for t in (sender, uploader, clock_runner)]
for t in threads:
    t.start()
samples = []  # (seconds, rss KiB, fds)
print("# soak: %d s, %.0f datagrams/s, %.1f uploads/s, work folder %s"
      % (SECONDS, RATE, UPLOADS, work))
print("# %6s %10s %5s %10s %8s %8s %6s" % ("t/s", "RSS/KiB", "fds", "datagrams", "uploads",
                                            "reports", "sent"))
alive = True
while time.monotonic() - t_start < SECONDS:
    time.sleep(SAMPLE - (time.monotonic() - t_start) % SAMPLE)
    if d.poll() is not None:
        alive = False
        break
    rss, fds = sample(d.pid)
    t = time.monotonic() - t_start
    samples.append((t, rss, fds))
    print("# %6.0f %10d %5d %10d %8d %8d %6d" % (t, rss, fds, stats["datagrams"],
                                                 stats["uploads"], stats["reports"],
                                                 stats["sent"]))
    sys.stdout.flush()
stop.set()
for t in threads:
    t.join(timeout=60)
if alive:
    d.send_signal(signal.SIGTERM)
    rc = d.wait(timeout=60)
else:
    rc = d.returncode


def slope(xs, ys):
    n = len(xs)
    mx, my = sum(xs) / n, sum(ys) / n
    sxx = sum((x - mx) ** 2 for x in xs)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sxx if sxx else 0.0


warm = max(60.0, SECONDS / 5.0)
after = [s for s in samples if s[0] >= warm]
failures = []
if not alive or rc != 0:
    failures.append("the daemon stopped during the soak or did not stop cleanly (status %s)" % rc)
if len(after) < 3:
    failures.append("too few samples after the warm-up (%d)" % len(after))
else:
    xs = [s[0] for s in after]
    span = xs[-1] - xs[0]
    rss_ys = [s[1] for s in after]
    fd_ys = [s[2] for s in after]
    mean_rss = sum(rss_ys) / len(rss_ys)
    tol = float(os.environ.get("SOAK_RSS_TOLERANCE_KB", max(4096.0, 0.05 * mean_rss)))
    rss_growth = slope(xs, rss_ys) * span
    fd_growth = slope(xs, fd_ys) * span
    print("# after the %.0f s warm-up (%d samples over %.0f s): RSS %d..%d KiB (mean %.0f), "
          "fitted growth %+.0f KiB (tolerance %.0f); fds %d..%d, fitted growth %+.2f "
          "(tolerance 2)" % (warm, len(after), span, min(rss_ys), max(rss_ys), mean_rss,
                             rss_growth, tol, min(fd_ys), max(fd_ys), fd_growth))
    if rss_growth > tol:
        failures.append("RSS grows: %+.0f KiB over %.0f s" % (rss_growth, span))
    if fd_growth > 2:
        failures.append("open descriptors grow: %+.2f over %.0f s" % (fd_growth, span))
with open(errlog, errors="replace") as f:
    log = f.read()
m = re.search(r"collector stopped (datagrams=\d+ accepted=\d+ rejected=\d+)", log)
print("# load: %s; daemon: %s" % (" ".join("%s=%d" % kv for kv in stats.items()),
                                  m.group(1) if m else "no stop line"))
print("# SMTP relay received %d messages" % len(smtp.accepted))
errors = [l for l in log.splitlines() if ": error: " in l]
print("# daemon log: %d error lines%s" % (len(errors), (": " + errors[0]) if errors else ""))
if stats["datagrams"] < RATE * SECONDS * 0.9:
    failures.append("the sender fell behind: %d datagrams" % stats["datagrams"])
if stats["uploads"] == 0 or stats["upload_errors"] > stats["uploads"] // 100:
    failures.append("uploads failed: %d ok, %d errors" % (stats["uploads"], stats["upload_errors"]))
if stats["generate_errors"] or stats["deliver_errors"] or stats["sent"] == 0:
    failures.append("generation/delivery: %d/%d errors, %d sent"
                    % (stats["generate_errors"], stats["deliver_errors"], stats["sent"]))
if failures:
    print("soak: FAILED: " + "; ".join(failures))
    print("soak: kept %s" % work)
    sys.exit(1)
print("soak: passed")
shutil.rmtree(work, ignore_errors=True)
