#!/bin/sh
# One install layout for any prefix. For prefixes /usr and /usr/local, a
# small build of this tree (-DBUILD_TESTING=OFF, -O0: the paths are compiled
# in, so each prefix needs its own build) is installed into a DESTDIR, and
# everything that names a path must agree with GNUInstallDirs' answer for
# that prefix: the unit's ExecStart=, --config, StateDirectory= or
# ReadWritePaths=, ConfigurationDirectory=; the default config that
# `feedd --help` and `feedctl --help` print; the FILES sections of the man
# pages; the installed config (mode 0640) and feeds.d/ (0750); the
# sysusers.d home and the tmpfiles.d state directory. The relative database
# of the installed config resolves to the state directory, both as the unit
# runs feedd ($STATE_DIRECTORY) and, for /usr/local in a private mount
# namespace where that tree is really at /usr/local, as feedctl and a feedd
# run by hand find it. The BUILD_TESTING=OFF build has no test, fuzz or
# benchmark target and no test. Both installed units pass systemd_unit.sh.
#
# usage: layout.sh SRCDIR OUTER_BUILD_DIR CMAKE C_COMPILER
set -u
src=$1
outer=$2
cmake=$3
cc=$4
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0
ok() { echo "ok   $*"; }
fail() { echo "FAIL $*"; fails=$((fails + 1)); }
# has FILE LINE: FILE has exactly this line
has() { grep -qxF -- "$2" "$1"; }

# prefix|bindir|config|statedir|foreign (a path of the other layout, ERE)
for layout in "/usr|/usr/bin|/etc/feedd/feedd.conf|/var/lib/feedd|/usr/local" \
    "/usr/local|/usr/local/bin|/usr/local/etc/feedd/feedd.conf|/usr/local/var/lib/feedd|(^|[^l])/(etc|var/lib)/feedd"; do
	IFS='|' read -r prefix bindir conf state foreign <<EOF
