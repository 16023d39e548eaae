#!/usr/bin/python3
# lmtp.t - the daemon's LMTP listener (issue 8) with a real client (Python's smtplib.LMTP)
# over a Unix socket and then over TCP.
#
# Config check: lmtp.listen with report.analysis.forward = true and no Maildir is refused.
# Unix socket: LHLO extensions; every corpus e-mail delivered to two report addresses and
# one other address: 250 for each report recipient, 550 5.1.1 for the other, one reply
# per accepted recipient; `tlsrpt received list` holds every report once, delivering it
# all again stores nothing new (duplicates counted once); the non-report sample is kept
# in the Maildir (forward semantics); the Maildir holds every message as received with
# a Return-Path line first; a pipelined session gives the exact transcript; an overlong
# line gets 500 5.5.2 and the session goes on; SIGTERM answers a connected client 421
# and removes the socket.  TCP (port 0): forward = false and reject-non-reports: a report
# is analysed only (nothing in a Maildir), the non-report gets 554 5.6.0, SIZE over the cap
# 552 5.3.4, an idle client 421 4.4.2 after lmtp.timeout.
# Corpus DKIM cannot verify offline: the reports are stored unverified, so the listing
# uses --include-unverified (as inbound_corpus.t does).
import glob
import json
import os
import re
import shutil
import signal
import smtplib
import socket
import subprocess
import sys
import time

sys.path.insert(0, "tests/lib")
from tap import ok, check, finish  # noqa: E402

B = os.environ.get("B", "build")
SHARED = os.environ.get("SHARED", "../shared")
TMP = os.path.join(os.environ.get("TLSRPT_TEST_TMP") or "/tmp", "lmtp_t.%d" % os.getpid())
shutil.rmtree(TMP, ignore_errors=True)
os.makedirs(TMP)
C = os.path.join(SHARED, "corpus")
DB = os.path.join(TMP, "db.sqlite")
SOCK = os.path.join(TMP, "lmtp.sock")
MD = os.path.join(TMP, "Maildir")
NEG = os.path.join(C, "real/kravietz_tlsrpt-rs/empty.eml")
SENDER = "mailer-daemon@sender.example"


def write_conf(name, lmtp):
    path = os.path.join(TMP, name)
    with open(path, "w") as f:
        f.write('[collector]\nsocket = "%s/col.sock"\n'
                '[store]\npath = "%s"\n'
                '[web]\nlisten = ""\n'
                '[log]\ndestination = "stderr"\n'
                '[report.analysis]\naddresses = ["postmaster@*", "tlsrpt@example.com",'
                ' "*@reports.example.net"]\n%s\n'
                '[lmtp]\n%s\n' % (TMP, DB, lmtp.get("analysis", ""), lmtp["lmtp"]))
    return path


def start(conf, log):
    err = open(log, "w")
    p = subprocess.Popen([B + "/tlsrptd", "--foreground", "--config", conf],
                         stdout=subprocess.DEVNULL, stderr=err)
    for _ in range(400):
        text = open(log).read()
        if " ready" in text:
            return p, text
        if p.poll() is not None:
            break
        time.sleep(0.025)
    return p, open(log).read()


def stop(p):
    p.send_signal(signal.SIGTERM)
    try:
        return p.wait(timeout=10)
    except subprocess.TimeoutExpired:
        p.kill()
        return -1


def crlf(raw):
    # what smtplib puts on the wire (before dot-stuffing): CRLF everywhere, CRLF at the end
    raw = re.sub(rb"(?:\r\n|\n|\r(?!\n))", b"\r\n", raw)
    return raw if raw.endswith(b"\r\n") else raw + b"\r\n"


def as_sent(raw):
    # smtplib sends bytes as they are (bare LF included) and adds a final CRLF
    return raw if raw.endswith(b"\r\n") else raw + b"\r\n"


