#!/usr/bin/python3
# deliver_cap.t - delivery.daily-cap (issue 7: a per-day cap per destination).
#
# Five policy domains publish rua=mailto:reports@cap.example (four of them) or
# mailto:other@cap.example; delivery.daily-cap = 2.  Each `tlsrpt deliver --now T` is a
# new process against a fake SMTP relay, so the count of reports sent today comes from
# the store.  Checks: 2 reports to reports@ sent, the other 2 deferred to the next UTC
# midnight (state failed, attempts 0, last_error naming the cap, one log line), the
# other destination is not capped; nothing is due before midnight; an operator retry
# the same day is deferred again by a new process (the count survives restarts); at
# midnight the deferred ones are sent.  With retry-until shorter than the wait, the row
# is given up instead.
import os
import re
import sqlite3
import subprocess
import sys
import time

sys.path.insert(0, "tests/lib")
from fake_smtp import FakeSMTP  # noqa: E402
from tap import check, finish, okn, run  # noqa: E402

B = os.environ.get("B", "build")
TMP = os.environ.get("TLSRPT_TEST_TMP") or "/tmp"
T = os.path.join(TMP, "deliver_cap.%d" % os.getpid())
os.makedirs(T, exist_ok=True)
TLSRPT = os.path.join(B, "tlsrpt")
smtp = FakeSMTP()

with open("etc/tlsrptd.toml") as f:
    base_conf = f.read()


def make_conf(name, extra):
    c = base_conf
    c = re.sub(r'(?m)^socket = .*', 'socket = "%s/collector.sock"' % T, c)
    c = re.sub(r'(?m)^path = .*', 'path = "%s/tlsrptd.sqlite"' % T, c)
    c = re.sub(r'(?m)^listen = .*', 'listen = "127.0.0.1:0"', c)
    c = re.sub(r'(?m)^sign = .*', 'sign = "[]"', c)
    c = re.sub(r'(?m)^relay = .*', 'relay = "smtp://127.0.0.1:%d"\ntimeout = "5s"\n%s'
               % (smtp.port, extra), c)
    path = os.path.join(T, name)
    with open(path, "w") as f:
        f.write(c)
    return path


conf = make_conf("tlsrptd.toml", "daily-cap = 2")
short = make_conf("short.toml", "daily-cap = 2")
with open(short) as f:
    short_text = f.read()
with open(short, "w") as f:
    f.write(re.sub(r'(?m)^retry-until = .*', 'retry-until = "1h"', short_text))
nocap = make_conf("nocap.toml", "")

DOMS = {"c1.example": "reports", "c2.example": "reports", "c3.example": "reports",
        "c4.example": "reports", "o.example": "other"}
ZONE = os.path.join(T, "zone")
with open(ZONE, "w") as f:
    for d, who in DOMS.items():
        f.write('_smtp._tls.%s. 300 IN TXT "v=TLSRPTv1; rua=mailto:%s@cap.example"\n'
                % (d, who))

derr = os.path.join(T, "d.err")
with open(derr, "w") as ef:
    d = subprocess.Popen([os.path.join(B, "tlsrptd"), "--foreground", "--config", nocap],
                         stderr=ef)
for _ in range(400):
    with open(derr) as f:
        if " ready" in f.read():
            break
    time.sleep(0.025)
two_days_ago = int(time.time()) - 2 * 86400
for dom, who in DOMS.items():
    run(TLSRPT, "record", "--socket", T + "/collector.sock", "--domain", dom,
        "--record", "v=TLSRPTv1; rua=mailto:%s@cap.example" % who, "--policy", "sts",
        "--policy-string", "version: STSv1", "--mx-host", "mx." + dom,
        "--time", str(two_days_ago), "--count", "1")
d.terminate()
d.wait()

DAY = 86400
G = int(time.time()) // DAY * DAY + 3600  # 01:00 UTC today: the 2-day-old windows are due
M = G - 3600 + DAY                        # the next UTC midnight
r = run(TLSRPT, "generate", "--config", conf, "--immediate", "--now", str(G))
check("generate: 5 reports", r.stdout.strip(),
      "windows=5 reports=5 invalid=0 split=0 dropped-details=0 not-yet=0")
db = sqlite3.connect(os.path.join(T, "tlsrptd.sqlite"))


