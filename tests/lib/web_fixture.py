"""web_fixture.py - a store for the web tests (web_api.t, web_dashboard.t).

    sys.path.insert(0, "tests/lib"); from web_fixture import ...

build_store() ingests every readable report file of the shared corpus plus 120
generated reports (3 reporters x 40 days, 2023-06-01 .. 2023-07-10, each with an sts
policy for gen.example in mode testing without failures and one for gen2.example in
mode enforce with failures) through `tlsrpt ingest`, and returns the expected figures
of the generated data, computed here.  start() runs the daemon on it and returns the
port from its log.
"""
import glob
import json
import os
import re
import subprocess
import time

from tlsrpt_daemon import start_daemon

B = os.environ.get("B", "build")
SHARED = os.environ.get("SHARED", "../shared")
C = os.path.join(SHARED, "corpus")
REJECT = ("real/YnkDK_tls_reporting/truncated.gz", "real/YnkDK_tls_reporting/date_error.json",
          "real/YnkDK_tls_reporting/no-policies.json")
GEN_DAYS = 40
GEN_FIRST = "2023-06-01"
GEN_UNTIL = "2023-07-11"  # exclusive
FIRST_UNIX = 1685577600   # 2023-06-01T00:00:00Z
RESULTS = ["certificate-expired", "validation-failure", "starttls-not-supported"]


def tlsrpt():
    return os.path.join(B, "tlsrpt") if B.startswith("/") else os.path.join(os.getcwd(), B,
                                                                            "tlsrpt")


def corpus_files():
    files = glob.glob(C + "/real/*/*") + glob.glob(C + "/real/*/*/*") + \
        glob.glob(C + "/stalwart/*") + glob.glob(C + "/sys4/reports/*")
    return sorted(f for f in files if os.path.isfile(f) and not f.endswith((".eml", ".md"))
                  and os.path.relpath(f, C) not in REJECT)


def day_text(d):
    return time.strftime("%Y-%m-%d", time.gmtime(FIRST_UNIX + d * 86400))


def gen_report(d, r):
    """The report of reporter r for day d, and its figures."""
    s1 = 100 + d * 3 + r
    s2 = 50 + d
    f2 = (d + r) % 3
    details = []
    if f2:
        details.append({"result-type": RESULTS[(d + r) % 3], "sending-mta-ip": "192.0.2.9",
                        "receiving-mx-hostname": "mx1.gen2.example",
                        "receiving-ip": "203.0.113.%d" % (r + 1), "failed-session-count": f2,
                        "additional-information": "seen by <gen> & co"})
    doc = {
        "organization-name": "Gen Reporter %d" % r,
        "date-range": {"start-datetime": day_text(d) + "T00:00:00Z",
                       "end-datetime": day_text(d) + "T23:59:59Z"},
        "contact-info": "tlsrpt@genrep%d.example" % r,
        "report-id": "gen-%d-%d@genrep%d.example" % (d, r, r),
        "policies": [
            {"policy": {"policy-type": "sts", "policy-domain": "gen.example",
                        "policy-string": ["version: STSv1", "mode: testing",
                                          "mx: mx1.gen.example", "max_age: 86400"],
                        "mx-host": ["mx1.gen.example"]},
             "summary": {"total-successful-session-count": s1,
                         "total-failure-session-count": 0}},
            {"policy": {"policy-type": "sts", "policy-domain": "gen2.example",
                        "policy-string": ["version: STSv1", "mode: enforce",
                                          "mx: mx1.gen2.example", "max_age: 86400"],
                        "mx-host": ["mx1.gen2.example"]},
             "summary": {"total-successful-session-count": s2,
                         "total-failure-session-count": f2},
             "failure-details": details},
        ],
    }
    return doc, (s1, 0), (s2, f2)


def expected():
    """Figures of the generated data."""
    e = {"reports": 0, "gen": [0, 0], "gen2": [0, 0], "by_type": {}, "by_ip": {},
         "by_reporter_fail": {}, "per_reporter": {}, "days": {}}
    for d in range(GEN_DAYS):
        for r in range(3):
            doc, a, b = gen_report(d, r)
            e["reports"] += 1
            e["gen"][0] += a[0]
            e["gen2"][0] += b[0]
            e["gen2"][1] += b[1]
            e["per_reporter"][r] = e["per_reporter"].get(r, 0) + 1
            day = e["days"].setdefault(day_text(d), [0, 0])
            day[0] += a[0] + b[0]
            day[1] += b[1]
            if b[1]:
                t = RESULTS[(d + r) % 3]
                e["by_type"][t] = e["by_type"].get(t, 0) + b[1]
                ip = "203.0.113.%d" % (r + 1)
                e["by_ip"][ip] = e["by_ip"].get(ip, 0) + b[1]
                sub = "genrep%d.example" % r
                e["by_reporter_fail"][sub] = e["by_reporter_fail"].get(sub, 0) + b[1]
    return e


def build_store(tmp):
    """Creates tmp/db.sqlite with the corpus and the generated reports."""
    db = os.path.join(tmp, "db.sqlite")
    gen = os.path.join(tmp, "gen")
    os.makedirs(gen, exist_ok=True)
    names = []
    for d in range(GEN_DAYS):
        for r in range(3):
            doc, _, _ = gen_report(d, r)
            n = os.path.join(gen, "gen-%02d-%d.json" % (d, r))
            with open(n, "w") as f:
                json.dump(doc, f)
            names.append(n)
    p1 = subprocess.run([tlsrpt(), "ingest", "--store", db] + corpus_files(),
                        capture_output=True, text=True)
    p2 = subprocess.run([tlsrpt(), "ingest", "--store", db] + names, capture_output=True,
                        text=True)
    return db, p1, p2


def start(tmp, db, web_extra=""):
    """Starts tlsrptd on db with [web] listen on 127.0.0.1:0 plus web_extra lines.

    Returns (process, port or None, log path)."""
    conf = os.path.join(tmp, "tlsrptd.toml")
    with open(conf, "w") as f:
        f.write('[collector]\nsocket = "%s"\nflush-interval = "100ms"\n'
                '[store]\nbackend = "sqlite"\npath = "%s"\n'
                '[web]\nlisten = "127.0.0.1:0"\n%s'
                '[log]\ndestination = "stderr"\n' % (os.path.join(tmp, "col.sock"), db,
                                                      web_extra))
    log = os.path.join(tmp, "tlsrptd.log")
    p, ready = start_daemon(conf, log)
    port = None
    if ready:
        m = re.search(r"port=(\d+)", open(log).read())
        port = int(m.group(1)) if m else None
    return p, port, log
