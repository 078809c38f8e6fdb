#!/bin/sh
# The Debian package, end to end: `dpkg-buildpackage -us -uc -b` on a copy
# of the tree; the .deb's contents and modes; lintian reports no error on
# the .deb and .changes; then a fresh Debian root (mmdebstrap minbase of the
# host's release, from the host's apt sources) where `apt-get install
# ./feedd_*.deb` creates user feedd, /var/lib/feedd owned by it, the config
# root:feedd 0640, enables the unit, and `feedd --check-config` passes on
# the installed config as root and as feedd; remove keeps the database,
# purge removes it. Needs root (chroot, mounts) and the Debian mirror; the
# tools come from ./dev.sh deps.
#
# usage: deb.sh SRCDIR
set -u
src=$1
fails=0
ok() { echo "ok   $*"; }
fail() { echo "FAIL $*"; fails=$((fails + 1)); }

for t in dpkg-buildpackage dh lintian mmdebstrap unshare chroot; do
	command -v $t >/dev/null 2>&1 || { echo "FAIL: no $t (./dev.sh deps installs it)"; exit 1; }
done
[ "$(id -u)" -eq 0 ] || { echo "FAIL: needs root (chroot and mounts for the fresh root)"; exit 1; }

tmp=$(mktemp -d)
trap 'umount "$tmp/root/proc" 2>/dev/null; rm -rf "$tmp"' EXIT

# dpkg-buildpackage writes into the tree and its parent: use a copy.
mkdir -p "$tmp/pkg/feedd"
tar -C "$src" --exclude=./.git --exclude='./build*' --exclude='./obj-*' \
	--exclude=./debian/feedd --exclude=./debian/.debhelper -cf - . |
	tar -C "$tmp/pkg/feedd" -xf -
start=$(date +%s)
(cd "$tmp/pkg/feedd" && dpkg-buildpackage -us -uc -b) >"$tmp/build.log" 2>&1
rc=$?
if [ $rc -ne 0 ]; then
	tail -40 "$tmp/build.log"; echo "FAIL dpkg-buildpackage (exit $rc)"; exit 1
fi
ok "dpkg-buildpackage -us -uc -b in $(( $(date +%s) - start )) s"
arch=$(dpkg --print-architecture)
deb=$(ls "$tmp/pkg"/feedd_*_"$arch".deb)
changes=$(ls "$tmp/pkg"/feedd_*_"$arch".changes)
[ -f "$deb" ] && [ -f "$changes" ] || { echo "FAIL: no feedd_*.deb or .changes"; ls "$tmp/pkg"; exit 1; }

# Contents: path and mode.
dpkg-deb -c "$deb" | awk '{ print $1, $6 }' >"$tmp/contents"
for want in "-rwxr-xr-x ./usr/bin/feedd" "-rwxr-xr-x ./usr/bin/feedctl" \
    "-rw-r--r-- ./lib/systemd/system/feedd.service" \
    "-rw-r--r-- ./usr/lib/sysusers.d/feedd.conf" "-rw-r--r-- ./usr/lib/tmpfiles.d/feedd.conf" \
    "-rw-r--r-- ./usr/share/man/man8/feedd.8.gz" "-rw-r--r-- ./usr/share/man/man5/feedd.conf.5.gz" \
    "-rw-r--r-- ./usr/share/man/man1/feedctl.1.gz" \
    "-rw-r--r-- ./usr/share/bash-completion/completions/feedctl" \
    "-rw-r----- ./etc/feedd/feedd.conf" "drwxr-x--- ./etc/feedd/feeds.d/" \
    "drwxr-xr-x ./var/lib/feedd/"; do
	grep -qxF -- "$want" "$tmp/contents" && ok ".deb has $want" || fail ".deb lacks $want"
done
dpkg-deb -f "$deb" Depends | grep -q 'systemd' &&
dpkg-deb -f "$deb" Depends | grep -q 'procps' && ok ".deb depends on systemd(-sysusers) and procps (/bin/kill)" ||
	fail ".deb Depends: $(dpkg-deb -f "$deb" Depends)"
dpkg-deb -e "$deb" "$tmp/ctl"
grep -qx /etc/feedd/feedd.conf "$tmp/ctl/conffiles" && ok "conffile /etc/feedd/feedd.conf" ||
	fail "conffiles: $(cat "$tmp/ctl/conffiles")"

# lintian: no error (warnings are listed).
lintian "$changes" "$deb" >"$tmp/lintian" 2>&1
sed -n '/^[EW]: /p' "$tmp/lintian"
nerr=$(grep -c '^E: ' "$tmp/lintian")
nwarn=$(grep -c '^W: ' "$tmp/lintian")
[ "$nerr" -eq 0 ] && ok "lintian: 0 errors, $nwarn warnings" ||
	fail "lintian: $nerr errors, $nwarn warnings"

