#!/bin/sh
# The configured feedd.service (the build's, or an installed one): `systemd-
# analyze verify` is clean and the offline security exposure is at most
# 2.0; the sysusers.d entry makes the feedd user and group. Skips (77)
# where systemd-analyze is too old for --offline; fails without it
# (./dev.sh deps installs systemd).
#
# usage: systemd_unit.sh SRCDIR UNIT SYSUSERS
set -u
src=$1
unit=$2
sysusers=$3
command -v systemd-analyze >/dev/null 2>&1 || { echo "FAIL: no systemd-analyze (apt-get install systemd)"; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# verify checks that ExecStart is executable and that Documentation= man
# pages exist, so point both at stand-ins: a stub binary and our pages.
mkdir -p "$tmp/bin" "$tmp/man/man1" "$tmp/man/man5" "$tmp/man/man8"
printf '#!/bin/sh\nexit 0\n' >"$tmp/bin/feedd"
chmod +x "$tmp/bin/feedd"
cp "$src/docs/man/feedctl.1" "$tmp/man/man1/"
cp "$src/docs/man/feedd.conf.5" "$tmp/man/man5/"
cp "$src/docs/man/feedd.8" "$tmp/man/man8/"
if grep -q '@[A-Z_]*@' "$unit"; then
	echo "FAIL: unsubstituted variables in $unit:"; grep '@[A-Z_]*@' "$unit"
	exit 1
fi
sed -e "s|^ExecStart=[^ ]*/feedd |ExecStart=$tmp/bin/feedd |" "$unit" >"$tmp/feedd.service"
grep -q "^ExecStart=$tmp/bin/feedd " "$tmp/feedd.service" ||
	{ echo "FAIL: no ExecStart=.../feedd in $unit"; exit 1; }

fails=0
out=$(MANPATH="$tmp/man" SYSTEMD_LOG_LEVEL=notice systemd-analyze verify "$tmp/feedd.service" 2>&1)
rc=$?
if [ $rc -ne 0 ] || [ -n "$out" ]; then
	echo "FAIL systemd-analyze verify (exit $rc):"; echo "$out"
	fails=$((fails + 1))
else
	echo "ok   systemd-analyze verify: clean"
fi

# The sysusers.d entry creates user and group feedd (in a scratch root).
if command -v systemd-sysusers >/dev/null 2>&1; then
	mkdir -p "$tmp/root/etc"
	systemd-sysusers --root="$tmp/root" "$sysusers" >/dev/null 2>&1
	home=$(sed -n 's/^u feedd .* \([^ ]*\)$/\1/p' "$sysusers")
	if grep -q "^feedd:x:[0-9]*:[0-9]*:.*:$home:" "$tmp/root/etc/passwd" 2>/dev/null &&
	   grep -q '^feedd:x:' "$tmp/root/etc/group" 2>/dev/null; then
		echo "ok   systemd-sysusers creates user and group feedd"
	else
		echo "FAIL systemd-sysusers did not create user and group feedd"
		fails=$((fails + 1))
	fi
fi

if ! systemd-analyze security --help 2>/dev/null | grep -q -- '--offline'; then
	echo "skip: this systemd-analyze has no --offline"
	[ $fails -eq 0 ] && exit 77
	exit 1
fi
# --threshold is in tenths: 20 means an exposure of at most 2.0.
out=$(systemd-analyze security --offline=true --threshold=20 --no-pager "$tmp/feedd.service" 2>&1)
rc=$?
echo "$out" | grep 'Overall exposure'
if [ $rc -ne 0 ]; then
	echo "FAIL: exposure above 2.0:"; echo "$out" | grep '✗'
	fails=$((fails + 1))
fi
[ $fails -eq 0 ]
