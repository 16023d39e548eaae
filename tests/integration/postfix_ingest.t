#!/usr/bin/python3
# postfix_ingest.t - a real Postfix hands received report mail to `tlsrpt ingest`
# through a pipe transport (issue 8, "Done when").
#
# A private Postfix instance (tests/lib/postfix.py) routes tlsrpt@sts.example to a
# pipe(8) service running `tlsrpt ingest --config ... --accept-unsigned --dkim-keys
# <empty>` as user nobody (the store directory is nobody's).  Corpus e-mails are sent
# with smtplib over loopback: sys4's report (unsigned: verified through
# --accept-unsigned) and Google's (DKIM-signed; no key offline, so stored unverified).
# Checks: Postfix logs status=sent with ingest's line, `tlsrpt received list` shows the
# reports with the counts their JSON holds (the signed one only with
# --include-unverified), a duplicate is stored once, a non-report through the same
# path is delivered (exit 0) and bounces nothing, while the same message to a pipe with
# --reject-non-reports bounces (so the no-bounce check can see bounces), and an
# unavailable store (EX_TEMPFAIL) leaves the message deferred in the queue.
# Without postfix: skipped, or failed when CI=true.
import email
import gzip
import json
import os
import re
import smtplib
import sys
import time

sys.path.insert(0, "tests/lib")
import postfix  # noqa: E402
from tap import check, finish, ok, okn, run  # noqa: E402

postfix.require()

B = os.environ.get("B", "build")
SHARED = os.environ.get("SHARED", "../shared")
TMP = os.environ.get("TLSRPT_TEST_TMP") or "/tmp"
T = os.path.join(TMP, "postfix_ingest.%d" % os.getpid())
os.makedirs(T, exist_ok=True)
TLSRPT = os.path.abspath(os.path.join(B, "tlsrpt"))
CORPUS = os.path.join(SHARED, "corpus")
SYS4 = os.path.join(CORPUS, "sys4/email/report-sts.example.eml")
GOOGLE = os.path.join(CORPUS, "real/kravietz_tlsrpt-rs/google1.eml")

# ------------------------------------------------------------------ store and config
STORE_DIR = os.path.join(T, "store")
os.makedirs(STORE_DIR, exist_ok=True)
postfix.chown_for_pipe(STORE_DIR)
KEYS = os.path.join(T, "nokeys.zone")  # DKIM keys offline: none
open(KEYS, "w").close()
with open("etc/tlsrptd.toml") as f:
    c = f.read()
c = re.sub(r'(?m)^socket = .*', 'socket = "%s/collector.sock"' % T, c)
c = re.sub(r'(?m)^path = .*', 'path = "%s/tlsrptd.sqlite"' % STORE_DIR, c)
c = re.sub(r'(?m)^listen = .*', 'listen = "127.0.0.1:0"', c)
CONF = os.path.join(T, "tlsrptd.toml")
with open(CONF, "w") as f:
    f.write(c)
os.chmod(CONF, 0o644)
os.chmod(KEYS, 0o644)

# the pipe runs as nobody, who may not reach the build folder: a copy in the scratch dir
PIPE_TLSRPT = postfix.copy_for_pipe(TLSRPT, os.path.join(T, "bin"))
ingest = [PIPE_TLSRPT, "ingest", "--config", CONF, "--accept-unsigned", "--dkim-keys", KEYS]
services = (postfix.pipe_service("tlsrpt", ingest, flags="R") +
            postfix.pipe_service("tlsrpt-strict", ingest + ["--reject-non-reports"],
                                 flags="R") +
            postfix.pipe_service("tlsrpt-down", [PIPE_TLSRPT, "ingest", "--store",
                                                 os.path.join(T, "no/such/dir/db.sqlite")],
                                 flags="R"))
pf = postfix.Postfix(os.path.join(T, "pf"), domains=["sts.example", "example.net"],
                     transports={"tlsrpt@sts.example": "tlsrpt:",
                                 "strict@example.net": "tlsrpt-strict:",
                                 "tempfail@example.net": "tlsrpt-down:"},
                     services=services)


def json_counts(raw):
    """(successes, failures) summed over the report parts, computed with Python."""
    s = f = 0
    for part in email.message_from_bytes(raw).walk():
        data = b"" if part.is_multipart() else (part.get_payload(decode=True) or b"")
        if data[:2] == b"\x1f\x8b":
            data = gzip.decompress(data)
        elif data.lstrip()[:1] != b"{":
            continue
        doc = json.loads(data.decode("utf-8-sig"))
        for p in doc.get("policies") or []:
            summ = p.get("summary") or {}
            s += summ.get("total-successful-session-count") or 0
            f += summ.get("total-failure-session-count") or 0
    return s, f


def send(sender, rcpt, raw):
    with smtplib.SMTP("127.0.0.1", pf.port, timeout=20) as s:
        return s.sendmail(sender, [rcpt], raw)


def listing(*extra):
    r = run(TLSRPT, "received", "list", "--config", CONF, "--json", *extra)
    try:
        return sorted((x["submitter"], x["successes"], x["failures"], x["verified"],
                       x["sightings"]) for x in json.loads(r.stdout or "[]"))
    except ValueError:
        return "rc=%d %r %r" % (r.returncode, r.stdout, r.stderr)


