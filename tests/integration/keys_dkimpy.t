#!/usr/bin/python3
# keys_dkimpy.t - keys made by `tlsrpt dkim keygen` work with Debian's python3-dkim
# (dkimpy): a report signed by our signer with the generated key (rsa, ed25519) verifies
# with dkimpy given the printed DNS record (its character-strings joined), a tampered one
# does not, and dkimpy itself signs with the generated RSA PEM and verifies against it.
import os
import re
import shutil
import subprocess

import dkim

B = os.environ.get("B", "build")
TMP = os.path.join(os.environ.get("TLSRPT_TEST_TMP") or "/tmp", "keys_dkimpy.%d" % os.getpid())
TLSRPT = os.path.join(B, "tlsrpt")
SIGN = os.path.join(B, "tests/tools/dkim_sign")
DOMAIN = "mail.sender.example"
MSG = open("tests/data/mail/report.eml", "rb").read()

results = []


def ok(cond, name, diag=""):
    results.append((bool(cond), name, diag))


shutil.rmtree(TMP, ignore_errors=True)
os.makedirs(TMP)
records = {}
for alg in ("rsa", "ed25519"):
    key = os.path.join(TMP, alg + ".pem")
    p = subprocess.run([TLSRPT, "dkim", "keygen", "--algorithm", alg, "--domain", DOMAIN,
                        "--selector", alg, "--out", key], capture_output=True)
    line = [l for l in p.stdout.decode().splitlines() if "._domainkey." in l]
    ok(p.returncode == 0 and len(line) == 1, "keygen %s exits 0 and prints one record" % alg,
       p.stderr.decode())
    if not line:
        continue
    owner = line[0].split()[0]
    ok(owner == "%s._domainkey.%s." % (alg, DOMAIN), "%s record owner name" % alg,
       "got %s" % owner)
    records[owner.rstrip(".")] = "".join(re.findall(r'"([^"]*)"', line[0])).encode()


def dns(name, timeout=5):
    return records.get(name.decode().rstrip("."))


with open(os.path.join(TMP, "in.eml"), "wb") as f:
    f.write(MSG)
for alg in ("rsa", "ed25519"):
    p = subprocess.run([SIGN, "-k", os.path.join(TMP, alg + ".pem"), "-d", DOMAIN, "-s", alg,
                        "-c", "relaxed/relaxed", os.path.join(TMP, "in.eml")],
                       capture_output=True)
    signed = p.stdout
    ok(p.returncode == 0 and dkim.verify(signed, dnsfunc=dns),
       "dkimpy verifies our %s signature made with the keygen key" % alg, p.stderr.decode())
    tampered = signed.replace(b"Policy domain: example.net", b"Policy domain: example.org")
    ok(tampered != signed and not dkim.verify(tampered, dnsfunc=dns),
       "dkimpy rejects it after a body change (%s)" % alg)

pem = open(os.path.join(TMP, "rsa.pem"), "rb").read()
sig = dkim.sign(MSG, b"rsa", DOMAIN.encode(), pem, canonicalize=(b"relaxed", b"relaxed"))
ok(dkim.verify(sig + MSG, dnsfunc=dns), "dkimpy signs with the keygen RSA PEM and verifies")

print("1..%d" % len(results))
for i, (good, name, diag) in enumerate(results, 1):
    print("%s %d - %s" % ("ok" if good else "not ok", i, name))
    if not good and diag:
        for l in diag.strip().splitlines()[:5]:
            print("# " + l)
shutil.rmtree(TMP, ignore_errors=True)
