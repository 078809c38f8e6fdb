#!/bin/sh
# feedctl import-opml / export-opml against the fixtures in tests/data/opml:
# exact output, names made unique against the config, skipped entries,
# credentials kept out of exports, an export -> import round trip, and the
# errors for files that are not (complete) OPML.
#
# usage: opml.sh FEEDCTL TESTDATA
set -u
feedctl=$1
data=$2/opml
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0

ok() { echo "ok   $1"; }
fail() { echo "FAIL $1"; fails=$((fails + 1)); }
# expect NAME WANT_RC CMD...: run CMD, stdout to $tmp/out, stderr to $tmp/err
expect() {
	name=$1 want=$2
	shift 2
	"$@" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	if [ "$rc" -ne "$want" ]; then
		fail "$name: exit $rc, want $want"
		sed 's/^/  stderr: /' "$tmp/err"
		return 1
	fi
	return 0
}
has() { # has NAME FILE STRING
	if grep -qF -- "$3" "$2"; then ok "$1"; else fail "$1: no '$3' in:"; sed 's/^/  /' "$2"; fi
}
same() { # same NAME WANT GOT
	if diff -u "$2" "$3" >"$tmp/diff"; then ok "$1"; else fail "$1"; cat "$tmp/diff"; fi
}

: >"$tmp/empty.conf"
cd "$data" || exit 1

# Import: folders and categories become tags, titles become safe unique names.
if expect import 0 "$feedctl" --config "$tmp/empty.conf" import-opml ok_import.opml; then
	same "import output" ok_import.expected "$tmp/out"
	has "import: invalid URL reported" "$tmp/err" \
		"skipping 'Old gopher feed': invalid URL 'gopher://example.org/1/news': only http and https are supported"
	has "import: summary" "$tmp/err" "read 10 feeds, skipped 2 (1 duplicate URL, 1 invalid URL), wrote 8 to standard output"
fi

# The same from standard input.
if expect "import stdin" 0 sh -c "\"$feedctl\" --config \"$tmp/empty.conf\" import-opml - < ok_import.opml"; then
	sed 's/ from stdin / from ok_import.opml /' "$tmp/out" >"$tmp/stdin.out"
	same "import stdin output" ok_import.expected "$tmp/stdin.out"
fi

# Names already in the config are avoided; URLs already in it are skipped.
cat >"$tmp/existing.conf" <<'EOF'
feed xkcd https://elsewhere.example/comic.xml
feed mine https://lwn.net/headlines/rss
EOF
if expect "import vs config" 0 "$feedctl" --config "$tmp/existing.conf" import-opml ok_import.opml; then
	has "import: name made unique against config" "$tmp/out" \
		"feed xkcd-2 https://xkcd.com/atom.xml tags=Comics"
	has "import: configured URL skipped" "$tmp/err" \
		"skipping 'LWN.net': already configured as 'mine'"
	if grep -q 'lwn.net/headlines/rss' "$tmp/out"; then
		fail "import: configured URL printed again"
	else
		ok "import: configured URL not printed"
	fi
	# The printed lines append cleanly to that config.
	cat "$tmp/existing.conf" "$tmp/out" >"$tmp/appended.conf"
	expect "appended config parses" 0 "$feedctl" --config "$tmp/appended.conf" export-opml &&
		ok "appended config parses"
fi

# Export: OPML 2.0, folders by first tag, all tags in category, no secrets.
if expect export 0 env SOURCE_DATE_EPOCH=1795946400 "$feedctl" --config ok_export.conf export-opml; then
	same "export output" ok_export.expected.opml "$tmp/out"
	if grep -q -e s3cret -e hunter2 -e alice -e bob "$tmp/out"; then
		fail "export leaks credentials"
	else
		ok "export keeps credentials out"
	fi
	cp "$tmp/out" "$tmp/exported.opml"
	# Round trip: the same names, URLs (minus credentials) and tags.
	if expect "reimport" 0 "$feedctl" --config "$tmp/empty.conf" import-opml "$tmp/exported.opml"; then
		grep '^feed ' "$tmp/out" | sort >"$tmp/reimport"
		same "export -> import round trip" ok_export.reimport "$tmp/reimport"
	fi
fi

# Errors: one clear line and exit 1; usage errors exit 2.
expect "not OPML" 1 "$feedctl" --config "$tmp/empty.conf" import-opml err_not_opml.xml &&
	has "not OPML message" "$tmp/err" \
		"err_not_opml.xml: not OPML (the root element is <rss>, not <opml>)"
expect "no body" 1 "$feedctl" --config "$tmp/empty.conf" import-opml err_no_body.opml &&
	has "no body message" "$tmp/err" "err_no_body.opml: not OPML (no <body>)"
expect "truncated" 1 "$feedctl" --config "$tmp/empty.conf" import-opml err_truncated.opml &&
	has "truncated message names file and line" "$tmp/err" "import-opml: err_truncated.opml:7: "
expect "missing file" 1 "$feedctl" --config "$tmp/empty.conf" import-opml "$tmp/absent.opml" &&
	has "missing file message" "$tmp/err" "absent.opml"
[ -s "$tmp/out" ] && fail "error cases print nothing on stdout"
expect "usage" 2 "$feedctl" import-opml && ok "import-opml without FILE: usage"
printf 'feed a https://x/\nfeed a https://y/\n' >"$tmp/bad.conf"
expect "export bad config" 1 "$feedctl" --config "$tmp/bad.conf" export-opml &&
	has "export bad config message" "$tmp/err" \
		"bad.conf:2: feed: duplicate feed name 'a' (first defined at $tmp/bad.conf:1)"

[ "$fails" -eq 0 ] || { echo "$fails failure(s)"; exit 1; }
echo "all passed"
