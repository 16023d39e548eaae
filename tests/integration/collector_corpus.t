#!/usr/bin/python3
# collector_corpus.t - the sys4 sample datagrams produce exactly the counters the
# reference collector stored (corpus/sys4/collectd/*.tsv), and the datagrams that kill
# the reference collector are rejected (or, for the Latin-1 EHLO, repaired) and
# counted while the collector keeps serving.
#
# Mapping of the reference's keys to ours: day -> windows.start (daily; we date by
# receive time, so the day is today's, not 2026-11-28); domain -> windows.domain;
# tlsrptrecord -> windows.record; policy JSON (libtlsrpt numbers) -> policies.key
# (RFC 8460 names: policy-type 1/2/9 -> tlsa/sts/no-policy-found); cntrtotal ->
# success+failure, cntrfailure -> failure; failure reason JSON (c,s,n,h,r,a,f) ->
# failure_details.key (result-type, sending-mta-ip, receiving-mx-hostname,
# receiving-mx-helo, receiving-ip, additional-information, failure-reason-code).
# Intentional difference: a policy without policy-domain gets policy-domain = d
# (the reference stores {"policy-type": 9} without it; RFC 8460 requires it).
import json, os, socket, sqlite3, subprocess, sys, time

B = os.environ.get("B", "build")
SHARED = os.environ.get("SHARED", "../shared")
TMP = os.environ.get("TLSRPT_TEST_TMP", "/tmp")
work = os.path.join(TMP, "collector_corpus")
os.makedirs(work, exist_ok=True)
sock = os.path.join(work, "c.sock")
db = os.path.join(work, "c.db")
dumps = os.path.join(work, "dumps")
os.makedirs(dumps, exist_ok=True)
stats_path = os.path.join(work, "stats")
DG = os.path.join(SHARED, "corpus/sys4/datagrams")
CD = os.path.join(SHARED, "corpus/sys4/collectd")

n = 0
fails = 0
def ok(cond, name, diag=None):
    global n, fails
    n += 1
    if cond:
        print("ok %d - %s" % (n, name))
    else:
        fails += 1
        print("not ok %d - %s" % (n, name))
        if diag:
            for l in str(diag).splitlines():
                print("# " + l)

print("1..12")
proc = subprocess.Popen([B + "/tests/tools/collectord", "--socket", sock, "--store", db,
                         "--flush-ms", "200", "--period", "daily", "--dump-dir", dumps,
                         "--stats", stats_path], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
ready = proc.stdout.readline().decode().strip()
ok(ready == "ready", "collector starts", ready + proc.stderr.read().decode() if ready != "ready" else None)

def send(data):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 1 << 20)
    s.sendto(data, sock)
    s.close()

def rd(name):
    with open(os.path.join(DG, name), "rb") as f:
        return f.read()

samples = [l for l in rd("samples.jsonl").split(b"\n") if l]
killers = [rd("invalid-json.bin"), rd("json-number.bin"), rd("policies-not-objects.json")]
extra_bad = [b"", b"[1,2]", b'{"dpv":"1","d":"x","pr":"y","policies":[{"policy-type":7,"t":0,"f":0}]}',
             b'{"dpv":"1","d":"x","pr":"y","policies":[{"policy-type":2,"failure-details":[{"c":999}],"t":1,"f":1}]}',
             b'{"dpv":"2","d":"x","pr":"y","policies":[{"policy-type":9,"t":0,"f":0}]}',
             b'{"d":"\xff","pr":"y","policies":[{"policy-type":9,"t":0,"f":0}]}',
             b"{" + b" " * 70000 + b"}"]
# interleave: a killer before each of the first samples
order = []
for i, s in enumerate(samples):
    if i < len(killers):
        order.append(killers[i])
    if i < len(extra_bad):
        order.append(extra_bad[i])
    order.append(s)
order.append(rd("invalid-utf8-ehlo.bin"))
for d in order:
    send(d)
time.sleep(0.5)
proc.terminate()
rc = proc.wait(timeout=20)
err = proc.stderr.read().decode()
ok(rc == 0, "collector exits 0 on SIGTERM", err)
ok(not os.path.exists(sock), "socket file removed at clean shutdown")

stats = {}
with open(stats_path) as f:
    for l in f:
        k, v = l.strip().split("=", 1)
        stats[k] = int(v)
want_rej = {"rejected_syntax": 1, "rejected_not_object": 2, "rejected_type": 1,
            "rejected_empty": 1, "rejected_policy_type": 1, "rejected_result_code": 1,
            "rejected_dpv": 1, "rejected_utf8": 1, "rejected_oversize": 1}
