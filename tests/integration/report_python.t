#!/usr/bin/python3
# report_python.t - an independent reader for our JSON writer: Python's json module.
#
# 1. Every corpus report that we accept is written back by `tlsrpt report show --json`;
#    Python parses it (duplicate keys refused) and checks RFC 8460 section 4.4 names,
#    types, key order, arrays for mx-host / policy-string, no null and no "", dates as
#    YYYY-MM-DDThh:mm:ssZ, integers within 2^53-1.
# 2. Python builds clean reports (control characters, quotes, non-ASCII, many policies,
#    every result type), our reader + writer round-trip them, and Python finds exactly
#    the dict it wrote.
import gzip
import json
import os
import re
import subprocess
import sys

B = os.environ.get("B", "build")
SHARED = os.environ.get("SHARED", "../shared")
TMP = os.environ.get("TLSRPT_TEST_TMP", "/tmp")
TLSRPT = os.path.join(B, "tlsrpt")

TOP = ["organization-name", "date-range", "contact-info", "report-id", "policies"]
POLICY = ["policy-type", "policy-string", "policy-domain", "mx-host"]
SUMMARY = ["total-successful-session-count", "total-failure-session-count"]
FAILURE = ["result-type", "sending-mta-ip", "receiving-mx-hostname", "receiving-mx-helo",
           "receiving-ip", "failed-session-count", "additional-information",
           "failure-reason-code"]
RESULT_TYPES = ["starttls-not-supported", "certificate-host-mismatch", "certificate-expired",
                "certificate-not-trusted", "validation-failure", "tlsa-invalid",
                "dnssec-invalid", "dane-required", "sts-policy-fetch-error",
                "sts-policy-invalid", "sts-webpki-invalid"]
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")

results = []


def ok(cond, name):
    results.append((bool(cond), name))


def no_dupes(pairs):
    keys = [k for k, _ in pairs]
    if len(keys) != len(set(keys)):
        raise ValueError("duplicate key in %r" % keys)
    return dict(pairs)


def ordered_subset(keys, order):
    pos = [order.index(k) for k in keys if k in order]
    return all(k in order for k in keys) and pos == sorted(pos)


def check(raw):
    """Returns the list of problems in the JSON text raw."""
    bad = []
    doc = json.loads(raw, object_pairs_hook=no_dupes)
    # key order needs the raw pairs
    order = json.loads(raw, object_pairs_hook=lambda p: [k for k, _ in p] and p)

    def is_str(v):
        return isinstance(v, str) and v != ""

    def is_int(v):
        return isinstance(v, int) and not isinstance(v, bool) and 0 <= v <= 2**53 - 1

    if not ordered_subset([k for k, _ in order], TOP):
        bad.append("top-level keys/order %r" % [k for k, _ in order])
    for k in ("organization-name", "contact-info", "report-id"):
        if k in doc and not is_str(doc[k]):
            bad.append("%s not a non-empty string" % k)
    dr = doc.get("date-range")
    if not isinstance(dr, dict) or list(dr) != ["start-datetime", "end-datetime"]:
        bad.append("date-range %r" % dr)
    else:
        for k, v in dr.items():
            if not isinstance(v, str) or not DATE.match(v):
                bad.append("%s %r" % (k, v))
    pols = doc.get("policies")
    if not isinstance(pols, list) or not pols:
        bad.append("policies not a non-empty array")
        return bad
    for i, p in enumerate(pols):
        keys = list(p)
        if keys[:2] != ["policy", "summary"] or not ordered_subset(
                keys, ["policy", "summary", "failure-details"]):
            bad.append("policies[%d] keys %r" % (i, keys))
        pol = p["policy"]
        if not ordered_subset(list(pol), POLICY):
            bad.append("policies[%d].policy keys %r" % (i, list(pol)))
        for k in ("policy-string", "mx-host"):
            if k in pol and (not isinstance(pol[k], list) or not pol[k] or
                             not all(is_str(s) for s in pol[k])):
                bad.append("policies[%d].policy.%s %r" % (i, k, pol[k]))
        if pol.get("policy-type") == "no-policy-found" and "policy-string" in pol:
            bad.append("policies[%d]: policy-string with no-policy-found" % i)
        for k in ("policy-type", "policy-domain"):
            if k in pol and not is_str(pol[k]):
                bad.append("policies[%d].policy.%s" % (i, k))
        if list(p["summary"]) != SUMMARY or not all(is_int(v) for v in p["summary"].values()):
            bad.append("policies[%d].summary %r" % (i, p["summary"]))
        fds = p.get("failure-details")
        if fds is not None and (not isinstance(fds, list) or not fds):
            bad.append("policies[%d].failure-details empty or not an array" % i)
        for j, f in enumerate(fds or []):
            if not ordered_subset(list(f), FAILURE) or "result-type" not in f:
                bad.append("failure %d.%d keys %r" % (i, j, list(f)))
            for k, v in f.items():
                if k == "failed-session-count":
                    if not is_int(v):
                        bad.append("failure %d.%d count %r" % (i, j, v))
                elif not is_str(v):
                    bad.append("failure %d.%d %s %r" % (i, j, k, v))
    return bad


