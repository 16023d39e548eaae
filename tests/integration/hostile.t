#!/usr/bin/python3
# hostile.t - the bad-input suite: every case in tests/hostile/ (see its README.md) is
# fed to its channel and the verdict compared with the case's .expect file:
#   ingest     `tlsrpt ingest --reject-non-reports` with the case on stdin (one e-mail)
#   validate   `tlsrpt report validate FILE`
#   config     `tlsrpt config check FILE`
#   http       POST to the daemon's report upload endpoint (or, with `send: raw`, the
#              bytes as they are on a TCP connection)
#   collector  one datagram to the daemon's collector socket (a daemon per case), then
#              one valid result; the daemon must log the rejection and count the valid
#              result
# plus slowloris HTTP: slow connections that send a header byte every second are
# dropped at web.request-timeout (+ margin) while uploads from another address are
# served meanwhile.  Cost bounds (maxrss-mb) are checked on the peak RSS of the CLI
# process (wait4) or of the daemon (VmHWM).
import glob
import os
import re
import resource  # noqa: F401  (wait4 returns a struct_rusage)
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time

sys.path.insert(0, "tests/lib")
from tap import check, finish, ok  # noqa: E402
from tlsrpt_daemon import B, start_daemon  # noqa: E402

TMP = os.environ.get("TLSRPT_TEST_TMP", "/tmp")
SHARED = os.environ.get("SHARED", "../shared")
SAN = os.environ.get("SAN", "")
HOSTILE = "tests/hostile"
work = os.path.join(TMP, "hostile")
shutil.rmtree(work, ignore_errors=True)
os.makedirs(work)
TLSRPT = os.path.join(B, "tlsrpt")
# the bounds in .expect are for plain builds; ASan roughly doubles memory, ThreadSanitizer
# (shadow memory, 5-10x by its documentation) more
RSS_FACTOR = {"": 1, "asan": 3}.get(SAN, 6)


def parse_expect(path):
    """key: value lines; a key given several times joins its values with newlines."""
    exp = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            if not line or line.startswith("#"):
                continue
            k, _, v = line.partition(":")
            v = v[1:] if v.startswith(" ") else v
            exp[k] = exp[k] + "\n" + v if k in exp else v
    return exp


def input_of(case, src):
    """The case's input file: src itself, or what the generator src.py prints."""
    if not src.endswith(".py"):
        return src
    out = os.path.join(work, case + ".in")
    with open(out, "wb") as f:
        subprocess.run(["/usr/bin/python3", src], stdout=f, check=True)
    return out


def run_cli(argv, stdin_path=None):
    """Runs argv; returns (exit status, stdout, stderr, peak RSS in MB)."""
    so, se = os.path.join(work, "so"), os.path.join(work, "se")
    with open(so, "wb") as fo, open(se, "wb") as fe:
        fi = open(stdin_path, "rb") if stdin_path else subprocess.DEVNULL
        p = subprocess.Popen(argv, stdin=fi, stdout=fo, stderr=fe)
        _, status, ru = os.wait4(p.pid, 0)
        p.returncode = os.waitstatus_to_exitcode(status)
        if stdin_path:
            fi.close()
    with open(so, "rb") as f:
        out = f.read().decode("utf-8", "replace").rstrip("\n")
    with open(se, "rb") as f:
        err = f.read().decode("utf-8", "replace").rstrip("\n")
    return p.returncode, out, err, ru.ru_maxrss / 1024.0


DRAFT = os.environ.get("HOSTILE_DRAFT")  # prints what each case got, for new .expect files


def draft(case, **kv):
    if DRAFT:
        for k, v in kv.items():
            for line in str(v).splitlines() or [""]:
                print("# draft %s: %s: %s" % (case, k, line[:300]))


def check_rss(case, rss, exp):
    draft(case, rss=rss)
    if "maxrss-mb" in exp:
        bound = float(exp["maxrss-mb"]) * RSS_FACTOR
        ok(rss <= bound, "%s: peak RSS %.1f MB within %.0f MB" % (case, rss, bound))


def check_cli(case, exp, rc, out, err, path):
    sub = lambda s: s.replace("{input}", path)  # noqa: E731
    draft(case, exit=rc, stdout=out.replace(path, "{input}"), stderr=err.replace(path, "{input}"))
    if "exit" in exp:
        check("%s: exit status" % case, rc, int(exp["exit"]))
    if "stdout" in exp:
        check("%s: stdout" % case, out, sub(exp["stdout"]))
    if "stderr" in exp:
        check("%s: stderr" % case, err, sub(exp["stderr"]))


