#!/usr/bin/python3
# pg_failover.t - the collector through a PostgreSQL outage (issue 10), with the real
# daemon on a throw-away cluster (tests/lib/pgcluster.py) and a 200 ms flush interval.
#
# A. below the memory bound nothing may be lost: 100,000 results are stored, then
#    60,000 more are sent (paced over 6 s) while PostgreSQL is stopped for 5 s
#    (pg_ctl stop -m fast: 25 flush intervals); after the restart the store holds
#    exactly 160,000 sessions with the 9:1 split in every domain; the log shows the
#    backoff (1 s, 2 s, 4 s) and the recovery; the daemon's final line says dropped=0.
# B. over the bound (collector.max-memory = 1mb, the minimum): during an outage three
#    days of windows are counted, each day for its own 400 domains (each day about
#    half the bound, all three well over it).  Exact accounting: stored + dropped ==
#    sent; the newest day is stored complete; the oldest day lost something; the drop is
#    logged with reason=store-unreachable.
# Under SAN (ASan) the counts of A are a fifth.  Skips without PostgreSQL, except in CI
# (CI=true), where a cluster that cannot start is a failure.
import os
import re
import shutil
import subprocess
import sys
import time

sys.path.insert(0, "tests/lib")
from pgcluster import Cluster  # noqa: E402
from tap import check, finish, ok  # noqa: E402
from tlsrpt_daemon import start_daemon  # noqa: E402

B = os.environ.get("B", "build")
TMP = os.environ.get("TLSRPT_TEST_TMP") or "/tmp"
asan = os.environ.get("SAN", "") != "" or "/asan" in B
scale = 5 if asan else 1
W = os.path.join(TMP, "pg_failover.%d" % os.getpid())
shutil.rmtree(W, ignore_errors=True)
os.makedirs(W)
SENDMANY = B + "/tests/tools/sendmany"

cluster = Cluster.start_or_exit()
t_start = time.time()


def config(name, sock, extra=""):
    path = os.path.join(W, name)
    with open(path, "w") as f:
        f.write('[server]\nroles = ["collector"]\n'
                '[collector]\nsocket = "%s"\nflush-interval = "200ms"\n%s'
                '[store]\nbackend = "postgresql"\nurl = "%s"\n'
                '[log]\ndestination = "stderr"\n' % (sock, extra, cluster.url))
    return path


def send(sock, count, domains, first=0, ts=0, rate=0, wait=True):
    args = [SENDMANY, "--socket", sock, "--count", str(count), "--domains", str(domains),
            "--first", str(first)]
    if ts:
        args += ["--ts", str(ts)]
    if rate:
        args += ["--rate", str(rate)]
    p = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if not wait:
        return p
    out, err = p.communicate(timeout=120)
    good = p.returncode == 0 and ("sent=%d eagain=0 econn=0" % count) in out
    if not good:
        print("# sendmany: %s %s" % (out.strip(), err.strip()))
    return good


def stored(lo, hi, start=None):
    """Sessions stored for domains d<lo>..d<hi-1> (optionally one window start)."""
    where = "w.domain >= 'd%05d' AND w.domain < 'd%05d'" % (lo, hi)
    if start is not None:
        where += " AND w.start = %d" % start
    return int(cluster.psql(
        "SELECT coalesce(sum(c.success + c.failure), 0) FROM session_counts c "
        "JOIN windows w ON w.id = c.window_id WHERE " + where))


def wait_for(fn, want, secs):
    got = None
    end = time.time() + secs
    while time.time() < end:
        got = fn()
        if got == want:
            break
        time.sleep(0.1)
    return got


# ---------------------------------------------------------------- A: below the bound
N1, N2, D, RATE = 100000 // scale, 60000 // scale, 1000 // scale, 10000 // scale
sock_a = os.path.join(W, "a.sock")
err_a = os.path.join(W, "a.err")
pa, ready = start_daemon(config("a.toml", sock_a), err_a)
ok(ready, "A: the collector starts with the PostgreSQL store", open(err_a).read())
ok(send(sock_a, N1, D), "A: %d results sent" % N1)
check("A: stored before the outage", wait_for(lambda: stored(0, D), N1, 30), N1)

t0 = time.time()
sender = send(sock_a, N2, D, rate=RATE, wait=False)
time.sleep(1)
cluster.down()
t_down = time.time()
time.sleep(5)
cluster.up()
outage = time.time() - t_down
sout, serr = sender.communicate(timeout=120)
ok(sender.returncode == 0 and ("sent=%d eagain=0 econn=0" % N2) in sout,
   "A: %d more results sent while PostgreSQL was down for %.1f s" % (N2, outage), sout + serr)
got = wait_for(lambda: stored(0, D), N1 + N2, 40)
recovered = time.time() - t_down - outage
print("# A: stored %d sessions %.1f s after PostgreSQL was back" % (got, recovered))
T = N1 + N2
pa.terminate()
check("A: the daemon exits 0", pa.wait(timeout=60), 0)
log = open(err_a).read()
m = re.search(r"collector stopped .* unflushed=(\d+) dropped=(\d+) commit_unknown=(\d+)\n", log)
unflushed, dropped, unknown = (int(x) for x in m.groups()) if m else (-1, -1, -1)
if unknown == 0:
    check("A: after the restart exactly every result is stored", got, T)
    check("A: final statistics: unflushed=0 dropped=0", (unflushed, dropped), (0, 0))