got_rej = {k: stats.get(k) for k in want_rej}
ok(got_rej == want_rej, "each rejection counted by reason", "got %s, want %s" % (got_rej, want_rej))
ok(stats["accepted"] == len(samples) + 1, "all samples and the Latin-1 datagram accepted",
   "got %d, want %d" % (stats["accepted"], len(samples) + 1))
ok(len(os.listdir(dumps)) == sum(want_rej.values()), "rejected datagrams dumped",
   "got %d files" % len(os.listdir(dumps)))
ok("reason=syntax" in err and "excerpt=" in err, "rejection logged with excerpt", err[-2000:])

ptype = {1: "tlsa", 2: "sts", 9: "no-policy-found"}
fmap = {"s": "sending-mta-ip", "n": "receiving-mx-hostname", "h": "receiving-mx-helo",
        "r": "receiving-ip", "a": "additional-information", "f": "failure-reason-code"}
RES = {201: "starttls-not-supported", 202: "certificate-host-mismatch", 203: "certificate-not-trusted",
       204: "certificate-expired", 205: "validation-failure", 301: "sts-policy-fetch-error",
       302: "sts-policy-invalid", 303: "sts-webpki-invalid", 304: "tlsa-invalid",
       305: "dnssec-invalid", 306: "dane-required"}
def map_policy(p, domain):
    out = {"policy-type": ptype[p["policy-type"]], "policy-domain": p.get("policy-domain", domain)}
    for k in ("policy-string", "mx-host"):
        if k in p:
            out[k] = p[k]
    return out
def map_detail(d):
    out = {"result-type": RES[d["c"]]}
    for k, v in d.items():
        if k != "c":
            out[fmap[k]] = v
    return out
def canon(o):
    return json.dumps(o, sort_keys=True)

want_sess = {}
with open(os.path.join(CD, "finalresults.tsv")) as f:
    next(f)
    for l in f:
        day, dom, rec, pol, tot, fail, its = l.rstrip("\n").split("\t")
        key = (dom, rec, canon(map_policy(json.loads(pol), dom)))
        want_sess[key] = (int(tot) - int(fail), int(fail))
want_fail = {}
with open(os.path.join(CD, "failures.tsv")) as f:
    next(f)
    for l in f:
        day, dom, rec, pol, reason, cnt = l.rstrip("\n").split("\t")
        key = (dom, rec, canon(map_policy(json.loads(pol), dom)), canon(map_detail(json.loads(reason))))
        want_fail[key] = int(cnt)

con = sqlite3.connect(db)
today = int(time.time()) // 86400 * 86400
rows = con.execute("SELECT w.period, w.start, w.domain, w.record, p.key, c.success, c.failure "
                   "FROM session_counts c JOIN windows w ON w.id=c.window_id "
                   "JOIN policies p ON p.id=c.policy_id").fetchall()
ok(all(r[0] == 2 and r[1] in (today, today - 86400) for r in rows), "daily windows dated by receive time",
   rows)
got_sess = {(r[2], r[3], canon(json.loads(r[4]))): (r[5], r[6]) for r in rows if r[2] != "latin1.example"}
ok(got_sess == want_sess, "session counters equal the reference's finalresults.tsv",
   "got %s\nwant %s" % (got_sess, want_sess))
frows = con.execute("SELECT w.domain, w.record, p.key, d.key, f.count FROM failure_counts f "
                    "JOIN windows w ON w.id=f.window_id JOIN policies p ON p.id=f.policy_id "
                    "JOIN failure_details d ON d.id=f.detail_id").fetchall()
got_fail = {(r[0], r[1], canon(json.loads(r[2])), canon(json.loads(r[3]))): r[4]
            for r in frows if r[0] != "latin1.example"}
ok(got_fail == want_fail, "failure counters equal the reference's failures.tsv",
   "got %s\nwant %s" % (got_fail, want_fail))
lat = [json.loads(r[3]) for r in frows if r[0] == "latin1.example"]
want_lat = [{"result-type": "starttls-not-supported", "sending-mta-ip": "192.0.2.1",
             "receiving-mx-hostname": "mx.latin1.example",
             "receiving-mx-helo": "mx.latin1.example Gr\ufffd\ufffd Gott", "receiving-ip": "203.0.113.1"}]
ok(lat == want_lat, "Latin-1 EHLO repaired with U+FFFD and counted", "got %s, want %s" % (lat, want_lat))
ver, rows = con.execute("SELECT max(version), count(*) FROM schema_version").fetchone()
ok(ver >= 1 and ver == rows, "schema version recorded once per migration", (ver, rows))
sys.exit(1 if fails else 0)
