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

if make --no-print-directory -s install B="$B" SAN="${SAN:-}" DESTDIR="$T/root" PREFIX=/usr \
	>"$T/make.out" 2>&1; then
	(cd "$T/root" && find . -mindepth 1 -printf '%M %P\n' | LC_ALL=C sort -k2) >"$T/tree"
	cat >"$T/want" <<'TREE'
drwxr-xr-x etc
drwxr-xr-x etc/sysctl.d
-rw-r--r-- etc/sysctl.d/60-tlsrptd.conf
drwxr-xr-x etc/tlsrptd
-rw-r----- etc/tlsrptd/tlsrptd.toml.example
drwxr-xr-x usr
drwxr-xr-x usr/bin
-rwxr-xr-x usr/bin/tlsrpt
drwxr-xr-x usr/include
-rw-r--r-- usr/include/tlsrptd.h
drwxr-xr-x usr/lib
-rw-r--r-- usr/lib/libtlsrptclient.a
drwxr-xr-x usr/lib/pkgconfig
-rw-r--r-- usr/lib/pkgconfig/tlsrptd-client.pc
drwxr-xr-x usr/lib/systemd
drwxr-xr-x usr/lib/systemd/system
-rw-r--r-- usr/lib/systemd/system/tlsrptd.service
drwxr-xr-x usr/lib/sysusers.d
-rw-r--r-- usr/lib/sysusers.d/tlsrptd.conf
drwxr-xr-x usr/sbin
-rwxr-xr-x usr/sbin/tlsrptd
drwxr-xr-x usr/share
drwxr-xr-x usr/share/man
drwxr-xr-x usr/share/man/man1
-rw-r--r-- usr/share/man/man1/tlsrpt.1
drwxr-xr-x usr/share/man/man5
-rw-r--r-- usr/share/man/man5/tlsrptd.toml.5
drwxr-xr-x usr/share/man/man8
-rw-r--r-- usr/share/man/man8/tlsrptd.8
TREE
	if diff "$T/want" "$T/tree" >"$T/tree.diff"; then
		ok "make install DESTDIR installs exactly the documented tree (files and modes)"
	else
		nok "make install DESTDIR installs exactly the documented tree (files and modes)"
		sed 's/^/# /' "$T/tree.diff"
	fi
else
	nok "make install DESTDIR installs exactly the documented tree (files and modes)"
	sed 's/^/# /' "$T/make.out"
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

unit=$T/root/usr/lib/systemd/system/tlsrptd.service
missing=""
for d in "User=tlsrptd" "Group=tlsrptd" "RuntimeDirectory=tlsrptd" "StateDirectory=tlsrptd" \
	"ProtectSystem=strict" "ProtectHome=yes" "PrivateTmp=yes" "PrivateDevices=yes" \
	"NoNewPrivileges=yes" "CapabilityBoundingSet=" "AmbientCapabilities=" \
	"RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6" "SystemCallFilter=@system-service" \
	"SystemCallArchitectures=native" "MemoryDenyWriteExecute=yes" "RestrictNamespaces=yes" \
	"RestrictSUIDSGID=yes" "LockPersonality=yes" "ProtectKernelTunables=yes" \
	"ProtectKernelModules=yes" "ProtectControlGroups=yes" \
	"ExecStart=/usr/sbin/tlsrptd --foreground --config /etc/tlsrptd/tlsrptd.toml"; do
	grep -qx "$d" "$unit" || missing="$missing '$d'"
done
[ -z "$missing" ] && ok "the unit is hardened and runs the installed daemon" \
	|| nok "the unit is hardened and runs the installed daemon: missing$missing"
[ "$(grep -v '^#' "$T/root/etc/sysctl.d/60-tlsrptd.conf")" = "net.unix.max_dgram_qlen = 512" ] \
	&& ok "the sysctl.d file raises net.unix.max_dgram_qlen to 512" \
	|| nok "the sysctl.d file raises net.unix.max_dgram_qlen to 512"

if command -v systemd-analyze >/dev/null 2>&1; then
	sed "s|/usr/sbin/tlsrptd|$T/root/usr/sbin/tlsrptd|g" "$unit" >"$T/tlsrptd.service"
	if systemd-analyze verify --man=no "$T/tlsrptd.service" >"$T/verify" 2>&1 &&
		[ ! -s "$T/verify" ]; then
		ok "systemd-analyze verify accepts the unit without a warning"
	else
		nok "systemd-analyze verify accepts the unit without a warning"; sed 's/^/# /' "$T/verify"
	fi
	if systemd-analyze security --offline=yes "$T/tlsrptd.service" >"$T/security" 2>&1; then
		score=$(sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p' "$T/security")
		if [ -n "$score" ] && awk -v s="$score" 'BEGIN { exit !(s <= 2.0) }'; then
			ok "systemd-analyze security rates the unit $score (at most 2.0)"
		else
			nok "systemd-analyze security rates the unit '$score' (want at most 2.0)"
		fi
	else
		ok "# SKIP systemd-analyze security --offline is not supported here"
	fi
else
	ok "# SKIP systemd-analyze not installed"
	ok "# SKIP systemd-analyze not installed"
fi
if command -v systemd-sysusers >/dev/null 2>&1; then
	mkdir -p "$T/sysroot/etc"
	if systemd-sysusers --root="$T/sysroot" "$T/root/usr/lib/sysusers.d/tlsrptd.conf" \
		>"$T/sysusers" 2>&1 && grep -q '^tlsrptd:x:[0-9]*:[0-9]*:.*:/var/lib/tlsrptd:' \
		"$T/sysroot/etc/passwd"; then
		ok "sysusers.d/tlsrptd.conf creates the system user tlsrptd"
	else
		nok "sysusers.d/tlsrptd.conf creates the system user tlsrptd"; sed 's/^/# /' "$T/sysusers"
	fi
else
	ok "# SKIP systemd-sysusers not installed"
fi
echo "1..$n"
