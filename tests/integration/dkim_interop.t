#!/usr/bin/python3
# dkim_interop.t - our DKIM signer and verifier against Debian's python3-dkim (dkimpy).
#
# (1) messages we sign (rsa-sha256, ed25519-sha256; relaxed and simple) verify with
#     dkimpy given our TXT records;
# (2) messages dkimpy signs (rsa, ed25519) verify with our verifier;
# (3) altered body, altered signed header, l=, a key with s=email and a misaligned d=
#     give the right verdicts (ours, and dkimpy agrees where it has an opinion).
# Keys are generated with the openssl CLI into $TLSRPT_TEST_TMP.  Drivers:
# $B/tests/tools/dkim_sign and dkim_verify.
import base64
import os
import subprocess
import sys

import dkim

B = os.environ.get("B", "build")
SHARED = os.environ.get("SHARED", "../shared")
TMP = os.environ.get("TLSRPT_TEST_TMP") or "/tmp"
SIGN = os.path.join(B, "tests/tools/dkim_sign")
VERIFY = os.path.join(B, "tests/tools/dkim_verify")
DOMAIN = "mail.sender.example"

results = []


def ok(cond, name, diag=""):
    results.append((bool(cond), name, diag))


def run(*args, stdin=None):
    p = subprocess.run(list(args), input=stdin, capture_output=True)
    return p.returncode, p.stdout, p.stderr


def path(name):
    return os.path.join(TMP, name)


# ---------------------------------------------------------------- keys
subprocess.run(["openssl", "genpkey", "-algorithm", "ed25519", "-out", path("ed.pem")],
               check=True, capture_output=True)
subprocess.run(["openssl", "genrsa", "-traditional", "-out", path("rsa.pem"), "2048"],
               check=True, capture_output=True)
records = {}
for alg in ("ed", "rsa"):
    rc, out, err = run(SIGN, "-k", path(alg + ".pem"), "-r")
    if rc != 0:
        print("1..1\nnot ok 1 - dkim_sign -r failed: %s" % err.decode())
        sys.exit(0)
    records[alg] = out.strip()
    with open(path(alg + ".txt"), "wb") as f:
        f.write(records[alg])
# dkimpy wants the raw Ed25519 seed, base64: the last 32 bytes of the PKCS#8 DER
der = subprocess.run(["openssl", "pkey", "-in", path("ed.pem"), "-outform", "DER"],
                     check=True, capture_output=True).stdout
ed_seed_b64 = base64.b64encode(der[-32:])
rsa_pem = open(path("rsa.pem"), "rb").read()


def dnsfunc_for(recs):
    def f(name, timeout=5):
        return recs.get(name.decode().rstrip("."))
    return f


dns = dnsfunc_for({
    "ed._domainkey." + DOMAIN: records["ed"],
    "rsa._domainkey." + DOMAIN: records["rsa"],
})

messages = {
    "composed report": open("tests/data/mail/report.eml", "rb").read(),
    "sys4 report": open(os.path.join(SHARED, "corpus/sys4/email/report-sts.example.eml"),
                        "rb").read(),
}

# ---------------------------------------------------------------- (1) we sign, dkimpy verifies
for mname, msg in messages.items():
    with open(path("in.eml"), "wb") as f:
        f.write(msg)
    for alg in ("rsa", "ed"):
        for canon in ("relaxed/relaxed", "simple/simple"):
            rc, signed, err = run(SIGN, "-k", path(alg + ".pem"), "-d", DOMAIN, "-s", alg,
                                  "-c", canon, "-t", "1795924800", "-x", "864000000",
                                  path("in.eml"))
            good = rc == 0 and dkim.verify(signed, dnsfunc=dns)
            ok(good, "dkimpy verifies our %s %s signature on the %s" %
               ("rsa-sha256" if alg == "rsa" else "ed25519-sha256", canon, mname),
               err.decode())
            if alg == "ed" and canon == "relaxed/relaxed" and mname == "composed report":
                ours_signed = signed

# our signature, then tampered: dkimpy must reject it too
tampered = ours_signed.replace(b"Policy domain: example.net", b"Policy domain: example.org")
ok(not dkim.verify(tampered, dnsfunc=dns), "dkimpy rejects our signature after a body change")

# ---------------------------------------------------------------- (2) dkimpy signs, we verify
SIGNED_HEADERS = [b"from", b"to", b"date", b"subject", b"message-id", b"mime-version",
                  b"content-type", b"tls-report-domain", b"tls-report-submitter"]


def dkimpy_sign(msg, alg, canon=(b"relaxed", b"relaxed"), length=False, domain=DOMAIN,
                selector=None):
    if alg == "ed":
        key, a = ed_seed_b64, b"ed25519-sha256"
    else:
        key, a = rsa_pem, b"rsa-sha256"
    sig = dkim.sign(msg, (selector or alg).encode(), domain.encode(), key,
                    canonicalize=canon, signature_algorithm=a, include_headers=SIGNED_HEADERS,
                    length=length)
    return sig + msg


def our_verify(msg, extra=(), keys=None):
    with open(path("v.eml"), "wb") as f:
        f.write(msg)
    keys = keys or {"ed._domainkey." + DOMAIN: path("ed.txt"),
                    "rsa._domainkey." + DOMAIN: path("rsa.txt")}
    args = [VERIFY]
    for name, file in keys.items():
        args += ["-K", "%s=%s" % (name, file)]
    args += list(extra) + [path("v.eml")]
    rc, out, err = run(*args)
    return rc, out.decode().strip()


