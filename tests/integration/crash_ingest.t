#!/usr/bin/python3
# crash_ingest.t - the daemon is killed with SIGKILL at random points during ingestion,
# again and again (20 times in CI, 6 otherwise), and restarted on the same socket and
# store while a paced sender keeps sending (retrying while the socket is down).
# Invariants at the end: nothing is counted twice (stored <= sent, and the store's
# success:failure split is never above the sent split), and the loss stays within the
# documented bound: at most one flush interval of results (plus the kernel queue) per kill.
import os, random, shutil, signal, sqlite3, subprocess, sys, time

sys.path.insert(0, "tests/lib")
from tlsrpt_daemon import B, daemon_config, start_daemon

TMP = os.environ.get("TLSRPT_TEST_TMP", "/tmp")
san = os.environ.get("SAN", "") != ""
KILLS = 20 if os.environ.get("CI") else 6
RATE = 10000 if san else 20000
F = 0.25  # flush interval, seconds
# the sender runs for about 0.6 s per kill cycle
N = int(RATE * KILLS * 0.6) // 100 * 100
work = os.path.join(TMP, "crash_ingest")
shutil.rmtree(work, ignore_errors=True)
os.makedirs(work)
sock, db = os.path.join(work, "c.sock"), os.path.join(work, "c.db")
conf = daemon_config(work, sock, db, "%dms" % int(F * 1000))
rng = random.Random(int(os.environ.get("CRASH_SEED", "8460")))

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

def stored():
    con = sqlite3.connect(db)
    r = con.execute("SELECT coalesce(sum(success), 0), coalesce(sum(failure), 0) "
                    "FROM session_counts").fetchone()
    con.close()
    return r

print("1..5")
d, ready = start_daemon(conf, os.path.join(work, "d0.err"))
sender = subprocess.Popen([B + "/tests/tools/sendmany", "--socket", sock, "--count", str(N),
                           "--domains", "100", "--rate", str(RATE), "--retry"],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
starts_ok = ready
kills = 0
for i in range(KILLS):
    time.sleep(rng.uniform(0.05, 0.5))
    d.send_signal(signal.SIGKILL)
    d.wait()
    kills += 1
    d, ready = start_daemon(conf, os.path.join(work, "d%d.err" % (i + 1)))
    starts_ok = starts_ok and ready
    if sender.poll() is not None:
        break
ok(starts_ok, "the daemon restarted after each of %d kills (stale socket replaced)" % kills)
out, err = sender.communicate(timeout=300)
time.sleep(F + 0.3)
d.terminate()
rc = d.wait(timeout=30)
ok(rc == 0, "the last instance stops cleanly")
sent = int(out.split()[0].split("=")[1])
s, f = stored()
total = s + f
print("# sender: " + out.strip())
print("# kills %d, sent %d, stored %d (success %d, failure %d), lost %d"
      % (kills, sent, total, s, f, sent - total))
ok(sent == N, "every result was sent (retried while the daemon was down)", out + err)
# sendmany sends exactly one failure per ten results: a double count of any flush
# would push stored above sent or tilt the split
ok(total <= sent and f <= sent // 10 and s <= sent - sent // 10,
   "nothing counted twice (stored %d <= sent %d, per kind too)" % (total, sent))
bound = kills * (int(RATE * F * 1.5) + 200)
ok(sent - total <= bound, "loss %d within %d kills x one flush interval (bound %d)"
   % (sent - total, kills, bound))
sys.exit(1 if fails else 0)