def show_json(path):
    r = subprocess.run([TLSRPT, "report", "show", "--json", path], capture_output=True)
    return r.returncode, r.stdout


# 1. the corpus through our writer
corpus = os.path.join(SHARED, "corpus")
files = []
for sub in ("real", "stalwart", "sys4/reports", "sys4/http"):
    for root, _, names in os.walk(os.path.join(corpus, sub)):
        files += [os.path.join(root, n) for n in names if n.endswith((".json", ".gz"))]
files.sort()
accepted = 0
for path in files:
    rc, out = show_json(path)
    if rc != 0:
        continue
    accepted += 1
    try:
        bad = check(out.decode("utf-8"))
    except ValueError as e:
        bad = [str(e)]
    ok(not bad, "%s: our output is RFC 8460 JSON %s" % (os.path.relpath(path, corpus),
                                                       "; ".join(bad[:3])))
ok(accepted == 40, "40 corpus reports accepted (got %d)" % accepted)

# 2. Python-built reports round-trip unchanged through our reader and writer
def make(n_policies, seed):
    odd = "q\"uote\\ back\u0001\u001f\x7f tab\t nl\n \u00e4\u20ac\U0001F600 </script>"
    pols = []
    for i in range(n_policies):
        kind = ["sts", "tlsa", "no-policy-found"][i % 3]
        pol = {"policy-type": kind}
        if kind == "sts":
            pol["policy-string"] = ["version: STSv1", "mode: enforce", "mx: *.d%d.example" % i,
                                    "max_age: 604800"]
        elif kind == "tlsa":
            pol["policy-string"] = ["3 1 1 %064X" % (seed * 7919 + i)]
        pol["policy-domain"] = "d%d.example" % i
        if kind == "sts":
            pol["mx-host"] = ["*.d%d.example" % i]
        entry = {"policy": pol, "summary": {"total-successful-session-count": i * 1000 + seed,
                                            "total-failure-session-count": 0}}
        fds = []
        for k, rt in enumerate(RESULT_TYPES[: (i % 4) * 3]):
            fd = {"result-type": rt, "sending-mta-ip": "192.0.2.%d" % (k + 1),
                  "receiving-mx-hostname": "mx%d.d%d.example" % (k, i)}
            if k % 2:
                fd["receiving-mx-helo"] = odd
            fd["receiving-ip"] = "2001:db8::%x" % (k + 1)
            fd["failed-session-count"] = 2**53 - 1 if k == 0 else k + 1
            if k % 3 == 0:
                fd["additional-information"] = "https://r.example/%d?x=%s" % (k, odd)
            if k % 2 == 0:
                fd["failure-reason-code"] = odd
            fds.append(fd)
        if fds:
            entry["summary"]["total-failure-session-count"] = len(fds)
            entry["failure-details"] = fds
        pols.append(entry)
    return {"organization-name": "Py Org " + odd,
            "date-range": {"start-datetime": "2026-11-28T00:00:00Z",
                           "end-datetime": "2026-11-28T23:59:59Z"},
            "contact-info": "tlsrpt@py.example",
            "report-id": "20261128T000000Z.py.example.%d@py.example" % seed,
            "policies": pols}


for seed, n in ((1, 1), (2, 7), (3, 60)):
    doc = make(n, seed)
    path = os.path.join(TMP, "py-%d.json" % seed)
    # ensure_ascii=True: \u escapes (including surrogate pairs) must decode too
    with open(path, "w") as fh:
        json.dump(doc, fh, ensure_ascii=(seed % 2 == 1), indent=1 if seed == 2 else None)
    rc, out = show_json(path)
    ok(rc == 0, "python report %d (%d policies) accepted" % (seed, n))
    try:
        back = json.loads(out.decode("utf-8"), object_pairs_hook=no_dupes)
        bad = check(out.decode("utf-8"))
    except ValueError as e:
        back, bad = None, [str(e)]
    ok(not bad, "python report %d: our output is RFC 8460 JSON %s" % (seed, "; ".join(bad[:3])))
    ok(back == doc, "python report %d: round trip gives the same document" % seed)
    # the same report gzip-compressed is sniffed and read the same
    gz = path + ".bin"
    with open(gz, "wb") as fh:
        fh.write(gzip.compress(json.dumps(doc).encode()))
    rc, out2 = show_json(gz)
    ok(rc == 0 and out2 == out, "python report %d: gzip input gives the same output" % seed)

print("1..%d" % len(results))
for i, (good, name) in enumerate(results, 1):
    print("%s %d - %s" % ("ok" if good else "not ok", i, name))
sys.exit(0)
