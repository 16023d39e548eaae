#!/bin/sh
# keys_cli.t - `tlsrpt dkim keygen` (key file 0600, no overwrite, DNS record with strings
# of at most 255 bytes, the [signature.<id>] block, usage errors) and `tlsrpt dns check`
# against local DNS data (--dns-local-data): valid record, two records, no record, bad
# syntax; signer keys published and matching (ed25519; rsa in two strings), published but
# different, missing, and a signer id with no [signature.<id>] section.  Exact output lines and exit codes.
B=${B:-build}
T=${TLSRPT_TEST_TMP:-/tmp}/keys_cli.$$
rm -rf "$T"
mkdir -p "$T"
n=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
nok() { n=$((n + 1)); echo "not ok $n - $1"; }
check() { # check NAME WANT_STATUS CMD...
	name=$1; want=$2; shift 2
	"$@" >"$T/out" 2>"$T/err"
	got=$?
	if [ "$got" -eq "$want" ]; then ok "$name"; else
		nok "$name: got exit $got, want $want"; sed 's/^/# /' "$T/err" | head -5; fi
}
same() { # same NAME FILE <<want
	cat >"$T/want"
	if cmp -s "$T/want" "$2"; then ok "$1"; else
		nok "$1"; diff "$T/want" "$2" | head -10 | sed 's/^/# /'; fi
}
TLSRPT=$(cd "$(dirname "$B/tlsrpt")" && pwd)/tlsrpt
echo "1..27"

# ---------------------------------------------------------------- keygen, ed25519
mkdir "$T/keys"
cd "$T/keys" || exit 1
check "keygen ed25519 exits 0" 0 "$TLSRPT" dkim keygen --algorithm ed25519 \
	--domain example.net --selector s1
sed 's/p=[A-Za-z0-9+\/=]*"/p=KEY"/' "$T/out" >"$T/out.masked"
same "keygen ed25519: record and configuration block" "$T/out.masked" <<EOF
; DNS record to publish
s1._domainkey.example.net. IN TXT "v=DKIM1; k=ed25519; p=KEY"

# tlsrptd configuration
# list the id in report.tls.aggregate.sign
[signature."ed25519-example.net"]
private-key = "%{file:$T/keys/ed25519-example.net.pem}%"
domain = "example.net"
selector = "s1"
algorithm = "ed25519-sha256"
canonicalization = "relaxed/relaxed"
EOF
same "keygen ed25519: stderr names the file" "$T/err" <<EOF
tlsrpt: wrote the private key to $T/keys/ed25519-example.net.pem (mode 0600)
EOF
grep '^s1\._domainkey' "$T/out" >"$T/zone.s1"
mode=$(stat -c %a ed25519-example.net.pem)
if [ "$mode" = 600 ]; then ok "key file mode 0600"; else nok "key file mode: got $mode, want 600"; fi
first=$(head -1 ed25519-example.net.pem)
if [ "$first" = "-----BEGIN PRIVATE KEY-----" ]; then ok "key file is PKCS#8 PEM"; else
	nok "key file first line: got '$first', want -----BEGIN PRIVATE KEY-----"; fi
plen=$(sed -n 's/.*p=\([A-Za-z0-9+\/=]*\)".*/\1/p' "$T/zone.s1" | base64 -d | wc -c)
if [ "$plen" -eq 32 ]; then ok "ed25519 p= is the 32-byte raw key"; else
	nok "ed25519 p= length: got $plen, want 32"; fi
openssl pkey -in ed25519-example.net.pem -pubout -outform DER 2>/dev/null | tail -c 32 \
	| base64 >"$T/pub.openssl"
sed -n 's/.*p=\([A-Za-z0-9+\/=]*\)".*/\1/p' "$T/zone.s1" >"$T/pub.ours"
if cmp -s "$T/pub.openssl" "$T/pub.ours"; then ok "p= is the key openssl derives"; else
	nok "p= differs from openssl's public key"; fi

cp ed25519-example.net.pem "$T/saved.pem"
check "keygen refuses to overwrite (exit 1)" 1 "$TLSRPT" dkim keygen --algorithm ed25519 \
	--domain example.net --selector s1
same "keygen refusal message" "$T/err" <<EOF
tlsrpt: ed25519-example.net.pem: file exists; refusing to overwrite it
EOF
if cmp -s "$T/saved.pem" ed25519-example.net.pem && [ ! -s "$T/out" ]; then
	ok "existing key untouched, nothing printed"; else nok "existing key changed or output printed"; fi

