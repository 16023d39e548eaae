#!/usr/bin/python3
# fetch_imap.t - `tlsrpt fetch --imap` against a real, throw-away Dovecot (tests/lib/
# dovecot.py: 127.0.0.1 only, Maildir under the test's scratch folder).
#
# imaps:// with --ca-file, --move-to and --reject-folder: three corpus report mails are
# stored and moved (seen) to Processed, the non-report to Rejected, a message that was
# already seen is not touched; a second run finds nothing.  imap:// --starttls
# --insecure without folders: reports and non-reports stay in INBOX marked seen, a copy
# of a stored report is a duplicate.  The store locked by another writer: exit 75, the
# message stays unseen in INBOX and is stored by the next run.  --max-size: a larger
# message is skipped and rejected without being fetched.  A wrong password (from
# TLSRPT_IMAP_PASSWORD): exit 75 "login denied", the password never printed.  No
# password: exit 2.
import json
import os
import shutil
import sqlite3
import sys

sys.path.insert(0, "tests/lib")
from tap import check, finish, ok, run

B = os.environ.get("B", "build")
SHARED = os.environ.get("SHARED", "../shared")
TMP = os.path.join(os.environ.get("TLSRPT_TEST_TMP") or "/tmp", "fetch_imap.%d" % os.getpid())
shutil.rmtree(TMP, ignore_errors=True)
os.makedirs(TMP)

from dovecot import Dovecot, available  # noqa: E402

if not available():
    if os.environ.get("CI") == "true":
        # CI installs it (scripts/install-deps): a missing server is a failure there
        print("1..1\nnot ok 1 - dovecot (Debian's dovecot-imapd) is not installed")
        sys.exit(1)
    print("1..0 # SKIP dovecot (Debian's dovecot-imapd) is not installed")
    sys.exit(0)

C = os.path.join(SHARED, "corpus")
STS = open(os.path.join(C, "sys4/email/report-sts.example.eml"), "rb").read()
DANE = open(os.path.join(C, "sys4/email/report-dane.example.eml"), "rb").read()
MS = open(os.path.join(C, "real/mjl-_mox/microsoft.eml"), "rb").read()
BOTH = open(os.path.join(C, "sys4/email/report-both.example.eml"), "rb").read()
ESC = open(os.path.join(C, "sys4/email/report-escape.example.eml"), "rb").read()
CRON = b"From: root@host.example\r\nSubject: cron output\r\n\r\nall fine\r\n"
S_STS = "Report Domain: sts.example Submitter: sender.example Report-ID:"
S_DANE = "Report Domain: dane.example Submitter: sender.example Report-ID:"
S_MS = "Report Domain: test.xmox.nl Submitter: microsoft.com Report-ID:"
S_BOTH = "Report Domain: both.example Submitter: sender.example Report-ID:"
S_ESC = "Report Domain: escape.example Submitter: sender.example Report-ID:"

d = Dovecot(os.path.join(TMP, "dovecot"), folders=("Processed", "Rejected"))
DB = os.path.join(TMP, "db.sqlite")
PW = os.path.join(TMP, "password")
with open(PW, "w") as f:
    f.write("secret\n")
IMAPS = "imaps://rpt@127.0.0.1:%d/INBOX" % d.ssl_port
IMAP = "imap://rpt@127.0.0.1:%d/INBOX" % d.port


def fetch(*args, env=None):
    e = dict(os.environ)
    e.pop("TLSRPT_IMAP_PASSWORD", None)
    e.update(env or {})
    return run(os.path.join(B, "tlsrpt"), "fetch", "--store", DB, "--dkim-keys", "/dev/null",
               "--accept-unsigned", *args, env=e, timeout=120)


def reports():
    r = run(os.path.join(B, "tlsrpt"), "received", "list", "--store", DB, "--json",
            "--include-unverified")
    return len(json.loads(r.stdout)) if r.returncode == 0 else r.stderr


