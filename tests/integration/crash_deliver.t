#!/usr/bin/python3
# crash_deliver.t - report delivery killed with SIGKILL at random points, again and
# again (20 times when CI is set, 5 otherwise), then finished.
#
# deliver_e2e.t checks what one delivery pass does; this test checks what the delivery
# rows promise across crashes (src/outbound/deliver.c, outbox_claim in
# src/store/store.h).  Before a row is tried it is claimed with one conditional UPDATE
# that moves its next_try to now + lease (delivery.timeout + 60 s); the outcome is
# written after the attempt.  So:
#   - a row recorded as sent is final: it is never claimed or sent again;
#   - a process killed after the peer accepted the report but before the outcome was
#     written leaves the row claimed, not sent (the unavoidable window: no protocol
#     lets us commit together with the peer).  Restarts within the lease leave that
#     row alone; once the lease has passed it is sent again.  That second copy is the
#     only duplicate the design allows: at most one per kill (tlsrpt deliver tries one
#     row at a time), and only for a row the peer had accepted when the kill came.
# The fake SMTP relay and HTTPS receiver record every message they accept; both answer
# slowly after accepting (QUIT, the HTTP response) so that some kills land inside
# that window.  Checked after every kill and at the end:
#   - no row recorded as sent at a kill receives another copy later;
#   - every duplicate copy is of a row that was accepted-but-not-recorded at a kill,
#     at most one such row per kill, and it was not resent within the lease;
#   - at the end every row is sent, every destination has every report it should,
#     and the copies received are exactly rows + those accepted-but-not-recorded rows.
import gzip
import json
import os
import random
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import time

sys.path.insert(0, "tests/lib")
from fake_https import FakeHTTPS  # noqa: E402
from fake_smtp import FakeSMTP  # noqa: E402
from tap import check, finish, ok  # noqa: E402
from tlsrpt_daemon import B, daemon_config, start_daemon  # noqa: E402

TMP = os.environ.get("TLSRPT_TEST_TMP", "/tmp")
KILLS = int(os.environ.get("CRASH_KILLS", "20" if os.environ.get("CI") else "5"))
MAIL_DOMAINS = 150   # mailto: only, from sendmany (d00000.example.net ...)
HTTPS_DOMAINS = 40   # mailto: and https: each
rng = random.Random(int(os.environ.get("CRASH_SEED", "8460")))

work = os.path.join(TMP, "crash_deliver")
shutil.rmtree(work, ignore_errors=True)
os.makedirs(work)
sock, db = os.path.join(work, "c.sock"), os.path.join(work, "c.db")

smtp = FakeSMTP()
https = FakeHTTPS(work)
conf = daemon_config(work, sock, db, "100ms")
with open(conf, "a") as f:
    f.write('[report.tls.aggregate]\nsend = "daily"\nsign = "[]"\n'
            'contact-info = "\'tls-reports@example.org\'"\n'
            '[report]\nsubmitter = "\'mx.example.org\'"\n'
            '[delivery]\nrelay = "smtp://127.0.0.1:%d"\nhttps-ignore-cert = true\n'
            'timeout = "10s"\nconnect-timeout = "5s"\n' % smtp.port)
LEASE = 10 + 60

# ------------------------------------------------------------------ outbox
records = {"d%05d.example.net" % i: "v=TLSRPTv1; rua=mailto:tlsrpt@d%05d.example.net" % i
           for i in range(MAIL_DOMAINS)}
for i in range(HTTPS_DOMAINS):
    records["h%02d.example" % i] = ("v=TLSRPTv1; rua=mailto:tls@h%02d.example,%s/h%02d"
                                    % (i, https.url, i))
zone = os.path.join(work, "zone")
with open(zone, "w") as f:
    for dom, rec in records.items():
        f.write('_smtp._tls.%s. 300 IN TXT "%s"\n' % (dom, rec))

d, ready = start_daemon(conf, os.path.join(work, "d.err"))
ok(ready, "the daemon starts")
subprocess.run([B + "/tests/tools/sendmany", "--socket", sock, "--count",
                str(MAIL_DOMAINS * 10), "--domains", str(MAIL_DOMAINS), "--retry"],
               capture_output=True, check=False)
for i in range(HTTPS_DOMAINS):
    dom = "h%02d.example" % i
    subprocess.run([B + "/tlsrpt", "record", "--socket", sock, "--domain", dom, "--record",
                    records[dom], "--policy", "sts", "--policy-string", "version: STSv1",
                    "--mx-host", "mx." + dom, "--count", "3"], check=False)
d.send_signal(signal.SIGTERM)
ok(d.wait(timeout=60) == 0, "the daemon stops cleanly after collecting")
G = int(time.time()) + 2 * 86400
r = subprocess.run([B + "/tlsrpt", "generate", "--config", conf, "--immediate", "--now", str(G)],
                   capture_output=True, text=True)
want_windows = MAIL_DOMAINS + HTTPS_DOMAINS
check("generate fills the outbox", r.stdout.strip(),
      "windows=%d reports=%d invalid=0 split=0 dropped-details=0 not-yet=0"
      % (want_windows, want_windows))
STATES = ["pending", "sent", "failed", "given-up"]


