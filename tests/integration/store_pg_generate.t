#!/usr/bin/python3
# store_pg_generate.t - exactly-once report generation on PostgreSQL with racing hosts:
# the real daemon collects results for D domains into a throw-away cluster; then
# two `tlsrpt generate` processes (two reporter hosts) run at the same time against it,
# twice over.  Every window ends up with exactly one report (the two processes' window
# counts add up to D, the outbox holds D reports for D distinct windows, all windows
# reported).  Then generation races the collector: while the daemon receives results
# for D more domains (and late ones for the reported windows), pairs of generators run
# over and over, claiming the very windows the collector is flushing into; after a
# last pass, every window has one report and the reports hold exactly every result
# sent (nothing lost between a flush and a claim, nothing counted twice).
# Racing delivery claims are in tests/tools/store_cases.c.
# Under SAN=asan the counts are a fifth.  Skips without PostgreSQL, except in CI.
import os, shutil, subprocess, sys, time

sys.path.insert(0, "tests/lib")
from pgcluster import Cluster
from tlsrpt_daemon import start_daemon

B = os.environ.get("B", "build")
TMP = os.environ.get("TLSRPT_TEST_TMP", "/tmp")
asan = os.environ.get("SAN", "") != ""
D = 60 if asan else 300
N = D * 20
work = os.path.join(TMP, "store_pg_generate")
shutil.rmtree(work, ignore_errors=True)
os.makedirs(work)
sock = os.path.join(work, "c.sock")

cluster = Cluster.start_or_exit()

n = fails = 0
def ok(cond, name, diag=None):
    global n, fails
    n += 1
    print(("ok %d - %s" if cond else "not ok %d - %s") % (n, name))
    if not cond:
        fails += 1
        if diag is not None:
            for l in str(diag).splitlines():
                print("# " + l)
    sys.stdout.flush()


conf = os.path.join(work, "pg.toml")
with open(conf, "w") as f:
    f.write('[collector]\nsocket = "%s"\nflush-interval = "1s"\n'
            '[log]\ndestination = "stderr"\n[web]\nlisten = "127.0.0.1:0"\n'
            '[store]\nbackend = "postgresql"\nurl = "%s"\n' % (sock, cluster.url))

print("1..10")
errlog = os.path.join(work, "tlsrptd.err")
proc, ready = start_daemon(conf, errlog)
ok(ready, "tlsrptd starts with the postgresql store", open(errlog).read())
out = subprocess.run([B + "/tests/tools/sendmany", "--socket", sock, "--count", str(N),
                      "--domains", str(D), "--threads", "2"], capture_output=True, text=True)
proc.terminate()
proc.wait(timeout=60)
got = cluster.psql("SELECT coalesce(sum(success + failure), 0) || ' ' || count(DISTINCT "
                   "window_id) FROM session_counts")
ok(out.returncode == 0 and got == "%d %d" % (N, D),
   "%d results over %d domains collected into PostgreSQL" % (N, D),
   "got %s, want %d %d; %s" % (got, N, D, out.stdout + out.stderr))

# pretend it is two days later: every window has ended and is due
later = str(int(time.time()) + 2 * 86400)
gen = [B + "/tlsrpt", "generate", "--config", conf, "--now", later, "--immediate"]
windows = []
errs = ""
for rnd in range(2):
    procs = [subprocess.Popen(gen, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True) for _ in range(2)]
    for p in procs:
        o, e = p.communicate(timeout=300)
        errs += e
        if p.returncode != 0:
            errs += "exit %d\n" % p.returncode
        w = [f for f in o.split() if f.startswith("windows=")]
        windows.append(int(w[0][8:]) if w else -1)
ok("exit" not in errs and sum(windows[:2]) == D,
   "two racing generators: their window counts add up to %d" % D,
   "windows per process %s; %s" % (windows, errs))
ok(windows[2:] == [0, 0], "a second racing round generates nothing",
   "windows per process %s" % windows[2:])
got = cluster.psql("SELECT count(*) || ' ' || count(DISTINCT window_id) || ' ' || "
                   "count(DISTINCT report_id) FROM outbox_reports")
ok(got == "%d %d %d" % (D, D, D), "the outbox holds one report per window",
   "got %s, want %d %d %d" % (got, D, D, D))
got = cluster.psql("SELECT count(*) FROM windows WHERE state <> 1")
ok(got == "0", "every window is reported", "got %s open" % got)
got = cluster.psql("SELECT count(*) || ' ' || count(DISTINCT report) FROM outbox_deliveries")
ok(got == "%d %d" % (D, D), "one delivery row per report (one rua each)",
   "got %s, want %d %d" % (got, D, D))

# phase 2: 2*D domains (the first D already reported today: their results move on to
# tomorrow's window), while generators keep claiming whatever has "ended"
import base64, gzip, json, threading
N2 = 2 * D * 20
errlog2 = os.path.join(work, "tlsrptd2.err")
proc, ready = start_daemon(conf, errlog2)
sender = subprocess.Popen([B + "/tests/tools/sendmany", "--socket", sock, "--count", str(N2),
                           "--domains", str(2 * D), "--threads", "1", "--rate",
                           str(N2 // 4)], stdout=subprocess.PIPE, text=True)
passes = 0
while sender.poll() is None:
    procs = [subprocess.Popen(gen, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
             for _ in range(2)]
    for p in procs:
        p.wait(timeout=300)
    passes += 1
sent = sender.stdout.read()
proc.terminate()
proc.wait(timeout=60)
# late results hopped to the next open window, possibly past `later`: look further ahead
final = subprocess.run(gen[:-2] + [str(int(later) + 5 * 86400), "--immediate"],
                       capture_output=True, text=True)
ok(ready and "sent=%d eagain=0" % N2 in sent and final.returncode == 0,
   "%d more results over %d domains while %d pairs of generators ran" % (N2, 2 * D, passes),
   sent + final.stderr)
got = cluster.psql("SELECT count(*) - count(DISTINCT window_id) FROM outbox_reports")
left = cluster.psql("SELECT count(*) FROM windows WHERE state <> 1")
ok(got == "0" and left == "0", "still one report per window, every window reported",
   "duplicate reports %s, open windows %s; last pass: %s %s; open: %s; later %s" %
   (got, left, final.stdout, final.stderr[-500:],
    cluster.psql("SELECT period, start, end_time, count(*) FROM windows WHERE state = 0 "
                 "GROUP BY 1, 2, 3"), later))
total = 0
for line in cluster.psql("SELECT encode(body, 'hex') FROM outbox_reports").split("\n"):
    rep = json.loads(gzip.decompress(bytes.fromhex(line)))
    for pol in rep["policies"]:
        total += pol["summary"]["total-successful-session-count"]
        total += pol["summary"]["total-failure-session-count"]
ok(total == N + N2, "the reports hold exactly every result sent",
   "got %d sessions in reports, want %d" % (total, N + N2))
again = open(errlog2).read().count("reported meanwhile")
print("# flushes retried because a window was reported meanwhile: %d" % again)
sys.exit(1 if fails else 0)
