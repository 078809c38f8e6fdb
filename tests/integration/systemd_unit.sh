#!/bin/sh
# systemd/feedd.service.in: `systemd-analyze verify` is clean and the
# offline security exposure is at most 2.0; systemd/feedd.sysusers makes
# the feedd user and group. Skips (77) without
# systemd-analyze or where it cannot run (e.g. too old for --offline).
#
# usage: systemd_unit.sh SRCDIR
set -u
src=$1
command -v systemd-analyze >/dev/null 2>&1 || { echo "skip: no systemd-analyze"; exit 77; }
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
sed -e "s|@CMAKE_INSTALL_FULL_BINDIR@|$tmp/bin|g" \
    -e "s|@CMAKE_INSTALL_FULL_SYSCONFDIR@|/etc|g" \
    "$src/systemd/feedd.service.in" >"$tmp/feedd.service"
if grep -q '@[A-Z_]*@' "$tmp/feedd.service"; then
	echo "FAIL: unsubstituted variables:"; grep '@[A-Z_]*@' "$tmp/feedd.service"
	exit 1
fi

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
	systemd-sysusers --root="$tmp/root" "$src/systemd/feedd.sysusers" >/dev/null 2>&1
	if grep -q '^feedd:x:[0-9]*:[0-9]*:.*:/var/lib/feedd:' "$tmp/root/etc/passwd" 2>/dev/null &&
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