# ------------------------------------------------------------------ the cases
cases = {}
for src in sorted(glob.glob(os.path.join(HOSTILE, "*"))):
    name = os.path.basename(src)
    if name.endswith(".expect") or name == "README.md":
        continue
    case = os.path.splitext(name)[0]
    if not os.path.exists(os.path.join(HOSTILE, case + ".expect")):
        ok(False, "%s has a .expect file" % name)
        continue
    cases[case] = src
channels = sorted({c.split("-", 1)[0] for c in cases})
check("every case names a known channel", [c for c in channels if c not in
      ("ingest", "validate", "config", "http", "collector")], [])

# ------------------------------------------------------------------ CLI channels
store = os.path.join(work, "ingest.sqlite")
for case, src in cases.items():
    chan = case.split("-", 1)[0]
    if chan not in ("ingest", "validate", "config"):
        continue
    exp = parse_expect(os.path.join(HOSTILE, case + ".expect"))
    path = input_of(case, src)
    if chan == "ingest":
        rc, out, err, rss = run_cli([TLSRPT, "ingest", "--store", store, "--dkim-keys",
                                     "/dev/null", "--reject-non-reports"], path)
    elif chan == "validate":
        rc, out, err, rss = run_cli([TLSRPT, "report", "validate", path])
    else:
        rc, out, err, rss = run_cli([TLSRPT, "config", "check", path])
    check_cli(case, exp, rc, out, err, path)
    check_rss(case, rss, exp)

# ------------------------------------------------------------------ daemon channels
def conf_for(d, extra=""):
    path = os.path.join(d, "tlsrptd.toml")
    with open(path, "w") as f:
        f.write('[collector]\nsocket = "%s/c.sock"\nflush-interval = "100ms"\n'
                '[store]\nbackend = "sqlite"\npath = "%s/db.sqlite"\n'
                '[web]\nlisten = "127.0.0.1:0"\nrequest-timeout = "3s"\nmax-body = "10mb"\n'
                '[log]\ndestination = "stderr"\n%s' % (d, d, extra))
    return path


def hwm_mb(pid):
    with open("/proc/%d/status" % pid) as f:
        m = re.search(r"VmHWM:\s+(\d+) kB", f.read())
    return int(m.group(1)) / 1024.0 if m else 0.0


def http_exchange(port, data, src_addr="127.0.0.1", timeout=30):
    """Sends data on a new connection; returns (status or 'closed', body text)."""
    s = socket.socket()
    s.settimeout(timeout)
    s.bind((src_addr, 0))
    s.connect(("127.0.0.1", port))
    try:
        s.sendall(data)
    except OSError:
        pass  # the server may close early (413, 431) while we still send
    resp = b""
    try:
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            resp += chunk
    except OSError:
        pass
    s.close()
    m = re.match(rb"HTTP/1\.[01] (\d{3})[^\r\n]*\r\n(.*?)\r\n\r\n(.*)", resp, re.S)
    if not m:
        return "closed", ""
    return int(m.group(1)), m.group(3).decode("utf-8", "replace").rstrip("\n")


def post(port, body, ctype="application/tlsrpt+gzip", src_addr="127.0.0.1"):
    req = (b"POST /tlsrpt HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
           b"Content-Type: " + ctype.encode() + b"\r\nContent-Length: %d\r\n\r\n" % len(body))
    return http_exchange(port, req + body, src_addr)


hdir = os.path.join(work, "httpd")
os.makedirs(hdir)
d, ready = start_daemon(conf_for(hdir), os.path.join(hdir, "d.err"))
with open(os.path.join(hdir, "d.err")) as f:
    m = re.search(r"port=(\d+) path=/tlsrpt", f.read())
port = int(m.group(1)) if m else 0
ok(ready and port, "the daemon starts with the upload endpoint")
for case, src in cases.items():
    if not case.startswith("http-"):
        continue
    exp = parse_expect(os.path.join(HOSTILE, case + ".expect"))
    with open(input_of(case, src), "rb") as f:
        data = f.read()
    if exp.get("send") == "raw":
        status, body = http_exchange(port, data)
    else:
        status, body = post(port, data, exp.get("content-type", "application/tlsrpt+gzip"))
    want = exp.get("status")
    draft(case, status=status, body=body)
    check("%s: HTTP status" % case, str(status), want)
    if "body" in exp:
        check("%s: response body" % case, body, exp["body"])
    alive = d.poll() is None
    ok(alive, "%s: the daemon is still running" % case)
    if alive:
        check_rss(case, hwm_mb(d.pid), exp)