def queue_id_of(rcpt, after=0):
    """The queue id of the last message for rcpt whose log line starts after offset."""
    ids = re.findall(r"postfix/\w+\[\d+\]: ([0-9A-F]+): to=<%s>" % re.escape(rcpt),
                     pf.log()[after:])
    return ids[-1] if ids else None


sys4 = open(SYS4, "rb").read()
google = open(GOOGLE, "rb").read()
try:
    pf.start()
    ok(True, "private postfix accepts SMTP on 127.0.0.1:%d" % pf.port)

    # ---------------------------------------------------------- two corpus reports
    check("smtp accepts sys4's report", send("noreply-tlsrpt@sender.example",
                                             "tlsrpt@sts.example", sys4), {})
    okn("pipe: ingest stored sys4's report (status=sent)",
        pf.wait_log("status=sent (delivered via tlsrpt service (tlsrpt: ingest: <stdin>: "
                    "1 stored, 0 duplicates (dkim none)"), pf.log())
    check("smtp accepts google's report", send("noreply-smtp-tls-reporting@google.com",
                                               "tlsrpt@sts.example", google), {})
    okn("pipe: ingest stored google's report (dkim permerror offline)",
        pf.wait_log("1 stored, 0 duplicates (dkim permerror)"), pf.log())
    okn("queue empty after both", pf.wait_queue_empty(), pf.log())
    s4, g = json_counts(sys4), json_counts(google)
    check("corpus counts computed with Python", (s4, g), ((3, 2), (1, 0)))
    check("received list: the verified report", listing(),
          [("sender.example", s4[0], s4[1], True, 1)])
    check("received list --include-unverified: both, with their counts",
          listing("--include-unverified"),
          [("google.com", g[0], g[1], False, 1), ("sender.example", s4[0], s4[1], True, 1)])
    st = os.stat(os.path.join(STORE_DIR, "tlsrptd.sqlite"))
    check("the store was written by the pipe user (nobody)", st.st_uid,
          __import__("pwd").getpwnam("nobody").pw_uid)

    # ---------------------------------------------------------- the same report again
    send("noreply-tlsrpt@sender.example", "tlsrpt@sts.example", sys4)
    okn("pipe: the second copy is a duplicate",
        pf.wait_log("0 stored, 1 duplicate (dkim none)"), pf.log())
    okn("queue empty after the duplicate", pf.wait_queue_empty(), pf.log())
    check("received list: stored once, two sightings", listing(),
          [("sender.example", s4[0], s4[1], True, 2)])

    # ---------------------------------------------------------- a non-report: no bounce
    plain = (b"From: someone@example.net\r\nTo: tlsrpt@sts.example\r\n"
             b"Subject: hello\r\nMessage-ID: <plain.1@example.net>\r\n\r\n"
             b"not a report\r\n")
    mark = len(pf.log())
    send("someone@example.net", "tlsrpt@sts.example", plain)
    okn("non-report: ingest exits 0, postfix says delivered",
        pf.wait_log("not a report: no TLS report found in message"), pf.log()[mark:])
    okn("queue empty after the non-report", pf.wait_queue_empty(), pf.log())
    qid = queue_id_of("tlsrpt@sts.example", mark)
    tail = pf.log()[mark:]
    okn("non-report: status=sent, nothing bounced",
        qid and re.search(r"%s: to=<tlsrpt@sts.example>.*status=sent" % qid, tail) and
        "bounced" not in tail and "non-delivery notification" not in tail, tail)
    time.sleep(0.5)
    check("no bounce in the sender's mailbox", len(pf.messages()), 0)
    check("received list unchanged", listing("--include-unverified"),
          [("google.com", g[0], g[1], False, 1), ("sender.example", s4[0], s4[1], True, 2)])

    # ---------------------------------------------------------- --reject-non-reports bounces
    mark = len(pf.log())
    send("someone@example.net", "strict@example.net", plain)
    okn("--reject-non-reports: exit 65 makes postfix bounce",
        pf.wait_log("status=bounced") and re.search(
            r"to=<strict@example.net>.*status=bounced", pf.log()[mark:]), pf.log()[mark:])
    bounces = pf.wait_messages(1)
    okn("the bounce reaches the sender's mailbox", len(bounces) == 1 and
        b"Undelivered Mail Returned to Sender" in bounces[0], bounces)

    # ---------------------------------------------------------- store down: deferred
    mark = len(pf.log())
    send("noreply-tlsrpt@sender.example", "tempfail@example.net", sys4)
    okn("store unavailable: EX_TEMPFAIL, postfix defers (dsn=4.3.0)",
        pf.wait_log("status=deferred") and re.search(
            r"to=<tempfail@example.net>.*dsn=4\.3\.0, status=deferred \(temporary failure",
            pf.log()[mark:]), pf.log()[mark:])
    okn("the deferred message stays queued", len(pf.queue_ids()) == 1, pf.queue_ids())
except Exception as ex:  # a crash is a failed test point, and postfix still stops
    ok(False, "no exception", "%r\n%s" % (ex, pf.log()))
finally:
    pf.stop()
ok(not pf.master_running(), "postfix stopped")
finish()