# A fresh root of this release.
. /etc/os-release
mirror=
[ -f /etc/apt/sources.list.d/debian.sources ] && mirror=/etc/apt/sources.list.d/debian.sources
start=$(date +%s)
if ! mmdebstrap --variant=minbase "$VERSION_CODENAME" "$tmp/root" $mirror >"$tmp/mmdebstrap.log" 2>&1; then
	tail -20 "$tmp/mmdebstrap.log"; echo "FAIL mmdebstrap $VERSION_CODENAME"; exit 1
fi
ok "fresh $VERSION_CODENAME root (mmdebstrap minbase) in $(( $(date +%s) - start )) s"
cp "$deb" "$tmp/root/tmp/"
cp /etc/resolv.conf "$tmp/root/etc/resolv.conf" 2>/dev/null
base=$(basename "$deb")
unshare -m sh -c '
	r=$1 deb=$2
	mount -t proc proc "$r/proc" || exit 99
	rt() { chroot "$r" "$@"; }
	echo "== install"
	rt sh -c "apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -q /tmp/$deb" \
		>"$r/tmp/install.log" 2>&1 || { tail -30 "$r/tmp/install.log"; exit 98; }
	grep -E "^(Setting up feedd|Creating (user|group) .feedd|Created symlink .*feedd)" "$r/tmp/install.log"
	echo "== passwd"; rt getent passwd feedd
	echo "== stat"
	rt stat -c "%a %U:%G %n" /etc/feedd/feedd.conf /etc/feedd/feeds.d /var/lib/feedd
	echo "== enabled"; rt readlink /etc/systemd/system/multi-user.target.wants/feedd.service
	echo "== reload"; rt test -x /bin/kill && echo "kill ok"
	echo "== check-config root"; rt feedd --check-config; echo "rc=$?"
	echo "== check-config feedd"
	rt setpriv --reuid=feedd --regid=feedd --init-groups feedd --check-config >/dev/null; echo "rc=$?"
	rt setpriv --reuid=feedd --regid=feedd --init-groups sh -c "echo x >/var/lib/feedd/feedd.db"
	echo "== remove"
	rt env DEBIAN_FRONTEND=noninteractive apt-get remove -y -q feedd >/dev/null 2>&1; echo "rc=$?"
	rt ls /var/lib/feedd/feedd.db /etc/feedd/feedd.conf
	echo "== purge"
	rt env DEBIAN_FRONTEND=noninteractive apt-get purge -y -q feedd >/dev/null 2>&1; echo "rc=$?"
	rt ls -d /var/lib/feedd /etc/feedd 2>&1
	exit 0' sh "$tmp/root" "$base" >"$tmp/fresh" 2>&1
rc=$?
cat "$tmp/fresh"
if [ $rc -ne 0 ]; then
	fail "fresh root install (exit $rc)"
else
	section() { sed -n "/^== $1\$/,/^== /p" "$tmp/fresh" | sed '1d;/^== /d'; }
	section passwd | grep -q '^feedd:x:[0-9]*:[0-9]*:.*:/var/lib/feedd:' &&
		ok "fresh root: user feedd, home /var/lib/feedd" || fail "fresh root: no user feedd"
	[ "$(section stat)" = "640 root:feedd /etc/feedd/feedd.conf
750 root:feedd /etc/feedd/feeds.d
750 feedd:feedd /var/lib/feedd" ] && ok "fresh root: config 0640 root:feedd, feeds.d 0750 root:feedd, /var/lib/feedd 0750 feedd:feedd" ||
		fail "fresh root: modes and owners: $(section stat)"
	section enabled | grep -q 'feedd.service$' && ok "fresh root: feedd.service enabled" ||
		fail "fresh root: feedd.service not enabled"
	section reload | grep -qx 'kill ok' && ok "fresh root: ExecReload's /bin/kill is there" ||
		fail "fresh root: no /bin/kill for ExecReload="
	section "check-config root" | grep -qx 'rc=0' &&
	section "check-config root" | grep -qx 'database /var/lib/feedd/feedd.db' &&
		ok "fresh root: feedd --check-config passes, database /var/lib/feedd/feedd.db" ||
		fail "fresh root: feedd --check-config as root"
	section "check-config feedd" | grep -qx 'rc=0' &&
		ok "fresh root: feedd --check-config passes as user feedd" ||
		fail "fresh root: feedd --check-config as user feedd"
	[ "$(section remove)" = "rc=0
/etc/feedd/feedd.conf
/var/lib/feedd/feedd.db" ] && ok "fresh root: remove keeps the database and the config" ||
		fail "fresh root: after remove: $(section remove)"
	section purge | grep -q "cannot access '/var/lib/feedd'" &&
	section purge | grep -q "cannot access '/etc/feedd'" &&
		ok "fresh root: purge removes /var/lib/feedd and /etc/feedd" ||
		fail "fresh root: after purge: $(section purge)"
fi
echo "$fails failed"
[ $fails -eq 0 ]