def deliver(client, raw, rcpts):
    """MAIL, RCPT each, DATA: returns (rcpt replies, data replies: one per accepted)."""
    code, _ = client.mail(SENDER)
    assert code == 250
    rr = [client.rcpt(r) for r in rcpts]
    accepted = sum(1 for c, _ in rr if c == 250)
    dr = []
    if accepted:
        dr.append(client.data(raw))
        for _ in range(accepted - 1):
            dr.append(client.getreply())
    return rr, dr


def listing():
    p = subprocess.run([B + "/tlsrpt", "received", "list", "--store", DB, "--json",
                        "--include-unverified"], capture_output=True, text=True)
    return json.loads(p.stdout) if p.returncode == 0 else None


def maildir_files(sub="new"):
    d = os.path.join(MD, sub)
    return sorted(os.listdir(d)) if os.path.isdir(d) else []


def raw_session(addr, data, family=socket.AF_UNIX, wait_close=True):
    s = socket.socket(family, socket.SOCK_STREAM)
    s.settimeout(10)
    s.connect(addr)
    got = b""
    got += s.recv(4096)
    s.sendall(data)
    while True:
        try:
            chunk = s.recv(65536)
        except socket.timeout:
            break
        if not chunk:
            break
        got += chunk
        if not wait_close and got.endswith(b"\r\n"):
            break
    s.close()
    return got


emails = sorted(glob.glob(C + "/real/*/*.eml") + glob.glob(C + "/stalwart/*.eml") +
                glob.glob(C + "/sys4/email/*.eml"))
emails = [f for f in emails if f != NEG]

# ------------------------------------------------------------ config check
bad = write_conf("bad.toml", {"lmtp": 'listen = "unix:%s"' % SOCK})
p = subprocess.run([B + "/tlsrptd", "--check-config", "--config", bad], capture_output=True,
                   text=True)
ok(p.returncode == 1 and "lmtp.forward-maildir: required when lmtp.listen is set and "
   "report.analysis.forward is true" in p.stderr,
   "forward = true without lmtp.forward-maildir: config check fails, says why",
   "got rc=%d %r" % (p.returncode, p.stderr))
p = subprocess.run([B + "/tlsrptd", "--check-config", "--config",
                    write_conf("bad2.toml", {"lmtp": 'listen = "unix:relative"\n'
                                             'forward-maildir = "%s"' % MD})],
                   capture_output=True, text=True)
ok(p.returncode == 1 and "lmtp.listen: expected unix:/absolute/path" in p.stderr,
   "lmtp.listen unix:relative refused", "got rc=%d %r" % (p.returncode, p.stderr))

# ------------------------------------------------------------ Unix socket, forward
conf = write_conf("unix.toml", {"lmtp": 'listen = "unix:%s"\nforward-maildir = "%s"\n'
                                        'socket-mode = "0600"' % (SOCK, MD)})
log = os.path.join(TMP, "unix.log")
d, text = start(conf, log)
ok(" ready" in text and ("lmtp listening=unix:%s port=0 workers=2" % SOCK) in text,
   "daemon starts, logs the LMTP socket", text)
ok(os.path.exists(SOCK) and (os.stat(SOCK).st_mode & 0o777) == 0o600,
   "socket exists with lmtp.socket-mode 0600", "")
ok(all(os.path.isdir(os.path.join(MD, s)) for s in ("tmp", "new", "cur")),
   "Maildir tmp/ new/ cur/ created", "")

c = smtplib.LMTP(SOCK)
code, resp = c.ehlo("client.test")
check("LHLO: 250 with PIPELINING, ENHANCEDSTATUSCODES, 8BITMIME, SIZE 10485760",
      (code, resp.split(b"\n")[1:]),
      (250, [b"PIPELINING", b"ENHANCEDSTATUSCODES", b"8BITMIME", b"SIZE 10485760"]))