$layout
EOF
	b=$tmp/build$(echo "$prefix" | tr / _)
	d=$tmp/dest$(echo "$prefix" | tr / _)
	start=$(date +%s)
	if ! "$cmake" -S "$src" -B "$b" -DCMAKE_INSTALL_PREFIX="$prefix" -DBUILD_TESTING=OFF \
		-DCMAKE_BUILD_TYPE=Debug -DCMAKE_C_FLAGS_DEBUG=-O0 -DCMAKE_C_COMPILER="$cc" \
		>"$tmp/log" 2>&1 ||
	   ! "$cmake" --build "$b" -j2 >>"$tmp/log" 2>&1 ||
	   ! DESTDIR=$d "$cmake" --install "$b" >>"$tmp/log" 2>&1; then
		cat "$tmp/log"; fail "$prefix: build or install"; continue
	fi
	echo "---- prefix $prefix: built and installed in $(( $(date +%s) - start )) s"

	# Files where systemd, man and bash-completion look for them.
	unit=$(find "$d" -name feedd.service)
	case ${unit#"$d"} in
	/lib/systemd/system/feedd.service|/usr/lib/systemd/system/feedd.service) [ "$prefix" = /usr ] ;;
	"$prefix"/lib/systemd/system/feedd.service) true ;;
	*) false ;;
	esac && ok "$prefix: unit at ${unit#"$d"}" || fail "$prefix: unit at '${unit#"$d"}'"
	sysusers=$d$prefix/lib/sysusers.d/feedd.conf
	tmpfiles=$d$prefix/lib/tmpfiles.d/feedd.conf
	for f in "$d$bindir/feedd" "$d$bindir/feedctl"; do
		[ -x "$f" ] && ok "$prefix: ${f#"$d"}" || fail "$prefix: no executable ${f#"$d"}"
	done
	for f in "$sysusers" "$tmpfiles" "$d$prefix/share/man/man8/feedd.8" \
	    "$d$prefix/share/man/man5/feedd.conf.5" "$d$prefix/share/man/man1/feedctl.1" \
	    "$d$prefix/share/bash-completion/completions/feedctl" \
	    "$d$prefix/share/doc/feedd/SCHEMA.md"; do
		[ -f "$f" ] && ok "$prefix: ${f#"$d"}" || fail "$prefix: no ${f#"$d"}"
	done

	# The unit runs the installed binary on the installed config, with the
	# state directory that config's relative database resolves to.
	has "$unit" "ExecStart=$bindir/feedd --config $conf" &&
		ok "$prefix: ExecStart=$bindir/feedd --config $conf" ||
		fail "$prefix: ExecStart is '$(grep ^ExecStart= "$unit")'"
	if [ "$state" = /var/lib/feedd ]; then
		has "$unit" "StateDirectory=feedd" && ! grep -q '^ReadWritePaths=' "$unit"
	else
		has "$unit" "ReadWritePaths=$state" && ! grep -q '^StateDirectory=' "$unit"
	fi && ok "$prefix: unit's state directory is $state" ||
		fail "$prefix: unit's state directory: $(grep -E '^(StateDirectory|ReadWritePaths)=' "$unit")"
	if [ "$conf" = /etc/feedd/feedd.conf ]; then
		has "$unit" "ConfigurationDirectory=feedd"
	else
		! grep -q '^ConfigurationDirectory=' "$unit"
	fi && ok "$prefix: ConfigurationDirectory= matches ${conf%/*}" ||
		fail "$prefix: ConfigurationDirectory= is '$(grep ^ConfigurationDirectory= "$unit")' for $conf"

	# --help prints the compiled-in default config.
	for p in feedd feedctl; do
		"$d$bindir/$p" --help >"$tmp/help" 2>&1
		grep -qF "(default $conf)" "$tmp/help" &&
			ok "$prefix: $p --help: default $conf" ||
			{ fail "$prefix: $p --help lacks '(default $conf)':"; cat "$tmp/help"; }
	done

	# The man pages' FILES sections, the example config and SCHEMA.md name
	# this layout's paths and none of the other's.
	for m in man8/feedd.8 man5/feedd.conf.5 man1/feedctl.1; do
		sed -n '/^\.SH FILES/,/^\.SH [^F]/p' "$d$prefix/share/man/$m" >"$tmp/files"
		grep -qxF ".I $conf" "$tmp/files" &&
			ok "$prefix: $m FILES: $conf" || fail "$prefix: $m FILES lacks $conf"
		case $m in
		*feedd.conf.5) ;;
		*) grep -qxF ".I $state/feedd.db" "$tmp/files" &&
			ok "$prefix: $m FILES: $state/feedd.db" ||
			fail "$prefix: $m FILES lacks $state/feedd.db" ;;
		esac
	done
	for f in "$d$prefix"/share/man/man*/* "$d$conf" "$d$prefix/share/doc/feedd/SCHEMA.md" \
	    "$unit" "$sysusers" "$tmpfiles"; do
		if grep -En -- "$foreign" "$f" >"$tmp/foreign"; then
			fail "$prefix: ${f#"$d"} names another layout's path:"; cat "$tmp/foreign"
		fi
	done

	# Config 0640 (it may hold passwords), feeds.d 0750; sysusers' home and
	# tmpfiles' directory are the state directory.
	[ "$(stat -c %a "$d$conf")" = 640 ] && ok "$prefix: $conf mode 0640" ||
		fail "$prefix: $conf mode $(stat -c %a "$d$conf")"
	[ "$(stat -c %a "${d}${conf%/*}/feeds.d")" = 750 ] && ok "$prefix: feeds.d mode 0750" ||
		fail "$prefix: feeds.d mode $(stat -c %a "${d}${conf%/*}/feeds.d")"
	grep -Eq "^u feedd - \".*\" $state\$" "$sysusers" && ok "$prefix: sysusers home $state" ||
		fail "$prefix: sysusers entry: $(grep '^u' "$sysusers")"
	has "$tmpfiles" "d $state 0750 feedd feedd -" && ok "$prefix: tmpfiles creates $state" ||
		fail "$prefix: tmpfiles entry: $(grep '^d' "$tmpfiles")"

	# The unit's view: StateDirectory= sets $STATE_DIRECTORY, and the
	# installed config's relative database lands there.
	mkdir -p "$tmp/state"
	STATE_DIRECTORY=$tmp/state "$d$bindir/feedd" --check-config --config "$d$conf" \
		>"$tmp/out" 2>"$tmp/err"
	rc=$?
	[ $rc -eq 0 ] && has "$tmp/out" "database $tmp/state/feedd.db" &&
		ok "$prefix: installed config checks, database in \$STATE_DIRECTORY" ||
		{ fail "$prefix: --check-config (exit $rc):"; cat "$tmp/out" "$tmp/err"; }

	sh "$src/tests/integration/systemd_unit.sh" "$src" "$unit" "$sysusers" >"$tmp/unit" 2>&1
	rc=$?
	[ $rc -eq 0 ] && ok "$prefix: systemd_unit.sh on the installed unit" ||
		{ fail "$prefix: systemd_unit.sh (exit $rc):"; cat "$tmp/unit"; }

	# A second install keeps an edited config and puts the example beside it.
	echo "# edited" >>"$d$conf"
	DESTDIR=$d "$cmake" --install "$b" >"$tmp/log" 2>&1
	tail -1 "$d$conf" | grep -qx '# edited' && [ -f "$d$conf.example" ] &&
	[ "$(stat -c %a "$d$conf.example")" = 640 ] &&
		ok "$prefix: reinstall keeps the edited config, example beside it (0640)" ||
		{ fail "$prefix: reinstall over an edited config:"; cat "$tmp/log"; }

	# Hand-run feedd and feedctl on the default config, with the tree
	# mounted where it was built for: both find the state directory.
	if [ "$prefix" = /usr/local ]; then
		mkdir -p "$d$state"
		ns="unshare -m"
		[ "$(id -u)" -ne 0 ] && ns="unshare -rm"
		$ns sh -c '
			mount --bind "$1/usr/local" /usr/local || exit 99
			echo "== feedd --check-config"
			env -u STATE_DIRECTORY /usr/local/bin/feedd --check-config 2>&1
			echo "== feedctl feeds"
			/usr/local/bin/feedctl feeds 2>&1
			exit 0' sh "$d" >"$tmp/ns" 2>&1
		rc=$?
		if [ $rc -ne 0 ]; then
			fail "$prefix: could not mount the tree at /usr/local ($ns, exit $rc):"; cat "$tmp/ns"
		else
			grep -qxF "database $state/feedd.db" "$tmp/ns" &&
			grep -qF "feedd: $conf: config OK" "$tmp/ns" &&
				ok "$prefix: feedd --check-config (default config): database $state/feedd.db" ||
				{ fail "$prefix: hand-run feedd:"; cat "$tmp/ns"; }
			sed -n '/^== feedctl/,$p' "$tmp/ns" | grep -qF "$state/feedd.db" &&
				ok "$prefix: feedctl (default config) opens $state/feedd.db" ||
				{ fail "$prefix: feedctl did not look for $state/feedd.db:"; cat "$tmp/ns"; }
		fi
	fi

	# -DBUILD_TESTING=OFF: no test, fuzz or benchmark target, no test; the
	# outer build (BUILD_TESTING=ON) has them, so the pattern finds them.
	pat='^\.\.\. (test_|bench_|replay_|fuzz_)'
	"$cmake" --build "$b" --target help >"$tmp/targets" 2>&1
	"$cmake" --build "$outer" --target help >"$tmp/outer" 2>&1
	if grep -Eq "$pat" "$tmp/targets"; then
		fail "$prefix: BUILD_TESTING=OFF has targets:"; grep -E "$pat" "$tmp/targets"
	elif ! grep -Eq '^\.\.\. test_' "$tmp/outer" || ! grep -Eq '^\.\.\. bench_' "$tmp/outer"; then
		fail "the outer build lists no test_ or bench_ target: the check cannot see them"
	else
		ok "$prefix: BUILD_TESTING=OFF builds no test, fuzz or bench target"
	fi
	(cd "$b" && ctest -N) >"$tmp/ctest" 2>&1
	grep -qx 'Total Tests: 0' "$tmp/ctest" && ok "$prefix: BUILD_TESTING=OFF registers no test" ||
		{ fail "$prefix: ctest -N:"; cat "$tmp/ctest"; }
done
echo "$fails failed checks"
[ $fails -eq 0 ]
