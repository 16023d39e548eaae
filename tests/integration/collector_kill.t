#!/usr/bin/python3
# collector_kill.t - kill -9 mid-run loses at most one flush interval, and nothing is
# counted twice after the restart.  Runs the real daemon (tlsrptd).
#
# A paced sender (R results/s, --retry so that results refused while the collector is
# down are sent again) runs while the collector (flush interval F) is killed with
# SIGKILL and restarted on the same socket path (the stale socket file is replaced).
# Then: committed-after-kill + accepted-by-the-second-instance == stored total
# (no double counting), stored <= sent, and sent - stored <= R*F + slack (the bound:
# one flush interval of results plus what the kernel queue held).
import os, shutil, signal, sqlite3, subprocess, sys, time

sys.path.insert(0, "tests/lib")
from tlsrpt_daemon import daemon_config, start_daemon

B = os.environ.get("B", "build")
TMP = os.environ.get("TLSRPT_TEST_TMP", "/tmp")
asan = os.environ.get("SAN", "") != ""
N, RATE, F = (60000, 20000, 0.5) if asan else (200000, 50000, 0.5)
work = os.path.join(TMP, "collector_kill")
shutil.rmtree(work, ignore_errors=True)
os.makedirs(work)
sock, db = os.path.join(work, "c.sock"), os.path.join(work, "c.db")

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


conf = daemon_config(work, sock, db, "%dms" % int(F * 1000))

def start(errpath):
    return start_daemon(conf, errpath)

def stored():
    con = sqlite3.connect(db)
    r = con.execute("SELECT coalesce(sum(success + failure), 0) FROM session_counts").fetchone()[0]
    con.close()
    return r

print("1..6")
c1, ready = start(os.path.join(work, "tlsrptd1.err"))
ok(ready, "collector starts")
sender = subprocess.Popen([B + "/tests/tools/sendmany", "--socket", sock, "--count", str(N),
                           "--domains", "100", "--rate", str(RATE), "--retry"],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
time.sleep(N / RATE / 2.5)
c1.send_signal(signal.SIGKILL)
c1.wait()
after_kill = stored()
ok(os.path.exists(sock), "socket file left behind by kill -9")
err2 = os.path.join(work, "tlsrptd2.err")
c2, ready = start(err2)
ok(ready, "restarted tlsrptd replaces the stale socket", open(err2).read() if not ready else None)
out, err = sender.communicate(timeout=120)
time.sleep(0.3)
c2.terminate()
c2.wait(timeout=30)
accepted2 = 0
import re
with open(err2) as f:
    m = re.search(r"stopped datagrams=\d+ accepted=(\d+)", f.read())
    if m:
        accepted2 = int(m.group(1))
total = stored()
sent = int(out.split()[0].split("=")[1])
print("# sender: " + out.strip())
print("# committed before kill %d, accepted after restart %d, stored %d, sent %d, lost %d"
      % (after_kill, accepted2, total, sent, sent - total))
ok(sent == N, "every result was sent (retried while down)", out + err)
ok(total == after_kill + accepted2, "nothing counted twice: stored == committed + accepted after restart",
   "got %d, want %d" % (total, after_kill + accepted2))
bound = int(RATE * F * 1.5) + 200
ok(0 <= sent - total <= bound, "loss %d within one flush interval (bound %d = 1.5*R*F + qlen slack)"
   % (sent - total, bound))
sys.exit(1 if fails else 0)