RCPTS = ["tlsrpt@example.com", "someone@example.com", "Postmaster@Example.NET"]
stored = 0
want_files = []
bad_rcpt = []
bad_data = []
for f in emails:
    raw = crlf(open(f, "rb").read())  # as an MTA hands it over
    rr, dr = deliver(c, raw, RCPTS)
    if rr != [(250, b"2.1.5 Ok"),
              (550, b"5.1.1 <someone@example.com>: Recipient address rejected: not a TLS "
                    b"report address"),
              (250, b"2.1.5 Ok")]:
        bad_rcpt.append((f, rr))
    m = re.match(rb"2\.0\.0 Ok: (\d+) stored, (\d+) duplicates?; delivered to the mailbox$",
                 dr[0][1]) if dr else None
    if len(dr) != 2 or dr[0] != dr[1] or dr[0][0] != 250 or m is None or \
            int(m.group(1)) + int(m.group(2)) < 1:
        bad_data.append((f, dr))
    else:
        stored += int(m.group(1))
    want_files.append(b"Return-Path: <%s>\r\n" % SENDER.encode() + raw)
ok(not bad_rcpt, "%d corpus e-mails: RCPT 250, 550 5.1.1, 250" % len(emails), repr(bad_rcpt))
ok(not bad_data, "%d corpus e-mails: two DATA replies each, 250 2.0.0 stored" % len(emails),
   repr(bad_data))
rows = listing()
ok(rows is not None and len(rows) == stored and stored >= 15,
   "received list holds the %d stored reports" % stored,
   "got %r rows" % (None if rows is None else len(rows)))
ok(rows is not None and all("mail" in r.get("channels", "mail") for r in rows),
   "reports came in on channel mail", repr(rows[:1] if rows else rows))

# again, this time with the files' own line ends (bare LF in most): nothing new
again = []
for f in emails:
    rr, dr = deliver(c, open(f, "rb").read(), ["tlsrpt@example.com"])
    if not dr or not re.match(rb"2\.0\.0 Ok: 0 stored, \d+ duplicates?; delivered", dr[0][1]):
        again.append((f, dr))
ok(not again, "second delivery of every e-mail (bare LF kept): 0 stored, duplicates",
   repr(again))
rows2 = listing()
check("duplicates counted once: received list unchanged", len(rows2 or []), stored)

# the non-report sample: kept in the Maildir
raw = open(NEG, "rb").read()
rr, dr = deliver(c, raw, ["postmaster@example.org"])
check("non-report: 250 2.0.0, delivered to the mailbox", dr,
      [(250, b"2.0.0 Ok: not a report; delivered to the mailbox")])
want_files.extend(b"Return-Path: <%s>\r\n" % SENDER.encode() + as_sent(open(f, "rb").read())
                  for f in emails)
want_files.append(b"Return-Path: <%s>\r\n" % SENDER.encode() + as_sent(raw))
c.quit()

files = maildir_files()
check("Maildir new/ holds one file per delivered message", len(files), len(want_files))
contents = [open(os.path.join(MD, "new", n), "rb").read() for n in files]
ok(sorted(contents) == sorted(want_files),
   "Maildir files are the messages as received, Return-Path first",
   "first got %r" % (contents[:1],))
check("Maildir tmp/ is empty", maildir_files("tmp"), [])

# pipelined session, exact transcript
msg = open(emails[0], "rb").read()
body = crlf(msg).replace(b"\r\n.", b"\r\n..")
got = raw_session(SOCK, b"LHLO pipe.test\r\nMAIL FROM:<a@sender.example>\r\n"
                        b"RCPT TO:<x@reports.example.net>\r\nRCPT TO:<bob@example.net>\r\n"
                        b"RCPT TO:<postmaster>\r\nDATA\r\n" + body + b".\r\nQUIT\r\n")
host = re.search(rb"^220 (\S+) ", got).group(1) if got.startswith(b"220 ") else b"?"
dup = b"250 2.0.0 Ok: 0 stored, 1 duplicate; delivered to the mailbox\r\n"
check("pipelined session: exact replies", got,
      b"220 " + host + b" LMTP tlsrptd ready\r\n250-" + host + b"\r\n250-PIPELINING\r\n"
      b"250-ENHANCEDSTATUSCODES\r\n250-8BITMIME\r\n250 SIZE 10485760\r\n250 2.1.0 Ok\r\n"
      b"250 2.1.5 Ok\r\n550 5.1.1 <bob@example.net>: Recipient address rejected: not a TLS "
      b"report address\r\n250 2.1.5 Ok\r\n354 End data with <CR><LF>.<CR><LF>\r\n" + dup +
      dup + b"221 2.0.0 " + host + b" closing connection\r\n")

