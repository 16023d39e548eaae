#!/usr/bin/python3
# pg_multihost.t - many MTA hosts, one PostgreSQL (issue 10), with real daemons on a
# throw-away cluster (tests/lib/pgcluster.py):
#   - three collector hosts (server.roles = ["collector"], each its own socket) are fed
#     300,000 results each at the same time by tests/tools/sendmany, for overlapping
#     domains (collector i: 300 domains from d<150 i>), all dated two days ago, so the
#     three flush concurrently into the same window rows;
#   - then two reporter hosts (roles = ["reporter"], 4 delivery workers each) start at
#     the same time and race for the same windows and delivery rows: report delivery
#     by mail through a fake SMTP relay (tests/lib/fake_smtp.py), the _smtp._tls records
#     served from a zone file (TLSRPT_DNS_ZONE, no network).
# Asserts: PostgreSQL holds exactly the sum per domain; every window is generated once
# (one report per window, the two hosts' generated-window counts add up to the number of
# windows); every destination receives exactly one mail, and the report in it holds
# exactly the sum of sessions (success, failure, failure details) of its domain.
# Under SAN (ASan) each collector gets 30,000 results (a tenth) to keep the runtime
# reasonable.  Skips without PostgreSQL, except in CI (CI=true), where it fails.
import email
import email.policy
import gzip
import json
import os
import re
import shutil
import subprocess
import sys
import time

sys.path.insert(0, "tests/lib")
from fake_smtp import FakeSMTP  # noqa: E402
from pgcluster import Cluster  # noqa: E402
from tap import check, finish, ok  # noqa: E402

B = os.environ.get("B", "build")
TMP = os.environ.get("TLSRPT_TEST_TMP") or "/tmp"
asan = os.environ.get("SAN", "") != "" or "/asan" in B
N = 30000 if asan else 300000  # results per collector
D, STEP, HOSTS = 300, 150, 3   # domains per collector, offset between collectors
ALL = STEP * (HOSTS - 1) + D   # distinct domains
W = os.path.join(TMP, "pg_multihost.%d" % os.getpid())
shutil.rmtree(W, ignore_errors=True)
os.makedirs(W)

cluster = Cluster.start_or_exit()
smtp = FakeSMTP()
t_start = time.time()


def name(k):
    return "d%05d.example.net" % k


def coverage(k):
    """How many collectors were fed domain k."""
    return sum(1 for h in range(HOSTS) if h * STEP <= k < h * STEP + D)


ZONE = os.path.join(W, "zone")
with open(ZONE, "w") as f:
    for k in range(ALL):
        f.write('_smtp._tls.%s. 300 IN TXT "v=TLSRPTv1; rua=mailto:tlsrpt@%s"\n'
                % (name(k), name(k)))


def config(cfg, roles, sock):
    path = os.path.join(W, cfg)
    with open(path, "w") as f:
        f.write('[server]\nroles = ["%s"]\n'
                '[collector]\nsocket = "%s"\nflush-interval = "500ms"\n'
                '[store]\nbackend = "postgresql"\nurl = "%s"\n'
                '[web]\nlisten = ""\n'
                '[delivery]\nrelay = "smtp://127.0.0.1:%d"\nworkers = 4\ntimeout = "10s"\n'
                '[log]\ndestination = "stderr"\n' % (roles, sock, cluster.url, smtp.port))
    return path


def start(cfg, err, env=None):
    return subprocess.Popen([B + "/tlsrptd", "--foreground", "--config", cfg],
                            stdout=subprocess.DEVNULL, stderr=open(err, "w"), env=env)


def wait_ready(procs):
    for _ in range(400):
        logs = [open(err).read() for _, err in procs]
        if all(" ready" in log for log in logs) or any(p.poll() is not None
                                                       for p, _ in procs):
            break
        time.sleep(0.025)
    return all(" ready" in open(err).read() for _, err in procs)


# ---------------------------------------------------------------- collectors
cols = []
for h in range(HOSTS):
    sock = os.path.join(W, "c%d.sock" % h)
    err = os.path.join(W, "c%d.err" % h)
    cols.append((start(config("c%d.toml" % h, "collector", sock), err), err, sock))
ok(wait_ready([(p, e) for p, e, _ in cols]), "three collector hosts start",
   "".join(open(e).read()[-800:] for _, e, _ in cols))
