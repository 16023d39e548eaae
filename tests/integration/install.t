#!/bin/sh
# install.t - `make install DESTDIR=...` produces the documented tree; an MTA-side
# program builds against the installed client library through pkg-config and reports
# to a collector; systemd-analyze accepts the unit (where systemd-analyze exists).
B=${B:-build}
T=${TLSRPT_TEST_TMP:-/tmp}/install
rm -rf "$T"; mkdir -p "$T"
n=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
nok() { n=$((n + 1)); echo "not ok $n - $1"; }
echo "1..4"

if make --no-print-directory -s install B="$B" SAN="${SAN:-}" DESTDIR="$T/root" PREFIX=/usr \
	>"$T/make.out" 2>&1; then
	missing=""
	for f in usr/sbin/tlsrptd usr/bin/tlsrpt usr/lib/libtlsrptclient.a usr/include/tlsrptd.h \
		usr/lib/pkgconfig/tlsrptd-client.pc usr/share/man/man1/tlsrpt.1 \
		usr/share/man/man5/tlsrptd.toml.5 usr/share/man/man8/tlsrptd.8 \
		etc/tlsrptd/tlsrptd.toml.example etc/sysctl.d/60-tlsrptd.conf \
		usr/lib/systemd/system/tlsrptd.service; do
		[ -f "$T/root/$f" ] || missing="$missing $f"
	done
	[ -z "$missing" ] && ok "make install DESTDIR installs the documented tree" \
		|| nok "make install DESTDIR installs the documented tree: missing$missing"
else
	nok "make install DESTDIR installs the documented tree"; sed 's/^/# /' "$T/make.out"
fi

# the generated tlsrptd.toml(5) lists keys from the key table
grep -q '^\.B report\.tls\.aggregate\.send$' "$T/root/usr/share/man/man5/tlsrptd.toml.5" \
	&& ok "tlsrptd.toml(5) lists the configuration keys" \
	|| nok "tlsrptd.toml(5) lists the configuration keys"

# a program built only from the installed header, library and .pc file
cat >"$T/mta.c" <<'C'
#include <tlsrptd.h>
#include <stdio.h>
int main(int argc, char **argv)
{
	struct tlsrptd_conn *c;
	if (argc < 2 || tlsrptd_client_open(argv[1], 0, &c) != 0)
		return 1;
	int rc = tlsrptd_client_begin(c, "example.net", "v=TLSRPTv1; rua=mailto:r@example.net");
	if (rc == 0)
		rc = tlsrptd_client_policy(c, TLSRPTD_POLICY_NONE, NULL);
	if (rc == 0)
		rc = tlsrptd_client_finish(c);
	tlsrptd_client_close(c);
	return rc == 0 ? 0 : 1;
}
C
sed "s|^prefix=.*|prefix=$T/root/usr|" "$T/root/usr/lib/pkgconfig/tlsrptd-client.pc" >"$T/tlsrptd-client.pc"
case "${SAN:-}" in
asan) sanflags="-fsanitize=address,undefined" ;;
tsan) sanflags="-fsanitize=thread" ;;
*) sanflags="" ;;
esac
if cc $sanflags -o "$T/mta" "$T/mta.c" $(PKG_CONFIG_PATH="$T" pkg-config --cflags --libs tlsrptd-client) \
	2>"$T/cc.err" && /usr/bin/python3 - "$T" <<'PY'
import socket, subprocess, sys, os
t = sys.argv[1]
path = os.path.join(t, "s.sock")
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(path)
s.settimeout(5)
rc = subprocess.run([os.path.join(t, "mta"), path]).returncode
data = s.recv(65536)
sys.exit(0 if rc == 0 and b'"d": "example.net"' in data and b'"policy-type":9' in data else 1)
PY
then
	ok "a program links the installed client library via pkg-config and sends a datagram"
else
	nok "a program links the installed client library via pkg-config and sends a datagram"
	sed 's/^/# /' "$T/cc.err"
fi

if command -v systemd-analyze >/dev/null 2>&1; then
	sed "s|/usr/sbin/tlsrptd|$T/root/usr/sbin/tlsrptd|g" \
		"$T/root/usr/lib/systemd/system/tlsrptd.service" >"$T/tlsrptd.service"
	if systemd-analyze verify --man=no "$T/tlsrptd.service" >"$T/verify" 2>&1; then
		ok "systemd-analyze verify accepts the unit"
	else
		nok "systemd-analyze verify accepts the unit"; sed 's/^/# /' "$T/verify"
	fi
else
	echo "ok 4 # SKIP systemd-analyze not installed"
fi
