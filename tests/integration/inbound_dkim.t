#!/usr/bin/python3
# inbound_dkim.t - DKIM verdicts of `tlsrpt ingest` on report mail signed by Debian's
# python3-dkim (dkimpy), keys served offline through --dkim-keys (zone-file lines
# loaded as local DNS data).
#
# rsa-sha256 and ed25519-sha256 signatures aligned with TLS-Report-Submitter verify
# ("pass", verified, counted in summaries); an altered body ("fail"), an altered signed
# header ("fail"), l= ("permerror"), a key with s=email ("permerror"), a misaligned d=
# ("misaligned"), an unknown selector ("permerror") and unsigned mail ("none") are stored
# unverified and left out of summaries unless --include-unverified; --accept-unsigned
# makes unsigned mail verified; a verified copy upgrades an unverified duplicate.
import base64
import json
import os
import subprocess

import dkim

B = os.environ.get("B", "build")
SHARED = os.environ.get("SHARED", "../shared")
TMP = os.path.join(os.environ.get("TLSRPT_TEST_TMP") or "/tmp", "inbound_dkim.%d" % os.getpid())
os.makedirs(TMP, exist_ok=True)
TLSRPT = os.path.join(B, "tlsrpt") if B.startswith("/") else os.path.join(os.getcwd(), B, "tlsrpt")
SIGN = os.path.join(B, "tests/tools/dkim_sign")
DOMAIN = "sender.example"

results = []


def ok(cond, name, diag=""):
    results.append((bool(cond), name, diag))


def path(name):
    return os.path.join(TMP, name)


def run(*args, stdin=None):
    p = subprocess.run(list(args), input=stdin, capture_output=True)
    return p.returncode, p.stdout.decode(), p.stderr.decode()


subprocess.run(["openssl", "genpkey", "-algorithm", "ed25519", "-out", path("ed.pem")],
               check=True, capture_output=True)
subprocess.run(["openssl", "genrsa", "-traditional", "-out", path("rsa.pem"), "2048"],
               check=True, capture_output=True)
records = {}
for alg in ("ed", "rsa"):
    rc, out, err = run(SIGN, "-k", path(alg + ".pem"), "-r")
    records[alg] = out.strip()
der = subprocess.run(["openssl", "pkey", "-in", path("ed.pem"), "-outform", "DER"],
                     check=True, capture_output=True).stdout
ed_seed_b64 = base64.b64encode(der[-32:])
rsa_pem = open(path("rsa.pem"), "rb").read()


def zone_line(name, txt):
    chunks = [txt[i:i + 250] for i in range(0, len(txt), 250)]
    return '%s. 300 IN TXT %s\n' % (name, " ".join('"%s"' % c for c in chunks))


keys = path("keys.zone")
with open(keys, "w") as f:
    f.write("# DKIM keys for the test\n")
    f.write(zone_line("rsa._domainkey." + DOMAIN, records["rsa"]))
    f.write(zone_line("ed._domainkey." + DOMAIN, records["ed"]))
    f.write(zone_line("restricted._domainkey." + DOMAIN, records["ed"] + "; s=email"))
    f.write(zone_line("ed._domainkey.other.example", records["ed"]))

SIGNED = [b"from", b"to", b"subject", b"message-id", b"mime-version", b"content-type",
          b"tls-report-domain", b"tls-report-submitter"]


def sign(msg, alg, domain=DOMAIN, selector=None, length=False):
    key, a = (ed_seed_b64, b"ed25519-sha256") if alg == "ed" else (rsa_pem, b"rsa-sha256")
    return dkim.sign(msg, (selector or alg).encode(), domain.encode(), key,
                     canonicalize=(b"relaxed", b"relaxed"), signature_algorithm=a,
                     include_headers=SIGNED, length=length) + msg


base = open(os.path.join(SHARED, "corpus/sys4/email/report-sts.example.eml"), "rb").read()
base = base.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
rsa_msg = sign(base, "rsa")
ed_msg = sign(base, "ed")
altered_body = ed_msg.replace(b"This is an aggregate TLS report", b"This is an aggregate TLS REPORT")
altered_hdr = ed_msg.replace(b"To: tlsrpt@sts.example", b"To: tlsrpt@evil.example")

cases = [
    ("rsa-sha256 aligned", rsa_msg, "pass", True),
    ("ed25519-sha256 aligned", ed_msg, "pass", True),
    ("altered body", altered_body, "fail", False),
    ("altered signed header", altered_hdr, "fail", False),
    ("l= body length", sign(base, "ed", length=True), "permerror", False),
    ("key s=email", sign(base, "ed", selector="restricted"), "permerror", False),
    ("misaligned d=", sign(base, "ed", domain="other.example"), "misaligned", False),
    ("unknown selector", sign(base, "ed", selector="nosuch"), "permerror", False),
    ("unsigned", base, "none", False),
]


def fresh(name):
    db = path(name + ".sqlite")
    for s in ("", "-wal", "-shm"):
        if os.path.exists(db + s):
            os.unlink(db + s)
    return db


def listing(db, *extra):
    rc, out, err = run(TLSRPT, "received", "list", "--store", db, "--json", *extra)
    return json.loads(out) if rc == 0 else None


for name, msg, want, verified in cases:
    db = fresh("case")
    rc, out, err = run(TLSRPT, "ingest", "--store", db, "--dkim-keys", keys, stdin=msg)
    ok(rc == 0 and err == "tlsrpt: ingest: <stdin>: 1 stored, 0 duplicates (dkim %s)\n" % want,
       "%s: stored, dkim %s" % (name, want), "got rc=%d %r" % (rc, err))
    rows = listing(db, "--include-unverified")
    ok(rows and rows[0]["dkim"] == want and rows[0]["verified"] == verified,
       "%s: verdict %s, verified %s" % (name, want, verified), "got %r" % rows)
    rows = listing(db)
    ok(rows is not None and len(rows) == (1 if verified else 0),
       "%s: %s summaries by default" % (name, "in" if verified else "left out of"),
       "got %r" % rows)
    if name == "l= body length":
        rc, out, err = run(TLSRPT, "received", "show", "--store", db, "1")
        ok("l=" in out and "dkim:         permerror" in out, "l=: show names the reason",
           "got %r" % out)

db = fresh("unsigned")
rc, out, err = run(TLSRPT, "ingest", "--store", db, "--dkim-keys", keys, "--accept-unsigned",
                   stdin=base)
rows = listing(db)
ok(rc == 0 and rows and rows[0]["dkim"] == "none" and rows[0]["verified"],
   "--accept-unsigned: unsigned mail is verified", "got %r" % rows)

db = fresh("upgrade")
run(TLSRPT, "ingest", "--store", db, "--dkim-keys", keys, stdin=altered_body)
rc, out, err = run(TLSRPT, "ingest", "--store", db, "--dkim-keys", keys, stdin=ed_msg)
rows = listing(db)
ok(rc == 0 and "0 stored, 1 duplicate (dkim pass)" in err and rows and
   rows[0]["verified"] and rows[0]["dkim"] == "pass" and rows[0]["sightings"] == 2,
   "a verified copy upgrades the unverified duplicate", "got %r %r" % (err, rows))

print("1..%d" % len(results))
for i, (good, name, diag) in enumerate(results, 1):
    print("%s %d - %s" % ("ok" if good else "not ok", i, name))
    if not good and diag:
        print("# " + diag.replace("\n", "\n# ")[:2000])