else:
    # the at-most-once corner (docs/postgresql.md): a COMMIT whose answer was lost when
    # the server stopped is never retried; its sessions may or may not be stored
    print("# A: %d commit(s) with unknown outcome, %d sessions counted as dropped"
          % (unknown, dropped))
    ok(T - dropped <= got <= T, "A: stored within the at-most-once bound",
       "stored %d, sent %d, dropped %d" % (got, T, dropped))
    check("A: final statistics: unflushed=0", unflushed, 0)
split = cluster.psql(
    "SELECT count(*) FILTER (WHERE success = %d AND failure = %d) || ' ' || count(*) "
    "FROM session_counts c JOIN windows w ON w.id = c.window_id "
    "WHERE w.domain < 'd%05d'" % (T // D * 9 // 10, T // D // 10, D))
if unknown == 0:
    check("A: every domain has exactly its 9:1 split", split, "%d %d" % (D, D))
else:
    ok(True, "A: split not checked (commit outcome unknown)")
log = open(err_a).read()
delays = [int(x) for x in re.findall(r"flush failed, counters kept in memory .*?"
                                     r"retry_in_ms=(\d+)", log)]
if unknown == 0:
    backoff_ok = len(delays) >= 3 and delays[:3] == [1000, 2000, 4000]
else:
    # a commit with unknown outcome is a failed attempt too (it backs off) but its
    # counters are dropped, not "kept in memory": that attempt's delay is not logged
    backoff_ok = (len(delays) + unknown >= 3 and delays == sorted(delays)
                  and all(d in (1000, 2000, 4000, 8000, 16000, 30000) for d in delays))
ok(backoff_ok and all(d <= 30000 for d in delays),
   "A: failed flushes back off 1 s, 2 s, 4 s (cap 30 s)", "got %r, unknown commits %d"
   % (delays, unknown))
ok("collector store reachable again" in log and "memory bound" not in log
   and (unknown > 0 or "dropped counters" not in log),
   "A: recovery logged, nothing dropped", log[-3000:])

# ---------------------------------------------------------------- B: over the bound
DB_, K = 400, 5
BASE = 20000
now = int(time.time())
days = {3: BASE + 1000, 2: BASE + 2000, 1: BASE + 3000}  # days ago -> first domain
sock_b = os.path.join(W, "b.sock")
err_b = os.path.join(W, "b.err")
pb, ready = start_daemon(config("b.toml", sock_b, 'max-memory = "1mb"\n'), err_b)
ok(ready, "B: a collector with max-memory = 1mb starts", open(err_b).read())
sent_b = 0
ok(send(sock_b, 100, 10, first=BASE), "B: 100 results before the outage")
sent_b += 100
check("B: stored before the outage", wait_for(lambda: stored(BASE, BASE + 10), 100, 30), 100)
cluster.down()
ok(send(sock_b, 10, 1, first=BASE + 999), "B: 10 results after PostgreSQL stopped")
sent_b += 10
for _ in range(50):
    if "flush failed" in open(err_b).read():
        break
    time.sleep(0.1)
ok("flush failed, counters kept in memory" in open(err_b).read(),
   "B: the failed flush is logged")
for ago in (3, 2, 1):
    ok(send(sock_b, DB_ * K, DB_, first=days[ago], ts=now - ago * 86400),
       "B: %d results for %d domains dated %d days ago" % (DB_ * K, DB_, ago))
    sent_b += DB_ * K
time.sleep(1)
cluster.up()
pb.terminate()
check("B: the daemon exits 0", pb.wait(timeout=60), 0)
log = open(err_b).read()
m = re.search(r"collector stopped .* unflushed=(\d+) dropped=(\d+) commit_unknown=(\d+)\n",
              log)
dropped, unknown = (int(m.group(2)), int(m.group(3))) if m else (-1, -1)
total = stored(BASE, BASE + 4000)
print("# B: sent %d, stored %d, dropped %d" % (sent_b, total, dropped))
ok(dropped > 0, "B: counters were dropped past the bound", log[-2000:])
if unknown == 0:
    check("B: stored + dropped == sent (exact accounting)", total + dropped, sent_b)
else:  # at most once: see A
    ok(sent_b - dropped <= total <= sent_b, "B: stored within the at-most-once bound",
       "stored %d, sent %d, dropped %d" % (total, sent_b, dropped))


def day_start(ago):
    return (now - ago * 86400) // 86400 * 86400


newest = stored(days[1], days[1] + DB_, day_start(1))
oldest = stored(days[3], days[3] + DB_, day_start(3))
middle = stored(days[2], days[2] + DB_, day_start(2))
print("# B: stored per day: 3 days ago %d, 2 days ago %d, yesterday %d (of %d each)"
      % (oldest, middle, newest, DB_ * K))
check("B: the newest day is stored complete", newest, DB_ * K)
ok(oldest < DB_ * K and oldest <= middle,
   "B: the oldest windows went first", "oldest %d, middle %d" % (oldest, middle))
if unknown == 0:
    check("B: what was dropped is exactly what is missing from the older days",
          (DB_ * K - oldest) + (DB_ * K - middle), dropped)
else:
    ok(True, "B: per-day accounting not checked (commit outcome unknown)")
ok("memory bound reached, dropped the oldest windows' counters reason=store-unreachable"
   in log, "B: the drop is logged with its reason", log[-2000:])
print("# runtime %.1f s" % (time.time() - t_start))
if not os.environ.get("KEEP"):
    shutil.rmtree(W, ignore_errors=True)
finish()
