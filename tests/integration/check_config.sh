#!/bin/sh
# feedd --check-config as a user runs it: every error of a broken
# multi-file config as FILE:LINE: DIRECTIVE: ..., then the count, exit 1;
# a missing or unwritable database directory named; secrets never shown;
# a relative database resolved beside the config (or in $STATE_DIRECTORY);
# the example etc/feedd.conf in a fresh copy (no feeds.d/) passes.
#
# usage: check_config.sh FEEDD SRCDIR
set -u
# Absolute: the script changes directory.
feedd=$(realpath "$1")
src=$(realpath "$2")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
chmod 755 "$tmp"
fails=0

ok() { echo "ok   $1"; }
fail() { echo "FAIL $1"; fails=$((fails + 1)); }
# run NAME WANT_RC ARGS...: feedd ARGS, stdout to $tmp/out, stderr to $tmp/err
run() {
	name=$1 want=$2
	shift 2
	"$feedd" "$@" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	if [ "$rc" -ne "$want" ]; then
		fail "$name: exit $rc, want $want"
		sed 's/^/  stderr: /' "$tmp/err"
		return 1
	fi
	ok "$name: exit $rc"
}
# line NAME FILE TEXT: TEXT is a whole line of FILE
line() {
	if grep -qxF -- "$3" "$2"; then ok "$1"; else
		fail "$1: no line '$3' in:"; sed 's/^/  | /' "$2"
	fi
}
# nosecret NAME: none of the test's secrets in stdout or stderr
nosecret() {
	if grep -E 'hunter2|s3cr3t|pr0xy|t0psecret' "$tmp/out" "$tmp/err"; then
		fail "$1: a secret is shown"
	else
		ok "$1: no secret shown"
	fi
}

