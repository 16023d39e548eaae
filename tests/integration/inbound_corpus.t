#!/usr/bin/python3
# inbound_corpus.t - `tlsrpt ingest` and `tlsrpt received` over the shared corpus.
#
# Every report e-mail (real/, stalwart/, sys4/email) through stdin and every report file
# (real/, stalwart/, sys4/reports) as a FILE argument, each into a fresh store: exit 0,
# one line on stderr, and `received summary --json` totals equal to the counts the
# report JSON holds (computed here independently with Python's email/json/gzip).
# Exact totals for known files.  Then everything into one store through stdin, then
# again through a Maildir and as files: stored once (report count and totals
# unchanged, sightings recorded), Maildir messages moved to cur/ with :2,S.  The
# negative sample and malformed files give their documented messages and exit status;
# an unavailable store gives EX_TEMPFAIL; an mbox is split into its messages.
import email
import glob
import gzip
import json
import os
import shutil
import subprocess

B = os.environ.get("B", "build")
SHARED = os.environ.get("SHARED", "../shared")
TMP = os.path.join(os.environ.get("TLSRPT_TEST_TMP") or "/tmp", "inbound_corpus.%d" % os.getpid())
os.makedirs(TMP, exist_ok=True)
TLSRPT = os.path.join(B, "tlsrpt") if B.startswith("/") else os.path.join(os.getcwd(), B, "tlsrpt")
C = os.path.join(SHARED, "corpus")
KEYS = os.path.join(TMP, "nokeys.zone")
open(KEYS, "w").close()

results = []


def ok(cond, name, diag=""):
    results.append((bool(cond), name, diag))


def run(*args, stdin=None):
    p = subprocess.run([TLSRPT] + list(args), input=stdin, capture_output=True)
    return p.returncode, p.stdout.decode(), p.stderr.decode()


def fresh(name):
    db = os.path.join(TMP, name + ".sqlite")
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(db + suffix):
            os.unlink(db + suffix)
    return db


def sums(doc):
    s = f = 0
    for p in doc.get("policies") or []:
        summ = p.get("summary") or {}
        s += summ.get("total-successful-session-count") or 0
        f += summ.get("total-failure-session-count") or 0
    return s, f


def decode_report(data):
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    return json.loads(data.decode("utf-8-sig"))


def mail_reports(raw):
    msg = email.message_from_bytes(raw)
    docs = []
    for part in msg.walk():
        if part.is_multipart():
            continue
        data = part.get_payload(decode=True) or b""
        if data[:2] == b"\x1f\x8b" or data.lstrip()[:1] == b"{":
            try:
                docs.append(decode_report(data))
            except (ValueError, OSError):
                pass
    return docs


def summary(db, *extra):
    rc, out, err = run("received", "summary", "--store", db, "--by", "policy", "--json",
                       "--include-unverified", *extra)
    if rc != 0:
        return None, err
    t = json.loads(out)["total"]
    return (t["successes"], t["failures"]), out


def rel(p):
    return os.path.relpath(p, C)


emails = sorted(glob.glob(C + "/real/*/*.eml") + glob.glob(C + "/stalwart/*.eml") +
                glob.glob(C + "/sys4/email/*.eml"))
NEG = os.path.join(C, "real/kravietz_tlsrpt-rs/empty.eml")
REJECT = {
    "real/YnkDK_tls_reporting/truncated.gz":
        "rejected: gzip: truncated stream (expected more input after 12 bytes)",
    "real/YnkDK_tls_reporting/date_error.json":
        "rejected: date-range.start-datetime: expected an RFC 3339 date-time, got \"April fools\"",
    "real/YnkDK_tls_reporting/no-policies.json":
        "rejected: policies: empty (a report has at least one policy)",
}
files = sorted(f for f in glob.glob(C + "/real/*/*") + glob.glob(C + "/real/*/*/*") +
               glob.glob(C + "/stalwart/*") + glob.glob(C + "/sys4/reports/*")
               if os.path.isfile(f) and not f.endswith((".eml", ".md")))

# ------------------------------------------------------------ each e-mail on stdin
for f in emails:
    if f == NEG:
        continue
    db = fresh("one")
    raw = open(f, "rb").read()
    want = [0, 0]
    for d in mail_reports(raw):
        s, fl = sums(d)
        want[0] += s
        want[1] += fl
    rc, out, err = run("ingest", "--store", db, "--accept-unsigned", "--dkim-keys", KEYS,
                       stdin=raw)
    lines = err.splitlines()
    ok(rc == 0 and len(lines) == 1 and lines[0].startswith("tlsrpt: ingest: <stdin>: 1 stored"),
       "stdin %s: exit 0, one line" % rel(f), "got rc=%d %r" % (rc, err))
    got, diag = summary(db)
    ok(got == tuple(want), "stdin %s: summary totals %s" % (rel(f), want),
       "got %s, want %s" % (got, want))