def rows():
    return {dom: (["pending", "sent", "failed", "given-up"][st], att, nt, err or "")
            for dom, st, att, nt, err in db.execute(
                "SELECT r.domain, d.state, d.attempts, d.next_try, d.last_error FROM "
                "outbox_deliveries d JOIN outbox_reports r ON r.id = d.report")}


def deliver(cfg, now):
    r = run(TLSRPT, "deliver", "--config", cfg, "--dns-zone", ZONE, "--now", str(now))
    if r.returncode:
        print("# deliver rc=%d: %s" % (r.returncode, r.stderr.replace("\n", "\n# ")))
    return r.returncode, r.stdout.strip(), r.stderr


CAP = "daily cap of 2 reports reached for mailto:reports@cap.example"
rc, out, err = deliver(conf, G + 10)
check("pass 1: 3 sent, 2 deferred", (rc, out),
      (0, "reports=5 attempts=3 sent=3 failed=0 given-up=0 deferred=2"))
st = rows()
sent = sorted(x for x, v in st.items() if v[0] == "sent")
check("pass 1: the first two reports@ rows and the other destination sent", sent,
      ["c1.example", "c2.example", "o.example"])
for dom in ("c3.example", "c4.example"):
    check("pass 1: %s deferred to midnight, attempts kept" % dom, st[dom], ("failed", 0, M, CAP))
check("SMTP sessions to reports@ after pass 1", len(smtp.of("reports@cap.example")), 2)
check("SMTP sessions to other@ after pass 1", len(smtp.of("other@cap.example")), 1)
lines = [x for x in err.splitlines() if "report delivery deferred" in x]
check("the cap is logged once per destination", len(lines), 1)
okn("the log line names the destination, the cap and the next try",
    lines and "rua=mailto:reports@cap.example next_try=%d error=\"%s\"" % (M, CAP) in lines[0],
    err)

rc, out, err = deliver(conf, M - 1)
check("one second before midnight: nothing due", out,
      "reports=0 attempts=0 sent=0 failed=0 given-up=0")

# an operator retry makes c3 due now: a new process still counts today's two
rid = db.execute("SELECT id FROM outbox_reports WHERE domain = 'c3.example'").fetchone()[0]
r = run(TLSRPT, "outbox", "retry", "--config", conf, str(rid))
check("outbox retry of c3", r.stdout.strip(), "changed=1")
rc, out, err = deliver(conf, G + 600)
check("retry the same day: deferred again (count from the store)", out,
      "reports=1 attempts=0 sent=0 failed=0 given-up=0 deferred=1")
check("c3 back at midnight, attempts still 0", rows()["c3.example"], ("failed", 0, M, CAP))
check("still two sessions to reports@", len(smtp.of("reports@cap.example")), 2)

rc, out, err = deliver(conf, M)
check("at midnight the deferred two are sent", out,
      "reports=2 attempts=2 sent=2 failed=0 given-up=0")
st = rows()
check("every row sent once", sorted((k, v[0], v[1]) for k, v in st.items()),
      [(k, "sent", 1) for k in sorted(DOMS)])
check("SMTP sessions to reports@ in total", len(smtp.of("reports@cap.example")), 4)

# ---------------------------------------------------------------- retry-until too short
# Today (from M) c4 was sent at M; c1 is made to look sent at M + 1 and c3 due again at
# M + 20: the cap of 2 is reached, and under retry-until = 1h the next midnight is
# after created + 1h, so c3 is given up instead of deferred.
ids = dict(db.execute("SELECT domain, id FROM outbox_reports"))
db.execute("UPDATE outbox_deliveries SET sent_at = ? WHERE report = ?", (M + 1, ids["c1.example"]))
db.execute("UPDATE outbox_deliveries SET state = 0, next_try = ?, sent_at = NULL "
           "WHERE report = ?", (M + 20, ids["c3.example"]))
db.commit()
rc, out, err = deliver(short, M + 30)
check("cap reached and midnight is after created + retry-until: given up", out,
      "reports=1 attempts=1 sent=0 failed=0 given-up=1")
check("c3 given up with the reason", rows()["c3.example"][::3],
      ("given-up", "retry-until passes before the next UTC day; " + CAP))
check("no further session to reports@", len(smtp.of("reports@cap.example")), 4)
finish()