ts = int(time.time()) - 2 * 86400
t0 = time.time()
senders = [subprocess.Popen([B + "/tests/tools/sendmany", "--socket", sock, "--count", str(N),
                             "--domains", str(D), "--first", str(h * STEP), "--ts", str(ts)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
           for h, (_, _, sock) in enumerate(cols)]
outs = [s.communicate(timeout=300) for s in senders]
t_sent = time.time() - t0
ok(all(s.returncode == 0 and ("sent=%d eagain=0 econn=0" % N) in o
       for s, (o, _) in zip(senders, outs)),
   "%d results sent to each collector at the same time (%.1f s)" % (N, t_sent),
   "\n".join(o + e for o, e in outs))
want_total = N * HOSTS
got = None
for _ in range(600):
    got = int(cluster.psql("SELECT coalesce(sum(success + failure), 0) FROM session_counts"))
    if got == want_total:
        break
    time.sleep(0.1)
t_stored = time.time() - t0
check("PostgreSQL holds every session of the three collectors", got, want_total)
print("# %d results into PostgreSQL through 3 collectors in %.1f s: %.0f results/s"
      % (want_total, t_stored, want_total / t_stored))
per = N // D  # results per domain per collector; 1 in 10 is a failure
rows = cluster.psql("SELECT w.domain, c.success, c.failure FROM session_counts c "
                    "JOIN windows w ON w.id = c.window_id ORDER BY w.domain")
got_rows = [tuple(r.split("|")) for r in rows.splitlines()]
want_rows = [(name(k), str(per * 9 // 10 * coverage(k)), str(per // 10 * coverage(k)))
             for k in range(ALL)]
check("per domain: exactly the sum of the collectors fed it (one row per window)",
      got_rows == want_rows, True)
for p, _, _ in cols:
    p.terminate()
ok(all(p.wait(timeout=60) == 0 for p, _, _ in cols), "the collectors exit 0")
ok(all(re.search(r"collector stopped .* dropped=0 commit_unknown=0\n", open(e).read()) for _, e, _ in cols),
   "no collector dropped anything")

# ---------------------------------------------------------------- reporters
env = dict(os.environ, TLSRPT_DNS_ZONE=ZONE)
reps = []
for h in range(2):
    err = os.path.join(W, "r%d.err" % h)
    reps.append((start(config("r%d.toml" % h, "reporter", os.path.join(W, "r.sock")), err,
                       env), err))
t1 = time.time()
ok(wait_ready(reps), "two reporter hosts start at the same time",
   "".join(open(e).read()[-800:] for _, e in reps))
done = None
for _ in range(900):  # generation, then delivery passes (every 30 s)
    done = cluster.psql("SELECT (SELECT count(*) FROM windows WHERE state = 1) || ' ' || "
                        "(SELECT count(*) FROM outbox_deliveries WHERE state = 1)")
    if done == "%d %d" % (ALL, ALL):
        break
    time.sleep(0.1)
t_done = time.time() - t1
check("every window is reported and every delivery row sent", done, "%d %d" % (ALL, ALL))
print("# generation and delivery of %d reports by two racing hosts: %.1f s" % (ALL, t_done))
for p, _ in reps:
    p.terminate()
ok(all(p.wait(timeout=60) == 0 for p, _ in reps), "the reporters exit 0")
logs = [open(e).read() for _, e in reps]
gen = [sum(int(x) for x in re.findall(r'msg="scheduler pass" windows=(\d+)', log))
       for log in logs]
print("# windows generated per reporter host: %s" % gen)
check("each window generated by exactly one host (counts add up)", sum(gen), ALL)
check("the outbox holds one report per window",
      cluster.psql("SELECT count(*) || ' ' || count(DISTINCT window_id) FROM outbox_reports"),
      "%d %d" % (ALL, ALL))
check("every delivery row was sent in one attempt",
      cluster.psql("SELECT count(*) FILTER (WHERE state = 1 AND attempts = 1) FROM "
                   "outbox_deliveries"), str(ALL))


def message(rec):
    """The message of a recorded SMTP session (dot-stuffing undone), or None."""
    i = rec.find(b"DATA\r\n")
    j = rec.find(b"\r\n.\r\n", i)
    if i < 0 or j < 0:
        return None
    lines = rec[i + 6:j].split(b"\r\n")
    return b"\r\n".join(ln[1:] if ln.startswith(b".") else ln for ln in lines)


mails = {}
for rcpt, rec in list(smtp.sessions):
    msg = message(rec)
    if msg is not None:
        mails.setdefault(rcpt, []).append(msg)
dupes = sorted(r for r, m in mails.items() if len(m) != 1)
check("every destination received exactly one mail",
      (len(mails), dupes), (ALL, []))
bad = []
for k in range(ALL):
    m = mails.get("tlsrpt@" + name(k))
    if not m:
        bad.append("%s: no mail" % name(k))
        continue
    msg = email.message_from_bytes(m[0], policy=email.policy.default)
    att = [p for p in msg.walk() if (p.get_filename() or "").endswith(".json.gz")]
    rep = json.loads(gzip.decompress(att[0].get_content())) if att else {}
    got = [(p["policy"]["policy-domain"], p["summary"]["total-successful-session-count"],
            p["summary"]["total-failure-session-count"],
            sum(f["failed-session-count"] for f in p.get("failure-details", [])))
           for p in rep.get("policies", [])]
    c = coverage(k)
    want = [(name(k), per * 9 // 10 * c, per // 10 * c, per // 10 * c)]
    if got != want:
        bad.append("%s: got %r, want %r" % (name(k), got, want))
check("every report holds exactly the sum of its domain's sessions", bad[:5], [])
print("# runtime %.1f s" % (time.time() - t_start))
if not os.environ.get("KEEP"):
    shutil.rmtree(W, ignore_errors=True)
finish()