# ---------------------------------------------------------------- keygen, rsa
check "keygen rsa --bits 2048 --out --id exits 0" 0 "$TLSRPT" dkim keygen --algorithm rsa \
	--bits 2048 --domain example.net --selector s2 --out "$T/keys/rsa.key" --id rsa1
grep '^s2\._domainkey' "$T/out" >"$T/zone.s2"
# two strings: 255 bytes, then the rest; joined they are the record
/usr/bin/python3 - "$T/zone.s2" >"$T/rsa.check" <<'EOF'
import base64, re, sys
line = open(sys.argv[1]).read().strip()
strings = re.findall(r'"([^"]*)"', line)
joined = "".join(strings)
p = base64.b64decode(joined.split("p=")[1])
print(len(strings), [len(s) for s in strings[:-1]], max(len(s) for s in strings) <= 255,
      joined.startswith("v=DKIM1; k=rsa; p=MII"), len(p))
EOF
same "rsa record: strings of at most 255 bytes, 294-byte SubjectPublicKeyInfo" "$T/rsa.check" <<EOF
2 [255] True True 294
EOF
sed -n '/^#/,$p' "$T/out" >"$T/out.conf"
same "rsa configuration block" "$T/out.conf" <<EOF
# tlsrptd configuration
# list the id in report.tls.aggregate.sign
[signature.rsa1]
private-key = "%{file:$T/keys/rsa.key}%"
domain = "example.net"
selector = "s2"
algorithm = "rsa-sha256"
canonicalization = "relaxed/relaxed"
EOF

# ---------------------------------------------------------------- keygen usage errors
bad=""
for args in "--domain example.net --selector s1" \
	"--algorithm dsa --domain example.net --selector s1" \
	"--algorithm ed25519 --bits 2048 --domain example.net --selector s1" \
	"--algorithm rsa --bits 512 --domain example.net --selector s1" \
	"--algorithm ed25519 --domain example..net --selector s1" \
	"--algorithm ed25519 --domain example.net --selector s1 --id a/b" \
	"--algorithm ed25519 --domain example.net"; do
	# shellcheck disable=SC2086
	"$TLSRPT" dkim keygen $args --out "$T/keys/never.pem" >/dev/null 2>&1
	rc=$?
	[ "$rc" -eq 2 ] || bad="$bad [$args: got $rc]"
done
if [ -z "$bad" ] && [ ! -e "$T/keys/never.pem" ]; then ok "keygen usage errors exit 2, no file"; else
	nok "keygen usage errors:$bad"; fi
check "dkim without subcommand exits 2" 2 "$TLSRPT" dkim

# ---------------------------------------------------------------- dns check
cd "$T" || exit 1
"$TLSRPT" dkim keygen --algorithm ed25519 --domain example.net --selector other \
	--out "$T/keys/other.pem" 2>/dev/null | grep '_domainkey' >"$T/zone.other"
{
	echo "; local data for keys_cli.t"
	echo '_smtp._tls.example.com. 300 IN TXT "v=TLSRPTv1; rua=mailto:tls" "rpt@example.com,https://r.example.com/v1"'
	echo '_smtp._tls.two.example. IN TXT "v=TLSRPTv1; rua=mailto:a@two.example"'
	echo '_smtp._tls.two.example. IN TXT "v=TLSRPTv1; rua=mailto:b@two.example"'
	echo '_smtp._tls.bad.example. IN TXT "v=TLSRPTv1; rua="'
	echo '_smtp._tls.spf.example. IN TXT "v=spf1 -all"'
	echo ''
	cat "$T/zone.s1"
	# s2 publishes a different key than rsa1's; s5 publishes rsa1's key (two strings)
	sed 's/^other\._domainkey/s2._domainkey/' "$T/zone.other"
	sed 's/^s2\._domainkey/s5._domainkey/' "$T/zone.s2"
} >"$T/zone"
cat >"$T/all.toml" <<EOF
[report]
domain = "example.net"

[report.tls.aggregate]
sign = ["ed25519-example.net", "rsa1", "rsa-ok", "missing", "nosuch"]

[signature."ed25519-example.net"]
private-key = "%{file:$T/keys/ed25519-example.net.pem}%"
domain = "example.net"
selector = "s1"
algorithm = "ed25519-sha256"