# --- A broken config over three files ------------------------------
c=$tmp/broken
mkdir -p "$c/feeds.d" "$c/state"
cat >"$c/feedd.conf" <<EOF
database $c/state/feedd.db
intreval 30m
include feeds.d/*.conf
include extra.conf
include nothere.d/*.conf
proxy http://px:pr0xy@proxy.example:3128 extra
feed main https://bob:hunter2@example.org/rss ftp=1
EOF
cat >"$c/feeds.d/a.conf" <<EOF
# first feed file
feed a https://a.example/ interval=soon keep-count=many
feed b ftp://u:t0psecret@b.example/
feed a https://a2.example/ site=example.org
feed c https://c.example/ password=s3cr3t
EOF
cat >"$c/feeds.d/b.conf" <<EOF
feed d https://d.example/ password s3cr3t
feed ok https://ok.example/ title="Fine feed"
EOF
run "broken config" 1 --check-config --config "$c/feedd.conf"
line "main file line 2" "$tmp/err" "$c/feedd.conf:2: intreval: unknown directive (did you mean 'interval'?)"
line "include bad duration" "$tmp/err" "$c/feeds.d/a.conf:2: feed: bad duration 'soon' for interval (use e.g. 90s, 30m, 2h, 1d, 1w)"
line "same line, second bad key" "$tmp/err" "$c/feeds.d/a.conf:2: feed: bad number 'many' for keep-count (expected 0 to 2147483647)"
line "URL userinfo masked" "$tmp/err" "$c/feeds.d/a.conf:3: feed: invalid URL 'ftp://****@b.example/': only http and https are supported"
line "duplicate of a bad feed" "$tmp/err" "$c/feeds.d/a.conf:4: feed: duplicate feed name 'a' (first defined at $c/feeds.d/a.conf:2)"
line "bad site" "$tmp/err" "$c/feeds.d/a.conf:4: feed: invalid URL 'example.org' for site: expected http://HOST/... or https://HOST/..."
line "password without username" "$tmp/err" "$c/feeds.d/a.conf:5: feed: password without username"
line "second include file" "$tmp/err" "$c/feeds.d/b.conf:1: feed: expected key=value, got 'password' (write password=VALUE)"
line "the password after it masked" "$tmp/err" "$c/feeds.d/b.conf:1: feed: expected key=value, got '****'"
line "missing plain include" "$tmp/err" "$c/feedd.conf:4: include: $c/extra.conf: No such file or directory"
line "proxy words masked" "$tmp/err" "$c/feedd.conf:6: proxy: expects 1 argument, got 2: 'http://****@proxy.example:3128' 'extra' (quote a value that has spaces)"
line "after the includes" "$tmp/err" "$c/feedd.conf:7: feed: unknown key 'ftp'"
line "the count" "$tmp/err" "12 errors"
n=$(grep -c "^$c/" "$tmp/err")
if [ "$n" -eq 12 ]; then ok "12 FILE:LINE lines"; else fail "$n FILE:LINE lines, want 12"; fi
if [ -s "$tmp/out" ]; then fail "broken config printed on stdout"; else ok "nothing on stdout"; fi
if grep -q "nothere" "$tmp/err"; then fail "a glob of a missing dir is reported"; else ok "glob of a missing dir: silent"; fi
nosecret "broken config"

# --- The database's directory ---------------------------------------
c=$tmp/nodir
mkdir -p "$c"
printf 'feed x https://x.example/\ndatabase missing/sub/feedd.db\n' >"$c/feedd.conf"
run "missing database directory" 1 --check-config --config "$c/feedd.conf"
line "missing dir named" "$tmp/err" "$c/feedd.conf:2: database: directory '$c/missing/sub' of '$c/missing/sub/feedd.db' does not exist (create it, writable by the user feedd runs as)"
line "missing dir: count" "$tmp/err" "1 error"

# A syntax error and the database problem in one run.
printf 'feed x https://x.example/ colour=red\ndatabase missing/feedd.db\n' >"$c/feedd.conf"
run "syntax error and missing directory" 1 --check-config --config "$c/feedd.conf"
line "both: the key" "$tmp/err" "$c/feedd.conf:1: feed: unknown key 'colour'"
line "both: the directory" "$tmp/err" "$c/feedd.conf:2: database: directory '$c/missing' of '$c/missing/feedd.db' does not exist (create it, writable by the user feedd runs as)"
line "both: count" "$tmp/err" "2 errors"

# Unwritable: a directory only root may write, checked as nobody (as
# root, permissions would not apply); or, not root, a 0555 directory.
c=$tmp/ro
mkdir -p "$c/db"
printf 'database db/feedd.db\nfeed x https://x.example/\n' >"$c/feedd.conf"
chmod 755 "$c" "$c/db"
chmod 644 "$c/feedd.conf"
as=""
if [ "$(id -u)" -eq 0 ]; then
	if command -v setpriv >/dev/null 2>&1; then
		# nobody must be able to run the binary: a copy in $tmp.
		cp "$feedd" "$tmp/feedd-copy" && chmod 755 "$tmp/feedd-copy"
		as="setpriv --reuid=65534 --regid=65534 --clear-groups"
	fi
else
	chmod 555 "$c/db"
fi
if [ "$(id -u)" -eq 0 ] && [ -z "$as" ]; then
	echo "skip unwritable directory: root without setpriv"
else
	if [ -n "$as" ]; then
		$as "$tmp/feedd-copy" --check-config --config "$c/feedd.conf" >"$tmp/out" 2>"$tmp/err"
	else
		"$feedd" --check-config --config "$c/feedd.conf" >"$tmp/out" 2>"$tmp/err"
	fi
	rc=$?
	if [ $rc -eq 1 ]; then ok "unwritable directory: exit 1"; else
		fail "unwritable directory: exit $rc, want 1"; sed 's/^/  | /' "$tmp/err"
	fi
	if grep -q "^$c/feedd.conf:1: database: directory '$c/db' is not writable by .*: Permission denied" "$tmp/err"; then
		ok "unwritable directory named"
	else
		fail "unwritable directory: message:"; sed 's/^/  | /' "$tmp/err"
	fi
	line "unwritable: count" "$tmp/err" "1 error"
	chmod 755 "$c/db"
fi

# --- A good config: resolved, secrets masked, exit 0 ------------------
c=$tmp/good
mkdir -p "$c/etc/feeds.d" "$tmp/elsewhere"
cat >"$c/etc/feedd.conf" <<EOF
database rel/feedd.db
proxy http://px:pr0xy@proxy.example:3128
include feeds.d/*.conf
include absent.d/*.conf
EOF
cat >"$c/etc/feeds.d/one.conf" <<EOF
feed one https://bob:hunter2@example.org/rss username=bob password=s3cr3t title="Café – Neuigkeiten" site=https://example.org/
EOF
mkdir -p "$c/etc/rel"
# From another directory: relative to the config, not the cwd.
cd "$tmp/elsewhere" || exit 1
env -u STATE_DIRECTORY "$feedd" --check-config --config ../good/etc/feedd.conf >"$tmp/out" 2>"$tmp/err"
rc=$?
cd / || exit 1
if [ $rc -eq 0 ]; then ok "good config: exit 0"; else fail "good config: exit $rc"; sed 's/^/  | /' "$tmp/err"; fi
line "database beside the config" "$tmp/out" "database $c/etc/rel/feedd.db"
line "proxy masked" "$tmp/out" "proxy http://****@proxy.example:3128"
line "feed masked, title and site" "$tmp/out" "feed one https://****@example.org/rss title=\"Café – Neuigkeiten\" site=https://example.org/ username=bob password=****"
line "config OK" "$tmp/err" "feedd: ../good/etc/feedd.conf: config OK (1 feeds, 1 enabled)"
nosecret "good config"
# The printout is itself a valid config.
sed "s|^database .*|database $c/etc/rel/copy.db|" "$tmp/out" >"$c/etc/printed.conf"
run "printout re-checks" 0 --check-config --config "$c/etc/printed.conf"

# Under systemd, $STATE_DIRECTORY (its first entry) wins.
mkdir -p "$tmp/state/rel"
STATE_DIRECTORY="$tmp/state:/nonexistent" "$feedd" --check-config --config "$c/etc/feedd.conf" >"$tmp/out" 2>"$tmp/err"
rc=$?
if [ $rc -eq 0 ]; then ok "STATE_DIRECTORY: exit 0"; else fail "STATE_DIRECTORY: exit $rc"; sed 's/^/  | /' "$tmp/err"; fi
line "STATE_DIRECTORY: database" "$tmp/out" "database $tmp/state/rel/feedd.db"

# An existing database that cannot be opened for writing.
if [ "$(id -u)" -ne 0 ]; then
	: >"$c/etc/rel/feedd.db"
	chmod 444 "$c/etc/rel/feedd.db"
	run "read-only database file" 1 --check-config --config "$c/etc/feedd.conf"
	if grep -q "^$c/etc/feedd.conf:1: database: '$c/etc/rel/feedd.db' is not readable and writable by .*: Permission denied" "$tmp/err"; then
		ok "read-only database named"
	else
		fail "read-only database: message:"; sed 's/^/  | /' "$tmp/err"
	fi
fi

# --- The example config in a fresh checkout (no feeds.d/) ------------
mkdir -p "$tmp/checkout/etc"
cp "$src/etc/feedd.conf" "$tmp/checkout/etc/"
cd "$tmp/checkout" || exit 1
env -u STATE_DIRECTORY "$feedd" --check-config --config etc/feedd.conf >"$tmp/out" 2>"$tmp/err"
rc=$?
cd / || exit 1
if [ $rc -eq 0 ]; then ok "example config, no feeds.d: exit 0"; else
	fail "example config: exit $rc"; sed 's/^/  | /' "$tmp/err"
fi
line "example: database in etc/" "$tmp/out" "database $tmp/checkout/etc/feedd.db"
if grep -qx 'include feeds.d/\*\.conf' "$src/etc/feedd.conf"; then
	ok "example includes feeds.d/*.conf"
else
	fail "example does not include feeds.d/*.conf"
fi

[ $fails -eq 0 ] || { echo "$fails failure(s)"; exit 1; }
