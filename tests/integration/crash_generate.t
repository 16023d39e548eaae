#!/usr/bin/python3
# crash_generate.t - report generation killed with SIGKILL at random points, again and
# again (20 times when CI is set, 5 otherwise), each time restarted on the same store
# until a run finishes by itself.
#
# outbound_crash.t kills `tlsrpt generate` at three fixed fault points of the first
# window; this test complements it with many windows (one per domain, a few of them
# split into several parts by a small max-size) and kills at random moments of the
# pass, wherever they land (building, inside a transaction, between two windows).
#
# Invariants, checked after every kill and at the end:
#   - a window is marked reported exactly when its reports are in the outbox (nothing
#     half-generated), its parts are numbered 1..k without gaps or repeats and the
#     report-ids are unique, so no window is generated twice;
#   - at the end every window is reported, a further pass generates nothing;
#   - the counts in each window's reports (summary and failure details, all parts
#     added) equal the counters stored for it.
import gzip
import json
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import time

sys.path.insert(0, "tests/lib")
from tap import check, finish, ok  # noqa: E402
from tlsrpt_daemon import B, daemon_config, start_daemon  # noqa: E402

TMP = os.environ.get("TLSRPT_TEST_TMP", "/tmp")
KILLS = int(os.environ.get("CRASH_KILLS", "20" if os.environ.get("CI") else "5"))
DOMAINS = 5000       # one window each, from sendmany
SPLIT_DOMAINS = 4    # windows with 12 policies each: several parts at max-size 2kb
rng = random.Random(int(os.environ.get("CRASH_SEED", "8460")))

work = os.path.join(TMP, "crash_generate")
shutil.rmtree(work, ignore_errors=True)
os.makedirs(work)
sock, db = os.path.join(work, "c.sock"), os.path.join(work, "c.db")
conf = daemon_config(work, sock, db, "100ms")
with open(conf, "a") as f:
    f.write('[report.tls.aggregate]\nsend = "daily"\nmax-size = "2kb"\nsign = "[]"\n'
            'contact-info = "\'tls-reports@example.org\'"\n'
            '[report]\nsubmitter = "\'mx.example.org\'"\n')

# ------------------------------------------------------------------ collect
d, ready = start_daemon(conf, os.path.join(work, "d.err"))
ok(ready, "the daemon starts")
r = subprocess.run([B + "/tests/tools/sendmany", "--socket", sock, "--count",
                    str(DOMAINS * 20), "--domains", str(DOMAINS), "--retry"],
                   capture_output=True, text=True)
for i in range(SPLIT_DOMAINS):
    dom = "split%d.example" % i
    for m in range(12):
        subprocess.run([B + "/tlsrpt", "record", "--socket", sock, "--domain", dom,
                        "--record", "v=TLSRPTv1; rua=mailto:tls@" + dom, "--policy", "sts",
                        "--policy-string", "version: STSv1", "--policy-string",
                        "mode: enforce", "--policy-string", "mx: mx%02d.%s" % (m, dom),
                        "--mx-host", "mx%02d.%s" % (m, dom), "--result",
                        "certificate-expired", "--mx", "mx%02d.%s" % (m, dom),
                        "--sending-ip", "192.0.2.%d" % (m + 1), "--count", str(m + 1)],
                       check=False)
d.send_signal(signal.SIGTERM)
ok(d.wait(timeout=60) == 0, "the daemon stops cleanly after collecting")

con = sqlite3.connect(db)
windows = {wid: dom for wid, dom in con.execute("SELECT id, domain FROM windows")}
want = {}  # window id -> (success, failure, detail total)
for wid, s, f in con.execute("SELECT window_id, sum(success), sum(failure) "
                             "FROM session_counts GROUP BY window_id"):
    want[wid] = [s, f, 0]
for wid, c in con.execute("SELECT window_id, sum(count) FROM failure_counts GROUP BY window_id"):
    want[wid][2] = c
con.close()
check("one window per domain collected", len(windows), DOMAINS + SPLIT_DOMAINS)
shutil.copy(db, db + ".clean")

NOW = int(time.time()) + 3 * 86400
GEN = [B + "/tlsrpt", "generate", "--config", conf, "--immediate", "--now", str(NOW)]