[signature.rsa1]
private-key = "%{file:$T/keys/rsa.key}%"
domain = "example.net"
selector = "s2"
algorithm = "rsa-sha256"

[signature.rsa-ok]
private-key = "%{file:$T/keys/rsa.key}%"
domain = "example.net"
selector = "s5"
algorithm = "rsa-sha256"

[signature.missing]
private-key = "%{file:$T/keys/other.pem}%"
domain = "example.net"
selector = "s3"
algorithm = "ed25519-sha256"
EOF
check "dns check: a bad signer exits 1" 1 "$TLSRPT" dns check --config "$T/all.toml" \
	--dns-local-data "$T/zone" example.com
same "dns check: valid record; matching, different, missing, unconfigured keys" "$T/out" <<EOF
_smtp._tls.example.com: 1 TXT record
  "v=TLSRPTv1; rua=mailto:tls" "rpt@example.com,https://r.example.com/v1"
TLSRPT record: valid
  rua: mailto:tlsrpt@example.com
  rua: https://r.example.com/v1
signer ed25519-example.net: selector s1, domain example.net
  s1._domainkey.example.net: published, matches the private key
signer rsa1: selector s2, domain example.net
  s2._domainkey.example.net: published, does NOT match the private key
signer rsa-ok: selector s5, domain example.net
  s5._domainkey.example.net: published, matches the private key
signer missing: selector s3, domain example.net
  s3._domainkey.example.net: no key published (NXDOMAIN)
signer nosuch: not configured (no [signature.nosuch] section)
EOF

sed 's/^sign = .*/sign = "ed25519-example.net"/' "$T/all.toml" >"$T/good.toml"
check "dns check: all fine exits 0" 0 "$TLSRPT" dns check --config "$T/good.toml" \
	--dns-local-data "$T/zone" example.com
sed -n '6,$p' "$T/out" >"$T/out.signers"
same "dns check: the one signer matches" "$T/out.signers" <<EOF
signer ed25519-example.net: selector s1, domain example.net
  s1._domainkey.example.net: published, matches the private key
EOF

check "dns check: two records exit 1" 1 "$TLSRPT" dns check --dns-local-data "$T/zone" two.example
sort "$T/out" >"$T/out.sorted"
same "dns check: two records are not exactly one" "$T/out.sorted" <<EOF
  "v=TLSRPTv1; rua=mailto:a@two.example"
  "v=TLSRPTv1; rua=mailto:b@two.example"
TLSRPT record: invalid: tlsrpt record: 2 TLSRPT records (exactly one is allowed, RFC 8460 section 3)
_smtp._tls.two.example: 2 TXT records
signers: not checked (no configuration file; use --config FILE)
EOF

check "dns check: no record exits 1" 1 "$TLSRPT" dns check --dns-local-data "$T/zone" none.example
same "dns check: no record" "$T/out" <<EOF
_smtp._tls.none.example: no TXT record (NXDOMAIN)
TLSRPT record: missing
signers: not checked (no configuration file; use --config FILE)
EOF

"$TLSRPT" dns check --dns-local-data "$T/zone" bad.example >"$T/out.bad" 2>&1
rc1=$?
"$TLSRPT" dns check --dns-local-data "$T/zone" spf.example >>"$T/out.bad" 2>&1
rc2=$?
if [ "$rc1" -eq 1 ] && [ "$rc2" -eq 1 ]; then ok "dns check: bad syntax and non-TLSRPT exit 1"; else
	nok "dns check bad syntax: got exits $rc1 $rc2, want 1 1"; fi
same "dns check: why the record is unusable" "$T/out.bad" <<EOF
_smtp._tls.bad.example: 1 TXT record
  "v=TLSRPTv1; rua="
TLSRPT record: invalid: tlsrpt record: empty or bad value at offset 16
signers: not checked (no configuration file; use --config FILE)
_smtp._tls.spf.example: 1 TXT record
  "v=spf1 -all"
TLSRPT record: missing: tlsrpt record: none of 1 TXT record(s) starts with "v=TLSRPTv1;"
signers: not checked (no configuration file; use --config FILE)
EOF

check "dns check without a domain exits 2" 2 "$TLSRPT" dns check --dns-local-data "$T/zone"
echo 'not a record' >"$T/badzone"
check "dns check: unusable local data exits 1" 1 "$TLSRPT" dns check \
	--dns-local-data "$T/badzone" example.com
rm -rf "$T"
