#!/usr/bin/python3
# outbound_sys4.t - the sys4 sample datagrams (corpus/sys4/datagrams/samples.jsonl),
# collected by our collector and built into reports by `tlsrpt outbox preview`, give
# the same policies, summaries and failure details as the reference reporter's
# reports (corpus/sys4/reports/report-*.json), except where the reference is wrong.
#
# Compared: per policy (policy-type, policy-string, policy-domain, mx-host), the two
# summary counts, and the set of failure details.  Not compared (ours differ by
# design): organization-name, contact-info, report-id (ours is a msg-id body:
# 20261129T000000Z.sts.example.1@mx.example.org, theirs 2026-11-28T00:00:00Z_idx1_...),
# date-range (the day the samples are received), key order and JSON escaping.
# Differences where the reference is wrong (listed, checked to be exactly these):
#   nopolicy.example: the reference omits policy-domain (RFC 8460 section 4.4 requires
#     it; sys4/tlsrpt-reporter#51); ours has "policy-domain":"nopolicy.example".
#   every success-only policy: the reference writes "failure-details": []; ours omits
#     the empty member (RFC 8460 lists failure-details as optional; an empty array is
#     quirk Q11 on the receiving side).
import json, os, socket, subprocess, sys, time

B = os.environ.get("B", "build")
SHARED = os.environ.get("SHARED", "../shared")
TMP = os.environ.get("TLSRPT_TEST_TMP", "/tmp")
work = os.path.join(TMP, "outbound_sys4")
os.makedirs(work, exist_ok=True)
sock = os.path.join(work, "c.sock")
db = os.path.join(work, "c.db")
for f in (db, db + "-wal", db + "-shm"):
    if os.path.exists(f):
        os.unlink(f)
conf = os.path.join(work, "t.toml")
with open(conf, "w") as f:
    f.write("[report]\nsubmitter = \"'mx.example.org'\"\n[report.tls.aggregate]\n"
            "org-name = \"'Example Org'\"\nfrom-address = \"'noreply-tls@example.org'\"\n"
            "sign = []\n")
REF = os.path.join(SHARED, "corpus/sys4/reports")
n = 0


def ok(cond, name, diag=None):
    global n
    n += 1
    print(("ok %d - %s" if cond else "not ok %d - %s") % (n, name))
    if not cond and diag:
        for l in str(diag).splitlines():
            print("# " + l)


domains = sorted(f[len("report-"):-len(".json")] for f in os.listdir(REF))
print("1..%d" % (2 + 2 * len(domains)))
proc = subprocess.Popen([B + "/tests/tools/collectord", "--socket", sock, "--store", db,
                         "--flush-ms", "100", "--period", "daily"],
                        stdout=subprocess.PIPE, stderr=subprocess.PIPE)
ready = proc.stdout.readline().decode().strip()
ok(ready == "ready", "collector starts")
with open(os.path.join(SHARED, "corpus/sys4/datagrams/samples.jsonl"), "rb") as f:
    for line in f.read().split(b"\n"):
        if line:
            s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
            s.sendto(line, sock)
            s.close()
time.sleep(0.4)
proc.terminate()
ok(proc.wait(timeout=20) == 0, "collector stops cleanly")


def norm_failure(fd):
    return json.dumps(fd, sort_keys=True)


def norm(report):
    out = []
    for p in report["policies"]:
        pol = dict(p["policy"])
        out.append((json.dumps(pol, sort_keys=True), p["summary"]["total-successful-session-count"],
                    p["summary"]["total-failure-session-count"],
                    sorted(norm_failure(x) for x in p.get("failure-details", []))))
    return sorted(out)


for d in domains:
    with open(os.path.join(REF, "report-%s.json" % d)) as f:
        ref = json.load(f)
    r = subprocess.run([B + "/tlsrpt", "outbox", "preview", "--config", conf, "--store", db,
                        "--domain", d], capture_output=True)
    lines = [l for l in r.stdout.decode().split("\n") if l]
    ok(r.returncode == 0 and len(lines) == 1, "%s: one report built and validated" % d,
       r.stderr.decode())
    if not lines:
        ok(False, "%s: same content as the reference" % d)
        continue
    ours = json.loads(lines[0])
    # the known defects of the reference, corrected before comparing
    expected_diffs = []
    for p in ref["policies"]:
        if "policy-domain" not in p["policy"]:
            p["policy"]["policy-domain"] = d
            expected_diffs.append("reference lacks policy-domain")
        if p.get("failure-details") == []:
            del p["failure-details"]
            expected_diffs.append("reference writes failure-details: []")
    a, b = norm(ours), norm(ref)
    ok(a == b, "%s: same policies, counts and failure details as the reference (after: %s)"
       % (d, "; ".join(sorted(set(expected_diffs))) or "no corrections"),
       "ours: %s\nref:  %s" % (json.dumps(a, indent=1), json.dumps(b, indent=1)))