# ------------------------------------------------------------ each report file
for f in files:
    r = rel(f)
    db = fresh("one")
    rc, out, err = run("ingest", "--store", db, f)
    if r in REJECT:
        ok(rc == 65 and err == "tlsrpt: ingest: %s: %s\n" % (f, REJECT[r]),
           "file %s: rejected with the reader's message, exit 65" % r,
           "got rc=%d %r" % (rc, err))
        continue
    want = sums(decode_report(open(f, "rb").read()))
    ok(rc == 0 and err == "tlsrpt: ingest: %s: 1 stored, 0 duplicates\n" % f,
       "file %s: exit 0, stored" % r, "got rc=%d %r" % (rc, err))
    got, diag = summary(db)
    ok(got == want, "file %s: summary totals %s" % (r, list(want)),
       "got %s, want %s" % (got, want))

# ------------------------------------------------------------ exact known totals
known = [
    ("real/marcbradshaw_mail-tls-rpt/email.eml", (343, 0)),
    ("stalwart/rpt01.eml", None),
    ("real/kravietz_tlsrpt-rs/google1.eml", None),
    ("sys4/email/report-both.example.eml", None),
]
db = fresh("known")
rc, out, err = run("ingest", "--store", db, "--accept-unsigned", "--dkim-keys", KEYS,
                   stdin=open(os.path.join(C, known[0][0]), "rb").read())
got, _ = summary(db)
ok(got == (343, 0), "marcbradshaw email.eml: 343 successes, 0 failures", "got %s" % (got,))
rc, out, err = run("received", "summary", "--store", db, "--by", "reporter", "--include-unverified")
ok(out.splitlines()[1].split()[:4] == ["Google", "Inc.", "343", "0"],
   "summary table: Google Inc. 343 0", "got %r" % out)

# ------------------------------------------------------------ negative sample
db = fresh("neg")
raw = open(NEG, "rb").read()
rc, out, err = run("ingest", "--store", db, stdin=raw)
ok(rc == 0 and err == "tlsrpt: ingest: <stdin>: not a report: no TLS report found in message\n",
   "empty.eml: not a report, exit 0 (no bounce loop)", "got rc=%d %r" % (rc, err))
rc, out, err = run("ingest", "--store", db, "--reject-non-reports", stdin=raw)
ok(rc == 65 and err == "tlsrpt: ingest: <stdin>: not a report: no TLS report found in message\n",
   "empty.eml --reject-non-reports: exit 65 (EX_DATAERR)", "got rc=%d %r" % (rc, err))
rc, out, err = run("ingest", "--store", db, NEG)
ok(rc == 65, "empty.eml as FILE argument: exit 65", "got rc=%d %r" % (rc, err))
rc, out, err = run("received", "list", "--store", db, "--json", "--include-unverified")
ok(rc == 0 and json.loads(out) == [], "empty.eml: nothing stored", "got %r" % out)

# ------------------------------------------------------------ store unavailable
rc, out, err = run("ingest", "--store", os.path.join(TMP, "no/such/dir/db.sqlite"),
                   stdin=open(emails[0], "rb").read())
ok(rc == 75, "store unavailable: exit 75 (EX_TEMPFAIL)", "got rc=%d %r" % (rc, err))

# ------------------------------------------------------------ everything once, then again
db = fresh("all")
for f in emails:
    run("ingest", "--store", db, "--accept-unsigned", "--dkim-keys", KEYS,
        stdin=open(f, "rb").read())
for f in files:
    run("ingest", "--store", db, f)
rc, out, err = run("received", "list", "--store", db, "--json", "--include-unverified")
first = json.loads(out)
t1, _ = summary(db)
ids = set((r["submitter"], r["report_id"]) for r in first)
ok(len(ids) == len(first) and len(first) > 30, "all: %d distinct reports stored" % len(first),
   "got %d rows, %d keys" % (len(first), len(ids)))
md = os.path.join(TMP, "Maildir")
shutil.rmtree(md, ignore_errors=True)
for sub in ("new", "cur", "tmp"):
    os.makedirs(os.path.join(md, sub))
for i, f in enumerate(emails):
    shutil.copy(f, os.path.join(md, "new", "%d.msg%d" % (1700000000 + i, i)))
shutil.copy(emails[1], os.path.join(md, "cur", "1600000000.old:2,FR"))
rc, out, err = run("ingest", "--store", db, "--accept-unsigned", "--dkim-keys", KEYS,
                   "--maildir", md)
ok(rc == 0 and len(err.splitlines()) == len(emails) + 1, "maildir: exit 0, one line per message",
   "got rc=%d lines=%d" % (rc, len(err.splitlines())))
ok(os.listdir(os.path.join(md, "new")) == [], "maildir: new/ emptied")
cur = sorted(os.listdir(os.path.join(md, "cur")))
ok(len(cur) == len(emails) + 1 and all(":2," in n and "S" in n.split(":2,")[1] for n in cur),
   "maildir: all messages in cur/ with the S flag", "got %r" % cur[:3])
ok("1600000000.old:2,FRS" in cur, "maildir: existing flags kept in order (FRS)", "got %r" % cur[-3:])
rc, out, err = run("ingest", "--store", db, "--maildir", md)
ok(rc == 0 and err == "", "maildir: second run skips seen messages", "got rc=%d %r" % (rc, err))
for f in files:
    run("ingest", "--store", db, f)
