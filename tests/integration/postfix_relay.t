#!/usr/bin/python3
# postfix_relay.t - our report mail through a real Postfix (issue 7, "Done when").
#
# A private Postfix instance (tests/lib/postfix.py: smtpd on a free loopback port,
# virtual Maildir delivery for a.example and b.example, nothing leaves the machine) is
# the relay of `tlsrpt deliver` (delivery.mode relay, delivery.relay =
# smtp://127.0.0.1:<port>).  Results are recorded through the real daemon, the reports
# generated with `tlsrpt generate --immediate`, the `_smtp._tls` records served from a
# zone file, report mail signed with an rsa and an ed25519 key from `tlsrpt dkim keygen`.
# Checks: both outbox rows sent, Postfix logged status=sent, the delivered messages carry
# the right headers (TLS-Report-Domain, Subject with the report-id, the attachment equal
# to the outbox body), and both DKIM signatures still verify with dkimpy after Postfix
# (Received, Return-Path, Delivered-To added; cleanup's header rewriting for local
# clients applied).
# Without postfix: skipped, or failed when CI=true.
import email
import email.policy
import os
import re
import sqlite3
import subprocess
import sys
import time

import dkim

sys.path.insert(0, "tests/lib")
import postfix  # noqa: E402
from tap import check, finish, ok, okn, run  # noqa: E402

postfix.require()

B = os.environ.get("B", "build")
TMP = os.environ.get("TLSRPT_TEST_TMP") or "/tmp"
T = os.path.join(TMP, "postfix_relay.%d" % os.getpid())
os.makedirs(T, exist_ok=True)
TLSRPT = os.path.join(B, "tlsrpt")
DOMAINS = ["a.example", "b.example"]


def keygen(alg, sel, path):
    """`tlsrpt dkim keygen`; returns the TXT record it prints (strings joined)."""
    r = run(TLSRPT, "dkim", "keygen", "--algorithm", alg, "--domain", "example.org",
            "--selector", sel, "--out", path, "--id", sel)
    line = [x for x in r.stdout.splitlines() if " IN TXT " in x]
    ok(r.returncode == 0 and line, "dkim keygen %s" % alg, r.stdout + r.stderr)
    return "".join(re.findall(r'"([^"]*)"', line[0])).encode() if line else b""


rsa_key = os.path.join(T, "rsa.pem")
ed_key = os.path.join(T, "ed.pem")
dkim_txt = {
    b"rsa._domainkey.example.org.": keygen("rsa", "rsa", rsa_key),
    b"ed._domainkey.example.org.": keygen("ed25519", "ed", ed_key),
}


def dnsfunc(name, timeout=5):
    return dkim_txt.get(name if isinstance(name, bytes) else name.encode(), b"")


pf = postfix.Postfix(os.path.join(T, "pf"), domains=DOMAINS)

with open("etc/tlsrptd.toml") as f:
    base_conf = f.read()


def make_conf(signed):
    c = base_conf
    c = re.sub(r'(?m)^socket = .*', 'socket = "%s/collector.sock"' % T, c)
    c = re.sub(r'(?m)^path = .*', 'path = "%s/tlsrptd.sqlite"' % T, c)
    c = re.sub(r'(?m)^listen = .*', 'listen = "127.0.0.1:0"', c)
    c = re.sub(r'(?m)^relay = .*', 'relay = "smtp://127.0.0.1:%d"\ntimeout = "20s"\n'
               'connect-timeout = "5s"' % pf.port, c)
    if signed:
        c = re.sub(r'(?m)^sign = .*', 'sign = "[\'rsa\', \'ed\']"', c)
        c += ('\n[server]\nhostname = "mx.example.org"\n'
              '[signature.rsa]\nprivate-key = "%%{file:%s}%%"\ndomain = "example.org"\n'
              'selector = "rsa"\nalgorithm = "rsa-sha256"\n'
              '[signature.ed]\nprivate-key = "%%{file:%s}%%"\ndomain = "example.org"\n'
              'selector = "ed"\nalgorithm = "ed25519-sha256"\n') % (rsa_key, ed_key)
    return c


daemon_conf = os.path.join(T, "daemon.toml")
conf = os.path.join(T, "tlsrptd.toml")
with open(daemon_conf, "w") as f:
    f.write(make_conf(False))
with open(conf, "w") as f:
    f.write(make_conf(True))
ZONE = os.path.join(T, "zone")
with open(ZONE, "w") as f:
    for d in DOMAINS:
        f.write('_smtp._tls.%s. 300 IN TXT "v=TLSRPTv1; rua=mailto:tls@%s"\n' % (d, d))

