#!/usr/bin/python3
# web_api.t - the daemon's JSON API (docs/api.md) over real HTTP, on a store loaded with
# the shared corpus and 120 generated reports (tests/lib/web_fixture.py).
#
# Authentication: no credentials 401 with WWW-Authenticate (Bearer and Basic), a wrong
# token 401, the right token 200, a basic-auth user from `tlsrpt web passwd` (its hash
# checked independently with hashlib) 200, a wrong password 401; /healthz and the upload
# path need none.  Security headers on every answer.  Pagination by cursor and by
# offset against `tlsrpt received list` (same reports, same order, no duplicates),
# filters with exact counts, one report, summaries and groups with totals computed
# from the generated JSON, outbound counters and outbox.
import base64
import hashlib
import http.client
import json
import os
import subprocess
import sys

sys.path.insert(0, "tests/lib")
from tap import ok, check, finish  # noqa: E402
import web_fixture as wf  # noqa: E402

TMP = os.path.join(os.environ.get("TLSRPT_TEST_TMP") or "/tmp", "web_api.%d" % os.getpid())
os.makedirs(TMP, exist_ok=True)
TOKEN = "t0ken-for-the-api"
E = wf.expected()

db, p1, p2 = wf.build_store(TMP)
ok(p2.returncode == 0 and p2.stderr.count("1 stored") == 120,
   "120 generated reports ingested", p2.stderr[-500:])

pw = subprocess.run([wf.tlsrpt(), "web", "passwd", "--user", "alice", "--iterations", "1000"],
                    input="correct horse\n", capture_output=True, text=True)
entry = pw.stdout.strip()
ok(pw.returncode == 0 and entry.startswith("alice:$pbkdf2-sha256$1000$"),
   "tlsrpt web passwd prints a web.users entry", pw.stdout + pw.stderr)
try:
    _, _, it, salt, h = entry.split(":", 1)[1].split("$")
    want = hashlib.pbkdf2_hmac("sha256", b"correct horse", base64.b64decode(salt), int(it))
    ok(base64.b64decode(h) == want, "the hash is PBKDF2-HMAC-SHA256 (checked with hashlib)")
except ValueError as ex:
    ok(False, "the hash is PBKDF2-HMAC-SHA256 (checked with hashlib)", str(ex))

daemon, port, log = wf.start(TMP, db, 'token = "%s"\nusers = ["%s"]\n' % (TOKEN, entry))
ok(port is not None, "daemon started with token and users", open(log).read()[-1500:])
if port is None:
    daemon.kill()
    finish()

SEC = {
    "content-security-policy": "default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
                               "form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
    "cache-control": "no-store",
}
AUTH = {"Authorization": "Bearer " + TOKEN}
sec_bad = []


def req(path, headers=None, method="GET", body=None):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    c.request(method, path, body=body, headers=headers or {})
    r = c.getresponse()
    data = r.read()
    hdrs = [(k.lower(), v) for k, v in r.getheaders()]
    c.close()
    for k, v in SEC.items():
        if (k, v) not in hdrs:
            sec_bad.append("%s %s: %s missing" % (method, path, k))
    return r.status, hdrs, data


def get_json(path, headers=AUTH):
    st, h, data = req(path, headers)
    try:
        return st, json.loads(data)
    except ValueError:
        return st, {"_raw": data[:300]}


# ------------------------------------------------------------ authentication
st, h, data = req("/healthz")
check("/healthz without credentials: 200 {\"status\":\"ok\"}", (st, data), (200, b'{"status":"ok"}\n'))
st, h, data = req("/api/v1/received")
www = [v for k, v in h if k == "www-authenticate"]
ok(st == 401 and 'Bearer realm="tlsrptd"' in www and
   'Basic realm="tlsrptd", charset="UTF-8"' in www,
   "no credentials: 401 with WWW-Authenticate Bearer and Basic", "got %d %r" % (st, www))
check("no credentials: JSON error", json.loads(data),
      {"error": "authentication required: a bearer token or a user name and password"})
st, h, data = req("/api/v1/received", {"Authorization": "Bearer wrong"})
check("wrong token: 401", (st, json.loads(data)), (401, {"error": "wrong token"}))
st, h, data = req("/api/v1/received", AUTH)
check("right token: 200", st, 200)
basic = base64.b64encode(b"alice:correct horse").decode()
st, h, data = req("/api/v1/received", {"Authorization": "Basic " + basic})
check("basic auth user alice: 200", st, 200)
bad = base64.b64encode(b"alice:wrong horse").decode()
st, h, data = req("/api/v1/received", {"Authorization": "Basic " + bad})
check("basic auth wrong password: 401", st, 401)
st, h, data = req("/", {"Authorization": "Basic " + basic})
ok(st == 200 and ("content-type", "text/html; charset=utf-8") in h,
   "dashboard with basic auth: 200 text/html", "got %d" % st)