base = messages["composed report"]
for alg in ("rsa", "ed"):
    for canon in ((b"relaxed", b"relaxed"), (b"simple", b"simple"), (b"relaxed", b"simple")):
        signed = dkimpy_sign(base, alg, canon)
        rc, out = our_verify(signed, ["-a", DOMAIN])
        cname = b"/".join(canon).decode()
        ok(rc == 0 and out.startswith("pass d=%s s=%s" % (DOMAIN, alg)),
           "we verify dkimpy's %s %s signature" %
           ("rsa-sha256" if alg == "rsa" else "ed25519-sha256", cname), out)

# the same with bare LF line endings (a message as stored on disk)
signed = dkimpy_sign(base, "ed")
rc, out = our_verify(signed.replace(b"\r\n", b"\n"))
ok(rc == 0 and out.startswith("pass"), "we verify dkimpy's signature after CRLF -> LF", out)

# ---------------------------------------------------------------- (3) verdicts
signed = dkimpy_sign(base, "rsa")
rc, out = our_verify(signed.replace(b"Report-ID:     20261128", b"Report-ID:     20261129"))
ok(rc == 1 and out == "fail d=%s s=rsa a=rsa-sha256: body hash did not verify" % DOMAIN,
   "altered body: fail (body hash)", out)
ok(not dkim.verify(signed.replace(b"Report-ID:     20261128", b"Report-ID:     20261129"),
                   dnsfunc=dns), "altered body: dkimpy agrees")

alt = signed.replace(b"TLS-Report-Domain: example.net", b"TLS-Report-Domain: example.org")
rc, out = our_verify(alt)
ok(rc == 1 and out == "fail d=%s s=rsa a=rsa-sha256: signature did not verify" % DOMAIN,
   "altered signed header: fail (signature)", out)
ok(not dkim.verify(alt, dnsfunc=dns), "altered signed header: dkimpy agrees")

with_l = dkimpy_sign(base, "ed", length=True)
rc, out = our_verify(with_l)
ok(b"l=" in with_l.split(b"\r\n\r\n")[0] and rc == 1 and out ==
   "permerror d=%s s=ed a=ed25519-sha256: signature has l= (body length limit), not allowed "
   "for TLS reports (RFC 8460 section 3)" % DOMAIN, "l=: permerror", out)

with open(path("ed-email.txt"), "wb") as f:
    f.write(records["ed"] + b"; s=email")
with open(path("ed-tlsrpt.txt"), "wb") as f:
    f.write(records["ed"] + b"; s=tlsrpt")
signed = dkimpy_sign(base, "ed")
rc, out = our_verify(signed, keys={"ed._domainkey." + DOMAIN: path("ed-email.txt")})
ok(rc == 1 and out == "permerror d=%s s=ed a=ed25519-sha256: key ed._domainkey.%s is "
   "restricted by s= to services other than tlsrpt" % (DOMAIN, DOMAIN), "key s=email: permerror",
   out)
rc, out = our_verify(signed, keys={"ed._domainkey." + DOMAIN: path("ed-tlsrpt.txt")})
ok(rc == 0 and out.startswith("pass"), "key s=tlsrpt: pass", out)
ok(dkim.verify(signed, dnsfunc=dnsfunc_for({"ed._domainkey." + DOMAIN: records["ed"] +
                                             b"; s=tlsrpt"}), tlsrpt="strict"),
   "key s=tlsrpt: dkimpy (tlsrpt=strict) agrees")

other = dkimpy_sign(base, "ed", domain="other-org.example")
rc, out = our_verify(other, ["-a", DOMAIN],
                     keys={"ed._domainkey.other-org.example": path("ed.txt")})
ok(rc == 1 and out == "pass d=other-org.example s=ed a=ed25519-sha256 aligned=no",
   "misaligned d=: valid signature, not aligned", out)
sub = dkimpy_sign(base, "ed", domain="sender.example")
rc, out = our_verify(sub, ["-a", DOMAIN], keys={"ed._domainkey.sender.example": path("ed.txt")})
ok(rc == 0 and out == "pass d=sender.example s=ed a=ed25519-sha256 aligned=yes",
   "parent-domain d=: aligned", out)
psl = "/usr/share/publicsuffix/public_suffix_list.dat"
if os.path.exists(psl):
    co = dkimpy_sign(base.replace(b"mail.sender.example", b"victim.co.uk"), "ed",
                     domain="evil.co.uk")
    rc, out = our_verify(co, ["-a", "victim.co.uk", "-p", psl],
                         keys={"ed._domainkey.evil.co.uk": path("ed.txt")})
    ok(rc == 1 and "aligned=no" in out, "evil.co.uk vs victim.co.uk with the PSL: not aligned",
       out)
else:
    ok(True, "evil.co.uk vs victim.co.uk with the PSL # SKIP no publicsuffix package")

rc, out = our_verify(signed, ["-T"])
ok(rc == 1 and out.startswith("temperror d=%s s=ed" % DOMAIN), "DNS failure: temperror", out)

print("1..%d" % len(results))
for i, (good, name, diag) in enumerate(results, 1):
    print("%s %d - %s" % ("ok" if good else "not ok", i, name))
    if not good and diag:
        for line in diag.splitlines():
            print("# " + line)