daemon = None
try:
    pf.start()
    ok(True, "private postfix accepts SMTP on 127.0.0.1:%d" % pf.port)

    # ---------------------------------------------------------- results -> outbox
    derr = os.path.join(T, "d.err")
    with open(derr, "w") as ef:
        daemon = subprocess.Popen([os.path.join(B, "tlsrptd"), "--foreground", "--config",
                                   daemon_conf], stderr=ef)
    for _ in range(400):
        with open(derr) as f:
            if " ready" in f.read():
                break
        time.sleep(0.025)
    two_days_ago = int(time.time()) - 2 * 86400
    for d in DOMAINS:
        r = run(TLSRPT, "record", "--socket", T + "/collector.sock", "--domain", d,
                "--record", "v=TLSRPTv1; rua=mailto:tls@%s" % d, "--policy", "sts",
                "--policy-string", "version: STSv1", "--mx-host", "mx." + d,
                "--time", str(two_days_ago), "--count", "3")
        ok(r.returncode == 0, "record results for %s" % d, r.stderr)
    daemon.terminate()
    daemon.wait()
    daemon = None
    G = int(time.time())
    r = run(TLSRPT, "generate", "--config", conf, "--immediate", "--now", str(G))
    check("generate puts 2 reports into the outbox", r.stdout.strip(),
          "windows=2 reports=2 invalid=0 split=0 dropped-details=0 not-yet=0")

    # ---------------------------------------------------------- deliver through postfix
    r = run(TLSRPT, "deliver", "--config", conf, "--dns-zone", ZONE, "--now", str(G + 10))
    check("tlsrpt deliver through postfix", (r.returncode, r.stdout.strip()),
          (0, "reports=2 attempts=2 sent=2 failed=0 given-up=0"))
    if r.returncode:
        print("# " + r.stderr.replace("\n", "\n# "))
    db = sqlite3.connect(os.path.join(T, "tlsrptd.sqlite"))
    rows = db.execute("SELECT r.domain, r.report_id, r.body, d.dest, d.state, d.attempts "
                      "FROM outbox_deliveries d JOIN outbox_reports r ON r.id = d.report "
                      "ORDER BY r.domain").fetchall()
    check("outbox rows are sent once each", [(x[3], x[4], x[5]) for x in rows],
          [("mailto:tls@a.example", 1, 1), ("mailto:tls@b.example", 1, 1)])

    msgs = pf.wait_messages(2)
    check("postfix delivered two messages to the mailbox", len(msgs), 2)
    okn("postfix queue is empty", pf.wait_queue_empty(), pf.log())
    log = pf.log()
    for d in DOMAINS:
        okn("postfix log: tls@%s status=sent via virtual" % d,
            re.search(r"to=<tls@%s>, relay=virtual, .*status=sent" % re.escape(d), log), log)
    okn("postfix log: envelope sender is from-address",
        "from=<tls-reports@example.org>" in log, log)

    by_domain = {}
    for raw in msgs:
        crlf = re.sub(rb"\r?\n", b"\r\n", raw)
        m = email.message_from_bytes(crlf, policy=email.policy.SMTP)
        by_domain[str(m["TLS-Report-Domain"])] = (crlf, m)
    check("one message per report domain", sorted(by_domain), DOMAINS)

    for dom, report_id, body, dest, _, _ in rows:
        crlf, m = by_domain.get(dom, (b"", None))
        if m is None:
            ok(False, "%s: message delivered" % dom)
            continue
        check("%s: Delivered-To (added by postfix)" % dom, m["Delivered-To"], "tls@" + dom)
        check("%s: Return-Path is the envelope sender" % dom, m["Return-Path"],
              "<tls-reports@example.org>")
        okn("%s: Received by the private postfix" % dom,
            "by mx.postfix.test (Postfix)" in str(m["Received"]), m["Received"])
        check("%s: To" % dom, m["To"], "tls@" + dom)
        check("%s: From" % dom, str(m["From"]), "TLS Report <tls-reports@example.org>")
        check("%s: TLS-Report-Submitter" % dom, m["TLS-Report-Submitter"], "mx.example.org")
        check("%s: Subject with the report-id" % dom, re.sub(r"\s+", " ", str(m["Subject"])),
              "Report Domain: %s Submitter: mx.example.org Report-ID: <%s>" % (dom, report_id))
        att = [p for p in m.walk() if p.get_content_type() == "application/tlsrpt+gzip"]
        check("%s: attachment equals the outbox body" % dom,
              att[0].get_payload(decode=True) if att else None, bytes(body))
        sigs = m.get_all("DKIM-Signature") or []
        okn("%s: rsa and ed25519 signatures present" % dom, len(sigs) == 2 and
            "a=rsa-sha256" in sigs[0].replace(" ", "") and
            "a=ed25519-sha256" in sigs[1].replace(" ", ""), sigs)
        v = dkim.DKIM(crlf)
        okn("%s: rsa-sha256 signature verifies with dkimpy after postfix" % dom,
            v.verify(idx=0, dnsfunc=dnsfunc), crlf[:3000].decode(errors="replace"))
        okn("%s: ed25519-sha256 signature verifies with dkimpy after postfix" % dom,
            v.verify(idx=1, dnsfunc=dnsfunc), crlf[:3000].decode(errors="replace"))

    # ---------------------------------------------------------- the verification is real
    crlf = by_domain.get("a.example", (b"", None))[0]
    bad = crlf.replace(b"TLS-Report-Domain: a.example", b"TLS-Report-Domain: b.example", 1)
    v = dkim.DKIM(bad)
    okn("a changed TLS-Report-Domain fails both signatures",
        bad != crlf and not v.verify(idx=0, dnsfunc=dnsfunc) and
        not v.verify(idx=1, dnsfunc=dnsfunc))

    r = run(TLSRPT, "deliver", "--config", conf, "--dns-zone", ZONE, "--now", str(G + 20))
    check("a second pass sends nothing", r.stdout.strip(),
          "reports=0 attempts=0 sent=0 failed=0 given-up=0")
    time.sleep(0.3)
    check("still two messages in the mailbox", len(pf.messages()), 2)
except Exception as ex:  # a crash is a failed test point, and postfix still stops
    ok(False, "no exception", "%r\n%s" % (ex, pf.log()))
finally:
    if daemon is not None:
        daemon.terminate()
        daemon.wait()
    pf.stop()
ok(not pf.master_running(), "postfix stopped")
finish()
