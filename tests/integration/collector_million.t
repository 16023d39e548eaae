#!/usr/bin/python3
# collector_million.t - 1,000,000 results over 10,000 domains through the client
# library (blocking, 2 sender threads); SIGTERM; the store holds exactly 1,000,000
# sessions with the 9:1 success:failure split per domain.  Runs the real daemon
# (tlsrptd) from a configuration file.  Under SAN=asan the run is
# scaled down to 100,000 results over 1,000 domains (same shape).
import os, shutil, sqlite3, subprocess, sys, time

sys.path.insert(0, "tests/lib")
from tlsrpt_daemon import daemon_config, start_daemon

B = os.environ.get("B", "build")
TMP = os.environ.get("TLSRPT_TEST_TMP", "/tmp")
asan = os.environ.get("SAN", "") != ""
N, D = (100000, 1000) if asan else (1000000, 10000)
work = os.path.join(TMP, "collector_million")
shutil.rmtree(work, ignore_errors=True)
os.makedirs(work)
sock, db, stats = (os.path.join(work, x) for x in ("c.sock", "c.db", "stats"))

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


print("1..6")
errlog = os.path.join(work, "tlsrptd.err")
proc, ready = start_daemon(daemon_config(work, sock, db, "1s"), errlog)
ok(ready, "tlsrptd starts", open(errlog).read())
t0 = time.time()
out = subprocess.run([B + "/tests/tools/sendmany", "--socket", sock, "--count", str(N),
                      "--domains", str(D), "--threads", "2"], capture_output=True, text=True)
dt = time.time() - t0
ok(out.returncode == 0 and ("sent=%d eagain=0 econn=0" % N) in out.stdout,
   "%d results sent, blocking (%.1f s)" % (N, dt), out.stdout + out.stderr)
print("# " + out.stdout.strip())
proc.terminate()
rc = proc.wait(timeout=60)
ok(rc == 0, "tlsrptd exits 0 on SIGTERM", open(errlog).read()[-2000:])
con = sqlite3.connect(db)
s, f, rows = con.execute("SELECT sum(success), sum(failure), count(*) FROM session_counts").fetchone()
ok((s, f) == (N * 9 // 10, N // 10), "store holds exactly %d sessions, 9:1 split" % N,
   "got success=%s failure=%s, want %d %d" % (s, f, N * 9 // 10, N // 10))
bad = con.execute("SELECT count(*) FROM session_counts WHERE success != ? OR failure != ?",
                  (N // D * 9 // 10, N // D // 10)).fetchone()[0]
ok(rows == D and bad == 0, "every one of %d domains has the same split" % D,
   "rows=%d, domains with another split=%d" % (rows, bad))
fd = con.execute("SELECT sum(count), count(DISTINCT detail_id) FROM failure_counts").fetchone()
ok(fd == (N // 10, D), "failure details counted once per failed session", fd)
sys.exit(1 if fails else 0)