# ------------------------------------------------------------------ slowloris
TIMEOUT, MARGIN = 3.0, 2.5
good = os.path.join(SHARED, "corpus/real/marcbradshaw_mail-tls-rpt/report.json")
with open(good, "rb") as f:
    good_body = f.read()
slow = []
closed_at = {}
stop = threading.Event()
t0 = time.monotonic()
for i in range(20):  # more than the 16 connections allowed per address
    s = socket.socket()
    try:
        s.connect(("127.0.0.1", port))
        s.sendall(b"POST /tlsrpt HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        s.setblocking(False)
        slow.append(s)
    except OSError:
        s.close()


def dribble():
    """Sends one header byte per second on every slow connection; notes when each is
    closed by the server."""
    while not stop.is_set() and len(closed_at) < len(slow):
        for i, s in enumerate(slow):
            if i in closed_at:
                continue
            try:
                if s.recv(1) == b"":
                    closed_at[i] = time.monotonic() - t0
                    continue
            except BlockingIOError:
                pass
            except OSError:
                closed_at[i] = time.monotonic() - t0
                continue
            try:
                s.send(b"X")
            except OSError:
                closed_at[i] = time.monotonic() - t0
        stop.wait(0.2 if len(closed_at) else 1.0)


th = threading.Thread(target=dribble, daemon=True)
th.start()
time.sleep(1.2)
status, body = post(port, good_body, "application/tlsrpt+json", src_addr="127.0.0.2")
elapsed = time.monotonic() - t0
ok(status == 200 and elapsed < TIMEOUT,
   "slowloris: an upload from another address is served meanwhile (%.1f s)" % elapsed,
   "got %s %s" % (status, body))
th.join(timeout=TIMEOUT + MARGIN + 5)
stop.set()
last = max(closed_at.values()) if closed_at else -1
print("# %d slow connections opened, %d closed by the server, the last after %.1f s"
      % (len(slow), len(closed_at), last))
ok(len(slow) >= 16 and len(closed_at) == len(slow) and last <= TIMEOUT + MARGIN,
   "slowloris: every slow connection is dropped within request-timeout %.0f s + %.1f s"
   % (TIMEOUT, MARGIN), "opened %d, closed %s" % (len(slow), closed_at))
for s in slow:
    s.close()
status, body = post(port, good_body, "application/tlsrpt+json")
check("slowloris: afterwards the same address is served again", status, 200)
d.send_signal(signal.SIGTERM)
check("the daemon stops cleanly after the HTTP cases", d.wait(timeout=30), 0)

# ------------------------------------------------------------------ collector
for case, src in cases.items():
    if not case.startswith("collector-"):
        continue
    exp = parse_expect(os.path.join(HOSTILE, case + ".expect"))
    with open(input_of(case, src), "rb") as f:
        data = f.read()
    cdir = os.path.join(work, case)
    os.makedirs(cdir)
    d, ready = start_daemon(conf_for(cdir, ""), os.path.join(cdir, "d.err"))
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    try:
        s.sendto(data, os.path.join(cdir, "c.sock"))
        sent = "sent"
    except OSError as e:
        sent = "refused by the kernel: %s" % e.strerror
    s.close()
    check("%s: the datagram goes out" % case, sent, exp.get("send", "sent"))
    r = subprocess.run([TLSRPT, "record", "--socket", os.path.join(cdir, "c.sock"), "--domain",
                        "ok.example", "--record", "v=TLSRPTv1; rua=mailto:r@ok.example",
                        "--policy", "none"], capture_output=True, text=True)
    time.sleep(0.3)
    alive = d.poll() is None
    ok(alive, "%s: the daemon is still running" % case)
    if alive:
        check_rss(case, hwm_mb(d.pid), exp)
        d.send_signal(signal.SIGTERM)
        d.wait(timeout=30)
    with open(os.path.join(cdir, "d.err"), errors="replace") as f:
        log = f.read()
    draft(case, send=sent, log=log)
    m = re.search(r"rejected datagram (reason=\S+)", log)
    check("%s: the rejection is logged" % case, m.group(1) if m else None, exp.get("log"))
    m = re.search(r"collector stopped (datagrams=\d+ accepted=\d+ rejected=\d+)", log)
    check("%s: counters at the stop" % case, m.group(1) if m else None, exp.get("stopped"))
finish()