st, h, data = req("/nothing-here", AUTH)
check("unknown path with credentials: 404", st, 404)
st, h, data = req("/api/v1/received", AUTH, method="POST", body=b"{}")
ok(st == 405 and ("allow", "GET, HEAD") in h, "POST to the API: 405 with Allow", "got %d" % st)

# the upload endpoint on the same listener needs no credentials
doc, _, _ = wf.gen_report(0, 7)
doc["report-id"] = "upload-1@genrep7.example"
doc["date-range"] = {"start-datetime": "2023-05-15T00:00:00Z",
                     "end-datetime": "2023-05-15T23:59:59Z"}
for p in doc["policies"]:
    p["policy"]["policy-domain"] = "upload.example"
st, h, data = req("/tlsrpt", {"Content-Type": "application/tlsrpt+json"}, "POST",
                  json.dumps(doc).encode())
ok(st == 200 and data.startswith(b"stored report "), "POST /tlsrpt without credentials: stored",
   "got %d %r" % (st, data))
st, h, data = req("/tlsrpt")
check("GET /tlsrpt: 405 from the upload endpoint", st, 405)

# ------------------------------------------------------------ pagination
cli = subprocess.run([wf.tlsrpt(), "received", "list", "--store", db, "--json"],
                     capture_output=True, text=True)
want_ids = [r["id"] for r in json.loads(cli.stdout)]
got_ids, pages, path = [], 0, "/api/v1/received?limit=7"
while path and pages < 100:
    st, doc = get_json(path)
    if st != 200:
        break
    got_ids += [r["id"] for r in doc["reports"]]
    ok(doc["count"] == len(doc["reports"]) and doc["count"] <= 7,
       "page %d: count %d <= limit 7" % (pages + 1, doc["count"])) if pages < 2 else None
    path = doc["next"]
    pages += 1
ok(len(want_ids) > 100 and got_ids == want_ids,
   "cursor pages: %d reports, same order as `tlsrpt received list`" % len(want_ids),
   "got %d ids, want %d; first difference at %r" % (
       len(got_ids), len(want_ids),
       next(((i, a, b) for i, (a, b) in enumerate(zip(got_ids, want_ids)) if a != b), None)))
