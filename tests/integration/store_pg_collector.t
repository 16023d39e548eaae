#!/usr/bin/python3
# store_pg_collector.t - the real daemon (tlsrptd) with [store] backend = "postgresql"
# on a throw-away cluster (Unix socket only), fed by tests/tools/sendmany:
#   1. 200,000 results over 1,000 domains: PostgreSQL holds exactly that many sessions
#      with the 9:1 split per domain, and one failure detail row per domain;
#   2. outage: while 60,000 more results arrive (paced over ~6 s) the cluster is stopped
#      for 3 s and started again; the collector keeps the deltas in memory, retries
#      every second, reconnects, and nothing is lost;
#   3. a password in the URL is never written to the log (failing start-up);
#   4. store.password: a role with a SCRAM password (pg_hba.conf line for it) connects
#      with the password from the configuration, not from the URL.
# Under SAN=asan the counts are a tenth.  Skips without PostgreSQL, except in CI.
import os, shutil, subprocess, sys, time

sys.path.insert(0, "tests/lib")
from pgcluster import Cluster
from tlsrpt_daemon import start_daemon

B = os.environ.get("B", "build")
TMP = os.environ.get("TLSRPT_TEST_TMP", "/tmp")
asan = os.environ.get("SAN", "") != ""
scale = 10 if asan else 1
N, D = 200000 // scale, 1000 // scale
N2, RATE = 60000 // scale, 10000 // scale
work = os.path.join(TMP, "store_pg_collector")
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


def config(name, url, password=None):
    path = os.path.join(work, name)
    with open(path, "w") as f:
        f.write('[collector]\nsocket = "%s"\nflush-interval = "1s"\n'
                '[log]\ndestination = "stderr"\n[web]\nlisten = "127.0.0.1:0"\n'
                '[store]\nbackend = "postgresql"\nurl = "%s"\n' % (sock, url))
        if password is not None:
            f.write('password = "%s"\n' % password)
    return path


def sums():
    return cluster.psql("SELECT coalesce(sum(success),0) || ' ' || coalesce(sum(failure),0) "
                        "|| ' ' || count(*) FROM session_counts")


print("1..11")
errlog = os.path.join(work, "tlsrptd.err")
proc, ready = start_daemon(config("pg.toml", cluster.url), errlog)
ok(ready, "tlsrptd starts with the postgresql store", open(errlog).read())
t0 = time.time()
out = subprocess.run([B + "/tests/tools/sendmany", "--socket", sock, "--count", str(N),
                      "--domains", str(D), "--threads", "2"], capture_output=True, text=True)
dt = time.time() - t0
ok(out.returncode == 0 and ("sent=%d eagain=0 econn=0" % N) in out.stdout,
   "%d results sent (%.1f s)" % (N, dt), out.stdout + out.stderr)