try:
    # ---- imaps, move to folders
    for i, raw in enumerate((STS, DANE, CRON, MS)):
        d.deliver("INBOX", raw, "m%d" % i)
    d.deliver("INBOX", ESC, "seen")
    os.rename(os.path.join(d.maildir, "new", "seen"), os.path.join(d.maildir, "cur", "seen:2,S"))
    r = fetch("--imap", IMAPS, "--password-file", PW, "--ca-file", d.cert, "--move-to",
              "Processed", "--reject-folder", "Rejected")
    check("imaps: exit 0", r.returncode, 0)
    ok(r.stderr.endswith("tlsrpt: fetch: 4 unseen messages: 3 reports stored, 0 duplicates, "
                         "1 not report, 0 left for later\n"), "imaps: summary line", r.stderr)
    ok("not a report: no TLS report found in message\n" in r.stderr,
       "imaps: the non-report is named with its reason", r.stderr)
    check("imaps: 3 reports stored", reports(), 3)
    check("imaps: reports moved to Processed, seen", d.messages("Processed"),
          sorted([(S_STS, "S"), (S_DANE, "S"), (S_MS, "S")]))
    check("imaps: non-report moved to Rejected, seen", d.messages("Rejected"),
          [("cron output", "S")])
    check("imaps: the already seen message stays in INBOX", d.messages("INBOX"), [(S_ESC, "S")])
    r = fetch("--imap", IMAPS, "--password-file", PW, "--ca-file", d.cert, "--move-to",
              "Processed")
    check("second run: nothing to fetch", (r.returncode, r.stderr),
          (0, "tlsrpt: fetch: 0 unseen messages: 0 reports stored, 0 duplicates, "
              "0 not reports, 0 left for later\n"))
    check("second run: still 3 reports", reports(), 3)

    # ---- imap + STARTTLS, no folders: everything stays, seen
    d.deliver("INBOX", STS, "again")
    d.deliver("INBOX", BOTH, "both")
    d.deliver("INBOX", CRON, "cron2")
    r = fetch("--imap", IMAP, "--starttls", "--insecure", "--password-file", PW)
    check("starttls: exit 0 and summary", (r.returncode, r.stderr.splitlines()[-1:]),
          (0, ["tlsrpt: fetch: 3 unseen messages: 1 report stored, 1 duplicate, "
               "1 not report, 0 left for later"]))
    check("starttls: 4 reports", reports(), 4)
    check("starttls: all stay in INBOX, seen", d.messages("INBOX"),
          sorted([(S_ESC, "S"), (S_STS, "S"), (S_BOTH, "S"), ("cron output", "S")]))
    r = fetch("--imap", IMAP, "--starttls", "--password-file", PW)
    ok(r.returncode == 75 and "certificate" in r.stderr,
       "starttls without --insecure or --ca-file: the self-signed certificate is refused",
       "%d %s" % (r.returncode, r.stderr))

    # ---- store locked by another writer: left unseen, exit 75; the next run stores it
    d.deliver("INBOX", DANE.replace(b"Subject:", b"X-Copy: 2\r\nSubject:", 1), "locked")
    con = sqlite3.connect(DB, timeout=30)
    con.execute("BEGIN IMMEDIATE")
    r = fetch("--imap", IMAPS, "--password-file", PW, "--ca-file", d.cert)
    con.rollback()
    con.close()
    ok(r.returncode == 75 and "(left unseen, try again later)" in r.stderr and
       r.stderr.endswith("1 left for later\n"), "store locked: exit 75, left for later",
       "%d %s" % (r.returncode, r.stderr))
    ok((S_DANE, "") in d.messages("INBOX"), "store locked: the message is unseen again",
       d.messages("INBOX"))
    r = fetch("--imap", IMAPS, "--password-file", PW, "--ca-file", d.cert)
    ok(r.returncode == 0 and ": 0 stored, 1 duplicate (dkim none)" in r.stderr,
       "next run: fetched (a duplicate of the DANE report)", r.stderr)
    ok((S_DANE, "S") in d.messages("INBOX"), "next run: now seen", d.messages("INBOX"))

    # ---- --max-size: skipped without fetching, rejected
    d.deliver("INBOX", BOTH, "big")
    r = fetch("--imap", IMAPS, "--password-file", PW, "--ca-file", d.cert, "--max-size",
              "1024", "--reject-folder", "Rejected", "--reject-non-reports")
    ok(r.returncode == 65 and
       (": skipped: message of %d bytes is over --max-size 1024" % len(BOTH)) in r.stderr,
       "--max-size: skipped, exit 65 with --reject-non-reports", "%d %s" % (r.returncode, r.stderr))
    check("--max-size: moved to Rejected", d.messages("Rejected"),
          sorted([("cron output", "S"), (S_BOTH, "S")]))

    # ---- passwords
    d.deliver("INBOX", STS, "pw")
    r = fetch("--imap", IMAPS, "--ca-file", d.cert, env={"TLSRPT_IMAP_PASSWORD": "wrong-pw"})
    ok(r.returncode == 75 and "login denied" in r.stderr and "wrong-pw" not in r.stderr,
       "wrong password: exit 75, login denied, password not shown",
       "%d %s" % (r.returncode, r.stderr))
    r = fetch("--imap", IMAPS, "--ca-file", d.cert, env={"TLSRPT_IMAP_PASSWORD": "secret"})
    ok(r.returncode == 0 and ": 0 stored, 1 duplicate" in r.stderr,
       "TLSRPT_IMAP_PASSWORD: logs in", r.stderr)
    r = fetch("--imap", IMAPS)
    check("no password: usage error", (r.returncode, r.stderr),
          (2, "tlsrpt: fetch: no password: give --password-file FILE or set "
              "TLSRPT_IMAP_PASSWORD\n"))
    r = fetch("--imap", "https://x/", "--password-file", PW)
    check("not an IMAP URL: usage error", (r.returncode, r.stderr),
          (2, "tlsrpt: fetch: https://x/: expected an imaps:// or imap:// URL\n"))
finally:
    d.stop()
finish()