def rows():
    """(report-id, dest) -> state name, from the store."""
    con = sqlite3.connect(db)
    out = {(rid, dest): STATES[st] for rid, dest, st in con.execute(
        "SELECT r.report_id, d.dest, d.state FROM outbox_deliveries d "
        "JOIN outbox_reports r ON r.id = d.report")}
    con.close()
    return out


def copies():
    """(report-id, dest) -> number of copies the fake peers accepted."""
    out = {}
    with smtp.lock:
        mails = list(smtp.accepted)
    with https.lock:
        posts = list(https.accepted)
    for _, rcpt, msg in mails:
        head = re.sub(rb"\r\n[ \t]+", b" ", msg.split(b"\r\n\r\n", 1)[0])
        m = re.search(rb"(?m)^Subject:.*Report-ID: <([^>]+)>", head)
        key = (m.group(1).decode() if m else "?", "mailto:" + rcpt)
        out[key] = out.get(key, 0) + 1
    for _, path, body in posts:
        key = (json.loads(gzip.decompress(body))["report-id"], https.url + path)
        out[key] = out.get(key, 0) + 1
    return out


all_rows = rows()
check("one delivery row per destination", len(all_rows), MAIL_DOMAINS + 2 * HTTPS_DOMAINS)


def deliver(now, store=None):
    return [B + "/tlsrpt", "deliver", "--config", conf, "--dns-zone", zone, "--now",
            str(now)] + (["--store", store] if store else [])


# calibration on a copy of the store: how long do the passes take here?
shutil.copy(db, db + ".calib")
smtp.quit_delay = https.delay = 0.01
t0 = time.monotonic()
for _ in range(3):
    subprocess.run(deliver(G + 10, db + ".calib"), capture_output=True, check=False)
full = time.monotonic() - t0
with smtp.lock:
    smtp.accepted.clear()
with https.lock:
    https.accepted.clear()
print("# all %d rows delivered in %.2f s" % (len(all_rows), full))

# ------------------------------------------------------------------ kill, restart
NOW = G + 10
snaps = []  # (state after kill k, copies after kill k)
kills = 0
for i in range(KILLS):
    p = subprocess.Popen(deliver(NOW), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(rng.uniform(0.02, 1.5 * full / KILLS))
    if p.poll() is None:
        p.send_signal(signal.SIGKILL)
        kills += 1
    p.wait()
    # the fake peers finish what they were reading (the killed client's sessions end)
    for _ in range(100):
        time.sleep(0.05)
        if smtp.active == 0 and https.active == 0:
            break
    snaps.append((rows(), copies()))
sent_during = sum(1 for s in snaps[-1][0].values() if s == "sent")
print("# %d kills; rows sent before the lease passed: %d of %d"
      % (kills, sent_during, len(all_rows)))
ok(kills >= KILLS // 2, "at least half of the %d passes were killed (%d)" % (KILLS, kills))

# limbo: accepted by the peer but not recorded as sent when a kill came
limbo = {}
for k, (st, cp) in enumerate(snaps):
    for key, n in cp.items():
        if st.get(key) != "sent" and key not in limbo:
            limbo[key] = k
per_kill = {}
for key, k in limbo.items():
    per_kill[k] = per_kill.get(k, 0) + 1
print("# accepted-but-not-recorded rows (the unavoidable window): %d, at kills %s"
      % (len(limbo), sorted(per_kill)))
ok(all(n <= 1 for n in per_kill.values()),
   "at most one accepted-but-not-recorded row per kill", per_kill)
last = snaps[-1][1]
resent = [key for key, k in limbo.items() if last.get(key) != snaps[k][1].get(key)]
ok(not resent, "restarts within the lease leave the accepted-but-not-recorded rows alone",
   resent)

# ------------------------------------------------------------------ finish after the lease
final_now = NOW + LEASE + 1
for _ in range(10):
    r = subprocess.run(deliver(final_now), capture_output=True, text=True)
    if r.stdout.startswith("reports=0 "):
        break
check("the last pass after the lease has nothing left", r.stdout.strip(),
      "reports=0 attempts=0 sent=0 failed=0 given-up=0")
st, cp = rows(), copies()
check("every row is sent at the end",
      sorted(set(st.values())), ["sent"])
missing = [key for key in all_rows if cp.get(key, 0) < 1]
ok(not missing, "every destination received every report it should", missing[:10])
stray = [key for key in cp if key not in all_rows]
ok(not stray, "nothing was received that is not a delivery row", stray[:10])
twice_after_sent = []
for k, (sst, scp) in enumerate(snaps):
    for key, state in sst.items():
        if state == "sent" and cp.get(key) != scp.get(key):
            twice_after_sent.append("%s: %d copies at kill %d, %d at the end"
                                    % (key, scp.get(key, 0), k + 1, cp.get(key, 0)))
ok(not twice_after_sent, "no row recorded as sent at a kill received another copy later",
   "\n".join(twice_after_sent[:10]))
dups = {key: n for key, n in cp.items() if n > 1}
ok(set(dups) <= set(limbo) and all(n == 2 for n in dups.values()),
   "duplicates only of accepted-but-not-recorded rows, one extra copy each (%d)" % len(dups),
   "dups %s\nlimbo %s" % (dups, limbo))
check("copies received == rows + accepted-but-not-recorded rows",
      sum(cp.values()), len(all_rows) + len(limbo))
finish()