# calibration: how long one uninterrupted pass takes on this machine (on a copy)
shutil.copy(db, db + ".calib")
t0 = time.monotonic()
r = subprocess.run(GEN + ["--store", db + ".calib"], capture_output=True, text=True)
full = time.monotonic() - t0
print("# one full pass: %.2f s: %s" % (full, r.stdout.strip()))


def outbox_state():
    """Returns a list of violations of the per-window invariants (empty when fine)."""
    bad = []
    con = sqlite3.connect(db)
    state = dict(con.execute("SELECT id, state FROM windows"))
    parts = {}
    for wid, part in con.execute("SELECT window_id, part FROM outbox_reports"):
        parts.setdefault(wid, []).append(part)
    ids = con.execute("SELECT count(*), count(DISTINCT report_id) FROM outbox_reports").fetchone()
    con.close()
    for wid, st in state.items():
        p = sorted(parts.get(wid, []))
        if st == 1 and p != list(range(1, len(p) + 1)) or st == 1 and not p:
            bad.append("window %d reported, parts %s" % (wid, p))
        if st == 0 and p:
            bad.append("window %d not reported but has parts %s" % (wid, p))
    if ids[0] != ids[1]:
        bad.append("%d reports, %d distinct report-ids" % ids)
    return bad


# ------------------------------------------------------------------ kill, restart
kills = finished_early = 0
violations = []
progress = []
for i in range(KILLS):
    g = subprocess.Popen(GEN, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    # 1.5 * full / KILLS: on average the kills cover about 3/4 of one pass
    time.sleep(rng.uniform(0.01, 1.5 * full / KILLS))
    if g.poll() is None:
        g.send_signal(signal.SIGKILL)
        kills += 1
    else:
        finished_early += 1
    g.wait()
    violations += ["after kill %d: %s" % (i + 1, v) for v in outbox_state()]
    con = sqlite3.connect(db)
    progress.append(con.execute("SELECT count(*) FROM windows WHERE state = 1").fetchone()[0])
    con.close()
print("# %d kills, %d runs finished before their kill; windows reported after each: %s"
      % (kills, finished_early, progress))
ok(kills >= KILLS // 2, "at least half of the %d runs were killed mid-pass (%d)" % (KILLS, kills))
ok(not violations, "after every kill each window is either fully generated or not at all",
   "\n".join(violations[:20]))
ok(progress[0] < len(windows), "the first kill landed before the end of the pass (%d of %d)"
   % (progress[0], len(windows)))

# ------------------------------------------------------------------ finish
r = subprocess.run(GEN, capture_output=True, text=True)
ok(r.returncode == 0, "a run without a kill finishes", r.stderr)
r = subprocess.run(GEN, capture_output=True, text=True)
check("a further run generates nothing", r.stdout.strip(),
      "windows=0 reports=0 invalid=0 split=0 dropped-details=0 not-yet=0")
ok(not outbox_state(), "at the end the outbox is consistent", "\n".join(outbox_state()[:20]))
con = sqlite3.connect(db)
check("every window is reported",
      con.execute("SELECT count(*) FROM windows WHERE state = 1").fetchone()[0], len(windows))
got = {}
nparts = {}
for wid, body, dropped in con.execute("SELECT window_id, body, dropped FROM outbox_reports"):
    rep = json.loads(gzip.decompress(body))
    g = got.setdefault(wid, [0, 0, 0])
    nparts[wid] = nparts.get(wid, 0) + 1
    for p in rep["policies"]:
        g[0] += p["summary"]["total-successful-session-count"]
        g[1] += p["summary"]["total-failure-session-count"]
        g[2] += sum(fd["failed-session-count"] for fd in p.get("failure-details", []))
con.close()
bad = ["window %d (%s): got %s, want %s" % (w, windows[w], got.get(w), want[w])
       for w in want if got.get(w) != want[w]]
ok(not bad, "the counts in every window's reports equal the stored counters (%d windows)"
   % len(want), "\n".join(bad[:20]))
split = sorted(n for w, n in nparts.items() if windows[w].startswith("split"))
ok(len(split) == SPLIT_DOMAINS and all(n >= 2 for n in split),
   "the 12-policy windows were split into several parts: %s" % split)
finish()