rc, out, err = run("received", "list", "--store", db, "--json", "--include-unverified")
second = json.loads(out)
t2, _ = summary(db)
ok(len(second) == len(first), "again: report count unchanged (%d)" % len(first),
   "got %d, want %d" % (len(second), len(first)))
ok(t1 == t2, "again: totals unchanged %s" % (t1,), "got %s, want %s" % (t2, t1))
ok(all(b["sightings"] > a["sightings"] for a, b in zip(first, second)
       if a["channels"] != "file") and any("mail" in r["channels"] for r in second),
   "again: duplicates recorded as sightings")
both = [r for r in second if r["channels"] == "file,mail"]
ok(len(both) >= 3, "same report by mail and as a file is one report (%d such)" % len(both))

# ------------------------------------------------------------ table and CSV output
for by in ("day", "reporter", "mx", "result-type", "sending-ip", "policy"):
    rc, out, err = run("received", "summary", "--store", db, "--by", by, "--include-unverified")
    total = [l for l in out.splitlines() if l.startswith("TOTAL ")]
    want = "{:,}".format(t2[0]), "{:,}".format(t2[1])
    ok(rc == 0 and total and total[0].split()[1:3] == list(want),
       "summary --by %s: TOTAL row %s %s with thousands separators" % (by, want[0], want[1]),
       "got rc=%d %r" % (rc, out[-400:]))
    rc, out, err = run("received", "summary", "--store", db, "--by", by, "--csv", "--include-unverified")
    rows = out.splitlines()
    ok(rc == 0 and rows[0] == by + ",successes,failures,failure_rate,top_reasons" and len(rows) > 2,
       "summary --by %s --csv: header and rows" % by, "got %r" % out[:300])
rc, out, err = run("received", "list", "--store", db, "--csv", "--include-unverified")
ok(rc == 0 and len(out.splitlines()) == len(second) + 1, "list --csv: one line per report")
rc, out, err = run("received", "list", "--store", db, "--json", "--include-unverified",
                   "--domain", "company-y.example")
ok(rc == 0 and len(json.loads(out)) >= 1 and
   all("company" in r["submitter"] or r["reporter"] for r in json.loads(out)),
   "list --domain filters by policy-domain", "got %r" % out[:300])
rc, out, err = run("received", "list", "--store", db, "--json", "--include-unverified",
                   "--since", "2030-01-01")
ok(rc == 0 and json.loads(out) == [], "list --since in the future: empty", "got %r" % out[:200])
rc, out, err = run("received", "summary", "--store", db, "--by", "week")
ok(rc == 2 and "expected day, reporter, mx, result-type, sending-ip or policy" in err,
   "summary --by week: usage error", "got rc=%d %r" % (rc, err))

# ------------------------------------------------------------ show
db = fresh("show")
f = os.path.join(C, "real/cry-inc_dmarc-report-viewer/microsoft.json")
run("ingest", "--store", db, f)
rc, out, err = run("received", "show", "--store", db, "1")
raw = open(f, "rb").read().decode()
ok(rc == 0 and "quirks:       policy-string-json-array\n" in out and
   "dkim:         none\n" in out and out.endswith(raw if raw.endswith("\n") else raw + "\n"),
   "show: quirks, DKIM verdict and the report as received (byte-exact)", "got %r" % out[:600])
rc, out, err = run("received", "show", "--store", db, "--json", "1")
doc = json.loads(out) if rc == 0 else {}
ok(doc.get("quirks") == "policy-string-json-array" and doc.get("report") == json.loads(raw),
   "show --json: quirks and report", "got %r" % out[:300])
rc, out, err = run("received", "show", "--store", db, "7")
ok(rc == 1 and err == "tlsrpt: received show: no received report with id 7\n",
   "show of a missing id: exit 1 with a message", "got rc=%d %r" % (rc, err))

# ------------------------------------------------------------ mbox
mbox = os.path.join(TMP, "reports.mbox")
with open(mbox, "wb") as out:
    for f in emails[:3]:
        out.write(b"From MAILER-DAEMON Thu Jan  1 00:00:00 2026\n")
        for line in open(f, "rb").read().replace(b"\r\n", b"\n").split(b"\n"):
            out.write((b">" + line if line.lstrip(b">").startswith(b"From ") else line) + b"\n")
        out.write(b"\n")
db = fresh("mbox")
rc, out, err = run("ingest", "--store", db, "--accept-unsigned", "--dkim-keys", KEYS,
                   "--mbox", mbox)
rc2, out2, _ = run("received", "list", "--store", db, "--json", "--include-unverified")
ok(rc == 0 and len(json.loads(out2)) == 3, "mbox: 3 messages, 3 reports",
   "got rc=%d %r %s" % (rc, err, out2[:200]))

print("1..%d" % len(results))
for i, (good, name, diag) in enumerate(results, 1):
    print("%s %d - %s" % ("ok" if good else "not ok", i, name))
    if not good and diag:
        print("# " + diag.replace("\n", "\n# ")[:2000])
