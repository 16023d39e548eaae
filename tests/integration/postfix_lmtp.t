#!/usr/bin/python3
# postfix_lmtp.t - a real Postfix delivers received report mail to the daemon's LMTP
# listener (issue 8, "Done when": "... or to the LMTP listener").
#
# tlsrptd runs with `lmtp.listen = "unix:<tmp>/lmtp.sock"` (mode 0666 so Postfix's lmtp(8),
# user postfix, can connect) and a forward Maildir.  A private Postfix instance
# (tests/lib/postfix.py) routes tlsrpt@sts.example and other@sts.example with
# transport_maps to `lmtp:unix:<tmp>/lmtp.sock`; other addresses go to its own Maildir.
# Corpus reports are sent with smtplib over loopback.  Checks: Postfix logs status=sent
# with our per-recipient 250 reply, `tlsrpt received list` shows the report, the forward
# Maildir holds it (a Return-Path line first), a second copy is a duplicate (stored
# once), a message to a report address and a person is split by Postfix (one copy each),
# a recipient outside report.analysis.addresses is refused with our 550 5.1.1 (Postfix
# logs status=bounced), and the queue ends empty.
# Without postfix: skipped, or failed when CI=true.
import json
import os
import re
import signal
import smtplib
import subprocess
import sys
import time

sys.path.insert(0, "tests/lib")
import postfix  # noqa: E402
from tap import check, finish, ok  # noqa: E402

postfix.require()

B = os.environ.get("B", "build")
SHARED = os.environ.get("SHARED", "../shared")
TMP = os.environ.get("TLSRPT_TEST_TMP") or "/tmp"
T = os.path.join(TMP, "postfix_lmtp.%d" % os.getpid())
os.makedirs(T, exist_ok=True)
CORPUS = os.path.join(SHARED, "corpus")
SYS4 = os.path.join(CORPUS, "sys4/email/report-sts.example.eml")
GOOGLE = os.path.join(CORPUS, "real/kravietz_tlsrpt-rs/google1.eml")
SOCK = os.path.join(T, "lmtp.sock")
MD = os.path.join(T, "Maildir")
DB = os.path.join(T, "tlsrptd.sqlite")

# ------------------------------------------------------------------ the daemon
CONF = os.path.join(T, "tlsrptd.toml")
with open(CONF, "w") as f:
    f.write('[collector]\nsocket = "%s/collector.sock"\n'
            '[store]\npath = "%s"\n'
            '[web]\nlisten = ""\n'
            '[log]\ndestination = "stderr"\n'
            '[report.analysis]\naddresses = ["postmaster@*", "tlsrpt@sts.example"]\n'
            '[lmtp]\nlisten = "unix:%s"\nsocket-mode = "0666"\nforward-maildir = "%s"\n'
            % (T, DB, SOCK, MD))
postfix.make_traversable(T)
LOG = os.path.join(T, "tlsrptd.log")
err = open(LOG, "w")
d = subprocess.Popen([B + "/tlsrptd", "--foreground", "--config", CONF],
                     stdout=subprocess.DEVNULL, stderr=err)
for _ in range(400):
    if " ready" in open(LOG).read() or d.poll() is not None:
        break
    time.sleep(0.025)
ok(" ready" in open(LOG).read() and os.path.exists(SOCK), "tlsrptd listens for LMTP",
   open(LOG).read())

pf = postfix.Postfix(os.path.join(T, "pf"), domains=["sts.example", "example.net"],
                     transports={"tlsrpt@sts.example": "lmtp:unix:" + SOCK,
                                 "other@sts.example": "lmtp:unix:" + SOCK})


def send(raw, rcpts, sender="reports@sender.example"):
    with smtplib.SMTP("127.0.0.1", pf.port, timeout=20) as s:
        return s.sendmail(sender, rcpts, raw)


def listing():
    p = subprocess.run([B + "/tlsrpt", "received", "list", "--store", DB, "--json",
                        "--include-unverified"], capture_output=True, text=True)
    return json.loads(p.stdout) if p.returncode == 0 else None


def forwarded():
    new = os.path.join(MD, "new")
    return sorted(os.listdir(new)) if os.path.isdir(new) else []


def wait(cond, timeout=20):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if cond():
            return True
        time.sleep(0.1)
    return cond()


sys4 = open(SYS4, "rb").read()
google = open(GOOGLE, "rb").read()
try:
    with pf:
        # one report to the report address
        refused = send(sys4, ["tlsrpt@sts.example"])
        check("Postfix accepts the report for tlsrpt@sts.example", refused, {})
        ok(pf.wait_log("to=<tlsrpt@sts.example>") and
           wait(lambda: "status=sent" in pf.log()),
           "Postfix lmtp: status=sent", pf.log()[-2000:])
        ok(re.search(r"to=<tlsrpt@sts\.example>, relay=[^ ]*lmtp\.sock.*status=sent "
                     r"\(250 2\.0\.0 Ok: 1 stored, 0 duplicates; delivered to the mailbox\)",
                     pf.log()) is not None,
           "Postfix logs our per-recipient reply: 1 stored", pf.log()[-2000:])
        rows = listing()
        ok(rows is not None and len(rows) == 1, "received list shows the report",
           repr(rows))
        ok(wait(lambda: len(forwarded()) == 1), "forward Maildir holds the message",
           repr(forwarded()))
        first = open(os.path.join(MD, "new", forwarded()[0]), "rb").read() \
            if forwarded() else b""
        ok(first.startswith(b"Return-Path: <reports@sender.example>\r\n") and
           b"TLS-Report-Domain" in first,
           "forwarded copy starts with Return-Path, holds the report", repr(first[:200]))

        # the same report again: a duplicate
        send(sys4, ["tlsrpt@sts.example"])
        ok(wait(lambda: "250 2.0.0 Ok: 0 stored, 1 duplicate; delivered to the mailbox"
                in pf.log()), "second copy: 0 stored, 1 duplicate", pf.log()[-2000:])
        check("received list: still one report", len(listing() or []), 1)

        # a report for the report address and a person: Postfix splits the delivery
        send(google, ["tlsrpt@sts.example", "alice@example.net"])
        ok(wait(lambda: len(listing() or []) == 2), "Google's report stored (unverified)",
           repr(listing()))
        ok(len(pf.wait_messages(1)) == 1, "alice's copy went to Postfix's own Maildir",
           repr(len(pf.messages())))

        # a recipient routed to us but outside report.analysis.addresses
        send(sys4, ["other@sts.example"])
        ok(wait(lambda: re.search(r"to=<other@sts\.example>.*status=bounced.*550 5\.1\.1 "
                                  r"<other@sts\.example>: Recipient address rejected",
                                  pf.log()) is not None),
           "other@sts.example: our 550 5.1.1, Postfix bounces", pf.log()[-2000:])
        ok(pf.wait_queue_empty(), "Postfix queue empty", pf.log()[-2000:])
        check("forward Maildir: three report messages", len(forwarded()), 3)
finally:
    d.send_signal(signal.SIGTERM)
    try:
        rc = d.wait(timeout=10)
    except subprocess.TimeoutExpired:
        d.kill()
        rc = -1
check("tlsrptd stops with exit 0", rc, 0)
finish()