# abuse over the socket: an overlong line, then the session goes on
got = raw_session(SOCK, b"LHLO x\r\n" + b"A" * 5000 + b"\r\nNO\0OP\r\nNOOP\r\nQUIT\r\n")
ok(got.endswith(b"250 SIZE 10485760\r\n500 5.5.2 Error: line too long (limit 512 octets)\r\n"
                b"500 5.5.2 Error: NUL character in command\r\n250 2.0.0 Ok\r\n"
                b"221 2.0.0 " + host + b" closing connection\r\n"),
   "overlong line and NUL: 500 5.5.2 each, session goes on", repr(got[-300:]))

# SIGTERM with a client connected: 421, exit 0, socket removed
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.settimeout(10)
s.connect(SOCK)
greet = s.recv(4096)
s.sendall(b"LHLO x\r\n")
time.sleep(0.2)
s.recv(4096)
rc = stop(d)
try:
    last = s.recv(4096)
except OSError:
    last = b""
s.close()
check("SIGTERM: connected client gets 421 4.3.2", last,
      b"421 4.3.2 " + host + b" Service shutting down, try again later\r\n")
check("SIGTERM: exit 0", rc, 0)
ok(not os.path.exists(SOCK), "SIGTERM: socket removed", "")

# ------------------------------------------------------------ TCP, analyse only
n_files = len(maildir_files())
conf = write_conf("tcp.toml", {
    "analysis": "forward = false",
    "lmtp": 'listen = "127.0.0.1:0"\nreject-non-reports = true\nmax-message-size = "64kb"\n'
            'timeout = "1s"'})
log = os.path.join(TMP, "tcp.log")
d, text = start(conf, log)
m = re.search(r"lmtp listening=127\.0\.0\.1:0 port=(\d+)", text)
ok(" ready" in text and m is not None and int(m.group(1)) > 0,
   "TCP listener starts on 127.0.0.1, logs its port", text)
port = int(m.group(1)) if m else 0
c = smtplib.LMTP("127.0.0.1", port)
code, resp = c.ehlo("client.test")
ok(code == 250 and resp.endswith(b"SIZE 65536"), "TCP LHLO advertises SIZE 65536", repr(resp))
rr, dr = deliver(c, open(emails[0], "rb").read(), ["tlsrpt@example.com"])
check("forward = false: a known report is a duplicate, not kept", dr,
      [(250, b"2.0.0 Ok: 0 stored, 1 duplicate")])
rr, dr = deliver(c, raw, ["tlsrpt@example.com", "postmaster@example.com"])
want = (554, b"5.6.0 Error: not a TLS report: no TLS report found in message")
check("reject-non-reports: 554 5.6.0 for each recipient", dr, [want, want])
check("nothing written to the Maildir", len(maildir_files()), n_files)
code, resp = c.docmd("MAIL FROM:<a@b> SIZE=65537")
check("SIZE over lmtp.max-message-size: 552 5.3.4", (code, resp),
      (552, b"5.3.4 Error: message size exceeds the limit of 65536 bytes"))
c.quit()
t0 = time.time()
got = raw_session(("127.0.0.1", port), b"LHLO idle\r\n", socket.AF_INET)
ok(got.endswith(b"421 4.4.2 " + host + b" Error: timeout exceeded\r\n") and
   time.time() - t0 < 5, "idle client: 421 4.4.2 after lmtp.timeout",
   repr(got[-100:]))
check("TCP: SIGTERM exit 0", stop(d), 0)
rows3 = listing()
check("received list still holds each report once", len(rows3 or []), stored)

if not os.environ.get("KEEP"):
    shutil.rmtree(TMP, ignore_errors=True)
finish()
