#!/usr/bin/python3
# inbound_unsigned.t - report.analysis.accept-unsigned and --accept-unsigned agree.
#
# Key false (default): unsigned mail is stored unverified (left out of summaries).
# Key true: unsigned mail is verified (dkim "none"); a signature that fails (altered body)
# or is misaligned is still unverified; a passing signature is verified.
# --accept-unsigned with the key false: unsigned mail is verified for that run only.
# `tlsrpt config keys` lists the key with its default.
import json
import os
import shutil
import subprocess
import sys

import dkim

sys.path.insert(0, "tests/lib")
from tap import check, finish, ok, run

B = os.environ.get("B", "build")
SHARED = os.environ.get("SHARED", "../shared")
TMP = os.path.join(os.environ.get("TLSRPT_TEST_TMP") or "/tmp", "inbound_unsigned.%d" % os.getpid())
shutil.rmtree(TMP, ignore_errors=True)
os.makedirs(TMP)
TLSRPT = os.path.join(B, "tlsrpt")
DOMAIN = "sender.example"


def path(name):
    return os.path.join(TMP, name)


subprocess.run(["openssl", "genrsa", "-traditional", "-out", path("rsa.pem"), "2048"],
               check=True, capture_output=True)
rec = run(os.path.join(B, "tests/tools/dkim_sign"), "-k", path("rsa.pem"), "-r").stdout.strip()
with open(path("keys.zone"), "w") as f:
    chunks = [rec[i:i + 250] for i in range(0, len(rec), 250)]
    for name in ("rsa._domainkey." + DOMAIN, "rsa._domainkey.other.example"):
        f.write('%s. 300 IN TXT %s\n' % (name, " ".join('"%s"' % c for c in chunks)))

base = open(os.path.join(SHARED, "corpus/sys4/email/report-sts.example.eml"), "rb").read()
base = base.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
key = open(path("rsa.pem"), "rb").read()


def sign(msg, domain=DOMAIN):
    return dkim.sign(msg, b"rsa", domain.encode(), key, canonicalize=(b"relaxed", b"relaxed"),
                     include_headers=[b"from", b"to", b"subject", b"content-type"]) + msg


signed = sign(base)
altered = signed.replace(b"This is an aggregate TLS report", b"This is an aggregate TLS REPORT")
misaligned = sign(base, "other.example")


def conf(name, accept):
    p = path(name + ".toml")
    with open(p, "w") as f:
        f.write('[store]\nbackend = "sqlite"\npath = "%s"\n' % path(name + ".sqlite"))
        if accept is not None:
            f.write('[report.analysis]\naccept-unsigned = %s\n' % accept)
    return p


def ingest(name, accept, msg, *flags):
    for s in ("", "-wal", "-shm"):
        if os.path.exists(path(name + ".sqlite") + s):
            os.unlink(path(name + ".sqlite") + s)
    c = conf(name, accept)
    p = subprocess.run([TLSRPT, "ingest", "--config", c, "--dkim-keys", path("keys.zone")] +
                       list(flags), input=msg, capture_output=True)
    r = run(TLSRPT, "received", "list", "--config", c, "--json", "--include-unverified")
    rows = json.loads(r.stdout) if r.returncode == 0 else []
    verdict = [(x["dkim"], x["verified"]) for x in rows]
    r = run(TLSRPT, "received", "list", "--config", c, "--json")
    listed = len(json.loads(r.stdout)) if r.returncode == 0 else -1
    return p.returncode, verdict, listed


cases = [
    # name, key value, message, flags, want (dkim, verified), listed by default
    ("key unset, unsigned", None, base, [], [("none", False)], 0),
    ("key false, unsigned", "false", base, [], [("none", False)], 0),
    ("key true, unsigned", "true", base, [], [("none", True)], 1),
    ("key true, signed and passing", "true", signed, [], [("pass", True)], 1),
    ("key true, signature fails", "true", altered, [], [("fail", False)], 0),
    ("key true, misaligned signature", "true", misaligned, [], [("misaligned", False)], 0),
    ("key false, --accept-unsigned", "false", base, ["--accept-unsigned"], [("none", True)], 1),
    ("key false, --accept-unsigned, signature fails", "false", altered, ["--accept-unsigned"],
     [("fail", False)], 0),
]
for i, (name, accept, msg, flags, want, listed) in enumerate(cases):
    check(name, ingest("c%d" % i, accept, msg, *flags), (0, want, listed))

r = run(TLSRPT, "config", "keys")
lines = r.stdout.splitlines()
at = [i for i, l in enumerate(lines) if l == "# report.analysis.accept-unsigned: boolean"]
check("config keys lists report.analysis.accept-unsigned, default false",
      lines[at[0] + 2] if len(at) == 1 else at, "#   default: false")
finish()
