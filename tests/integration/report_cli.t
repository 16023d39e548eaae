#!/bin/sh
# report_cli.t - `tlsrpt report validate|show`: verdict lines, exit codes, sniffing gzip
# by content, e-mail messages (every report part located and judged), the readable
# summary, usage errors.
B=${B:-build}
SHARED=${SHARED:-../shared}
T=${TLSRPT_TEST_TMP:-/tmp}/report_cli.$$
mkdir -p "$T"
C=$SHARED/corpus
n=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
nok() { n=$((n + 1)); echo "not ok $n - $1"; }
check() { # check NAME WANT_STATUS CMD...
	name=$1; want=$2; shift 2
	"$@" >"$T/out" 2>"$T/err"
	got=$?
	if [ "$got" -eq "$want" ]; then ok "$name"; else nok "$name: got exit $got, want $want"; fi
}
same() { # same NAME FILE <<want
	cat >"$T/want"
	if cmp -s "$T/want" "$2"; then ok "$1"; else
		nok "$1"; diff "$T/want" "$2" | head -10 | sed 's/^/# /'; fi
}
echo "1..19"

check "validate: all accepted exits 0" 0 "$B/tlsrpt" report validate \
	"$C/real/phi-ag_mta-sts-exporter/google.json" "$C/real/domainaware_parsedmarc/mail.ru.json"
same "validate: verdict lines with quirks" "$T/out" <<EOF
$C/real/phi-ag_mta-sts-exporter/google.json: accepted
$C/real/domainaware_parsedmarc/mail.ru.json: accepted (quirks: end-next-midnight, failure-field-missing, policy-string-missing, failure-sum-mismatch)
EOF

# gzip is sniffed by its magic, not by the file name
cp "$C/sys4/http/post-dane.example.json.gz" "$T/report.json"
printf 'garbage' >"$T/not-a-report.json.gz"
cp "$C/real/kravietz_tlsrpt-rs/empty.eml" "$T/empty.eml"
printf 'From: a@example.com\nSubject: x\n\nhello\n' >"$T/message.txt"
check "validate: any rejected exits 1" 1 "$B/tlsrpt" report validate "$T/report.json" \
	"$T/not-a-report.json.gz" "$T/empty.eml" "$T/message.txt" "$T/missing.json"
same "validate: rejections name the reason" "$T/out" <<EOF
$T/report.json: accepted
$T/not-a-report.json.gz: rejected: not JSON: invalid token (line 1, column 1)
$T/empty.eml: rejected: no TLS report found in message
$T/message.txt: rejected: no TLS report found in message
$T/missing.json: rejected: cannot open: No such file or directory
EOF

# an e-mail with two report parts: each part gets its own verdict
gz=$(base64 -w 76 "$C/sys4/http/post-dane.example.json.gz")
cat >"$T/two.eml" <<EOF
From: tlsrpt@sender.example
To: tlsrpt@dane.example
Subject: Report Domain: dane.example
MIME-Version: 1.0
Content-Type: multipart/report; report-type="tlsrpt"; boundary="B"

--B
Content-Type: text/plain

Two reports.
--B
Content-Type: application/tlsrpt+gzip; name="one.json.gz"
Content-Transfer-Encoding: base64

$gz
--B
Content-Type: application/tlsrpt+json
Content-Disposition: attachment

{"organization-name": "x"}
--B--
EOF
check "validate: an e-mail with a rejected part exits 1" 1 "$B/tlsrpt" report validate "$T/two.eml"
same "validate: one verdict line per report part" "$T/out" <<EOF
$T/two.eml: part 1 (application/tlsrpt+gzip, one.json.gz): accepted
$T/two.eml: part 2 (application/tlsrpt+json): rejected: date-range: missing (a report covers a date range)
EOF
check "validate: corpus e-mails are accepted" 0 "$B/tlsrpt" report validate \
	"$C/real/mjl-_mox/microsoft.eml" "$C/stalwart/rpt02.eml"
same "validate: corpus e-mail verdicts" "$T/out" <<EOF
$C/real/mjl-_mox/microsoft.eml: part 1 (application/tlsrpt+gzip, microsoft.com!test.xmox.nl!1673308800!1673395199!133198585438131172.json.gz): accepted (quirks: date-no-timezone)
$C/stalwart/rpt02.eml: part 1 (application/tlsrpt, mail.sender.example!example.com!1013662812!1013749130.json): accepted (quirks: range-not-day)
EOF

# a gzip bomb costs at most the cap (25 MiB)
/usr/bin/python3 -c '
import gzip, sys
m = gzip.compress(b"\0" * (1 << 20), 9)
sys.stdout.buffer.write(m * 100)' >"$T/bomb.gz"
check "validate: a 100 MiB gzip bomb is rejected" 1 "$B/tlsrpt" report validate "$T/bomb.gz"
same "validate: the bomb message names the cap" "$T/out" <<EOF
$T/bomb.gz: rejected: gzip: decompressed data exceeds the cap of 26214400 bytes
EOF

check "show: exits 0" 0 "$B/tlsrpt" report show "$C/real/danmarg_tlsrpt_processor/sample.json"
same "show: readable summary" "$T/out" <<'EOF'
organization: Company-X
contact-info: sts-reporting@company-x.example
report-id:    5065427c-23d3-47ca-b6e0-946ea0e8c4be
window:       2016-04-01T00:00:00Z .. 2016-04-01T23:59:59Z
quirks:       mx-host-string, failure-error-code-key
policy 1: sts company-y.example
  mx-host: *.mail.company-y.example
  successful sessions: 5326
  failed sessions:     303
  failures by result type and MX:
    certificate-expired        mx1.mail.company-y.example               100
    starttls-not-supported     mx2.mail.company-y.example               200
    validation-failure         mx-backup.mail.company-y.example         3
EOF

check "show: two failures of one type and MX are summed" 0 "$B/tlsrpt" report show \
	"$C/real/domainaware_parsedmarc/mail.ru.json"
grep -q '^    sts-policy-fetch-error     -  *2$' "$T/out" && ok "show: 1 + 1 sessions shown as 2" ||
	nok "show: 1 + 1 sessions shown as 2"

check "show: rejected file exits 1" 1 "$B/tlsrpt" report show "$C/real/YnkDK_tls_reporting/no-policies.json"
same "show: rejection on stderr" "$T/err" <<EOF
tlsrpt: $C/real/YnkDK_tls_reporting/no-policies.json: rejected: policies: empty (a report has at least one policy)
EOF

check "report without subcommand is a usage error" 2 "$B/tlsrpt" report
check "unknown report subcommand is a usage error" 2 "$B/tlsrpt" report frob
check "show with two files is a usage error" 2 "$B/tlsrpt" report show a b