print("# " + out.stdout.strip())
want = "%d %d %d" % (N * 9 // 10, N // 10, D)
got = ""
for _ in range(100):  # flushed within a few flush intervals
    got = sums()
    if got == want:
        break
    time.sleep(0.1)
ok(got == want, "PostgreSQL holds exactly %d sessions, 9:1 split, %d rows" % (N, D),
   "got %s, want %s" % (got, want))
bad = cluster.psql("SELECT count(*) FROM session_counts WHERE success != %d OR failure != %d"
                   % (N // D * 9 // 10, N // D // 10))
fd = cluster.psql("SELECT sum(count) || ' ' || count(*) FROM failure_counts")
ok(bad == "0" and fd == "%d %d" % (N // 10, D),
   "every domain has the same split; one failure detail row per domain",
   "domains with another split=%s, failure sum/rows=%s" % (bad, fd))

# outage during ingestion
sender = subprocess.Popen([B + "/tests/tools/sendmany", "--socket", sock, "--count", str(N2),
                           "--domains", str(D), "--threads", "1", "--rate", str(RATE)],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
time.sleep(1.5)
cluster.down()
time.sleep(3)
cluster.up()
sout, serr = sender.communicate(timeout=120)
ok(sender.returncode == 0 and ("sent=%d eagain=0 econn=0" % N2) in sout,
   "%d more results sent while the database was down for 3 s" % N2, sout + serr)
T = N + N2
want = "%d %d %d" % (T * 9 // 10, T // 10, D)
for _ in range(100):
    got = sums()
    if got == want:
        break
    time.sleep(0.1)
ok(got == want, "after the outage PostgreSQL holds exactly %d sessions (nothing lost)" % T,
   "got %s, want %s" % (got, want))
log = open(errlog).read()
ok("postgresql" in log.lower() or "reconnect" in log,
   "the outage is logged", log[-2000:])
proc.terminate()
rc = proc.wait(timeout=60)
ok(rc == 0, "tlsrptd exits 0 on SIGTERM", open(errlog).read()[-2000:])

# a password in the URL stays out of the log
errlog2 = os.path.join(work, "tlsrptd-pw.err")
bad_url = "postgresql://tlsrpt:S3cretPw@/nosuchdb?host=" + cluster.sock
p2 = subprocess.run([B + "/tlsrptd", "--foreground", "--config", config("pw.toml", bad_url)],
                    stdout=subprocess.DEVNULL, stderr=open(errlog2, "w"), timeout=30)
log2 = open(errlog2).read()
ok(p2.returncode != 0 and "S3cretPw" not in log2 and "tlsrpt:***@" in log2,
   "a failed connection is reported with the password masked", log2)

# store.password: role tlsrpt_pw must authenticate with SCRAM over the socket
cluster.psql("CREATE ROLE tlsrpt_pw LOGIN PASSWORD 'Pw-From-Config'; "
             "GRANT CREATE, USAGE ON SCHEMA public TO tlsrpt_pw; "
             "GRANT ALL ON ALL TABLES IN SCHEMA public TO tlsrpt_pw; "
             "GRANT ALL ON ALL SEQUENCES IN SCHEMA public TO tlsrpt_pw")
hba = os.path.join(cluster.path, "data", "pg_hba.conf")
old_hba = open(hba).read()
with open(hba, "w") as f:
    f.write("local all tlsrpt_pw scram-sha-256\n" + old_hba)
cluster.psql("SELECT pg_reload_conf()")
time.sleep(0.5)
pw_url = "postgresql:///tlsrpt?host=%s&user=tlsrpt_pw" % cluster.sock
errlog3 = os.path.join(work, "tlsrptd-nopw.err")
p3 = subprocess.run([B + "/tlsrptd", "--foreground", "--config", config("nopw.toml", pw_url)],
                    stdout=subprocess.DEVNULL, stderr=open(errlog3, "w"), timeout=30)
log3 = open(errlog3).read()
ok(p3.returncode != 0 and "password" in log3,
   "without store.password the SCRAM role is refused", log3)
errlog4 = os.path.join(work, "tlsrptd-pw4.err")
proc, ready = start_daemon(config("pw4.toml", pw_url, "Pw-From-Config"), errlog4)
sent = subprocess.run([B + "/tests/tools/sendmany", "--socket", sock, "--count", "1000",
                       "--domains", str(D)], capture_output=True, text=True)
proc.terminate()
rc = proc.wait(timeout=60)
f4 = sum(1 for i in range(1000) if (i // D) % 10 == 0)  # sendmany's failure rule
want = "%d %d %d" % (T * 9 // 10 + 1000 - f4, T // 10 + f4, D)
got = sums()
log4 = open(errlog4).read()
ok(ready and rc == 0 and got == want and "Pw-From-Config" not in log4,
   "with store.password the daemon connects and flushes (password not logged)",
   "ready=%s rc=%s got %s want %s\n%s" % (ready, rc, got, want, log4[-1500:]))
sys.exit(1 if fails else 0)