check("cursor pages: no duplicates", len(set(got_ids)), len(got_ids))
check("cursor pages: ceil(%d / 7) pages" % len(want_ids), pages, (len(want_ids) + 6) // 7)
st, doc = get_json("/api/v1/received?limit=5&offset=5")
check("offset=5&limit=5: items 6..10", [r["id"] for r in doc["reports"]], want_ids[5:10])
st, doc = get_json("/api/v1/received?limit=5&offset=%d" % (len(want_ids) - 2))
check("offset near the end: 2 items, next null", (doc["count"], doc["next"]), (2, None))

# ------------------------------------------------------------ filters
st, doc = get_json("/api/v1/received?domain=gen.example&limit=1000")
check("domain=gen.example: 120 reports", doc["count"], 120)
st, doc = get_json("/api/v1/received?domain=gen2.example&reporter=Gen%20Reporter%201&limit=1000")
check("domain + reporter filter: 40 reports", doc["count"], 40)
st, doc = get_json("/api/v1/received?domain=gen.example&since=2023-06-11&until=2023-06-21&limit=1000")
check("since/until: 10 days x 3 reporters = 30", doc["count"], 30)
ok(all("2023-06-11" <= r["start"][:10] < "2023-06-21" for r in doc["reports"]),
   "since/until: every start inside the range")
st, doc = get_json("/api/v1/received?since=2023-06-01&until=2023-07-11&limit=1000")
check("the generated range holds only the generated reports", doc["count"], 120)
st, doc = get_json("/api/v1/received?since=not-a-date")
check("bad since: 400", (st, doc), (400, {"error": "since: expected a date (YYYY-MM-DD) or an "
                                                   "RFC 3339 date-time"}))
st, doc = get_json("/api/v1/received?limit=1001")
check("limit over 1000: 400", st, 400)
st, doc = get_json("/api/v1/received?cursor=abc")
check("bad cursor: 400", st, 400)

# ------------------------------------------------------------ one report
st, doc = get_json("/api/v1/received?domain=gen2.example&since=2023-06-02&until=2023-06-03"
                   "&reporter=genrep1.example")
rid = doc["reports"][0]["id"] if doc.get("reports") else 0
st, one = get_json("/api/v1/received/%d" % rid)
g2 = one.get("policies", [{}, {}])[1] if st == 200 else {}
check("one report: fields", (one.get("report_id"), one.get("organization"),
                             one.get("start"), one.get("end"), one.get("submitter")),
      ("gen-1-1@genrep1.example", "Gen Reporter 1", "2023-06-02T00:00:00Z",
       "2023-06-02T23:59:59Z", "genrep1.example"))
check("one report: second policy with its failure detail", g2, {
    "policy_type": "sts", "policy_domain": "gen2.example",
    "policy_strings": ["version: STSv1", "mode: enforce", "mx: mx1.gen2.example",
                       "max_age: 86400"],
    "mx_hosts": ["mx1.gen2.example"], "successes": 51, "failures": 2,
    "failure_details": [{"result_type": "starttls-not-supported", "sending_ip": "192.0.2.9",
                         "receiving_mx": "mx1.gen2.example", "receiving_helo": None,
                         "receiving_ip": "203.0.113.2", "failed_sessions": 2,
                         "additional_info": "seen by <gen> & co", "reason_code": None}]})
ok(b"\\u003cgen\\u003e \\u0026 co" in req("/api/v1/received/%d" % rid, AUTH)[2],
   "one report: < > & escaped in JSON strings")
st, doc = get_json("/api/v1/received/999999")
check("missing report: 404", (st, doc), (404, {"error": "no received report with id 999999"}))

# ------------------------------------------------------------ summaries and groups
st, doc = get_json("/api/v1/received/summary?by=day&domain=gen2.example")
check("summary by day, gen2.example: totals", (doc["total"]["successes"],
                                               doc["total"]["failures"], doc["reports"]),
      (E["gen2"][0], E["gen2"][1], 120))
check("summary by day: 40 days", len(doc["groups"]), 40)
st, doc = get_json("/api/v1/received/summary?by=result-type&domain=gen2.example")
got = {g["key"]: g["failures"] for g in doc["groups"] if g["key"] in wf.RESULTS}
check("summary by result-type: failures per type", got, E["by_type"])
st, doc = get_json("/api/v1/received/summary?by=week")
check("summary by=week: 400", st, 400)
st, doc = get_json("/api/v1/received/groups?by=domain&since=2023-06-01&until=2023-07-11")
got = {g["key"]: [g["reports"], g["successes"], g["failures"]] for g in doc["groups"]}
check("groups by domain: gen.example and gen2.example", got,
      {"gen.example": [120] + E["gen"], "gen2.example": [120] + E["gen2"]})
st, doc = get_json("/api/v1/received/groups?by=day&since=2023-06-01&until=2023-07-11")
got = {g["key"]: [g["successes"], g["failures"]] for g in doc["groups"]}
check("groups by day: 40 days, per-day sums", got, {k: v for k, v in E["days"].items()})
check("groups by day: each day 3 reports (one report, two domains, counted once)",
      set(g["reports"] for g in doc["groups"]), {3})
st, doc = get_json("/api/v1/received/groups?by=failure-ip&domain=gen2.example")
check("groups by failure-ip", {g["key"]: g["failed_sessions"] for g in doc["groups"]},
      E["by_ip"])
st, doc = get_json("/api/v1/received/groups?by=sts-mode&since=2023-06-01&until=2023-07-11")
check("groups by sts-mode", sorted((g["key"], g["key2"]) for g in doc["groups"]),
      [("gen.example", "testing"), ("gen2.example", "enforce")])
st, doc = get_json("/api/v1/received/groups?by=nothing")
check("groups by=nothing: 400", st, 400)
# the aggregate over everything equals the walk-based summary over everything
st, a = get_json("/api/v1/received/summary?by=policy")
st, b = get_json("/api/v1/received/groups?by=domain")
check("groups by domain over all reports: sums equal the summary totals",
      (sum(g["successes"] for g in b["groups"]), sum(g["failures"] for g in b["groups"])),
      (a["total"]["successes"], a["total"]["failures"]))

# ------------------------------------------------------------ outbound
subprocess.run([wf.tlsrpt(), "record", "--socket", os.path.join(TMP, "col.sock"), "--domain",
                "out.example", "--policy", "sts", "--result", "certificate-expired",
                "--count", "3"], capture_output=True)
subprocess.run([wf.tlsrpt(), "record", "--socket", os.path.join(TMP, "col.sock"), "--domain",
                "out.example", "--policy", "sts", "--count", "5"], capture_output=True)
doc = {}
for _ in range(50):
    st, doc = get_json("/api/v1/outbound/counters?domain=out.example")
    if doc.get("count") and doc["counters"][0]["successes"] + doc["counters"][0]["failures"] == 8:
        break
    import time
    time.sleep(0.1)
c = doc.get("counters") or [{}]
check("outbound counters: out.example 5 successes, 3 failures by result type",
      (doc.get("count"), c[0].get("successes"), c[0].get("failures"), c[0].get("details")),
      (1, 5, 3, [{"result_type": "certificate-expired", "count": 3}]))
st, doc = get_json("/api/v1/outbox")
check("outbox: empty list", (st, doc), (200, {"reports": [], "count": 0, "next": None}))
st, doc = get_json("/api/v1/outbox?delivery_state=lost")
check("outbox bad delivery_state: 400", st, 400)

ok(not sec_bad, "security headers on every answer (%d requests)" % 0, "\n".join(sec_bad[:10]))
daemon.terminate()
daemon.wait(timeout=20)
finish()
