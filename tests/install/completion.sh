#!/bin/bash
# etc/feedctl.bash-completion, driven as bash drives it: source it, set
# COMP_WORDS/COMP_CWORD, call _feedctl, compare COMPREPLY.
#  1. against a stand-in feedctl that prints the documented help format
#     (`feedctl help`: "commands:" then "  NAME ..." lines; `feedctl CMD
#     --help`: one "  --option" a line) and has a command the real one
#     lacks, so a hard-coded list would show;
#  2. against the real feedctl and feedd: commands, options, and feed names
#     for --feed from a database feedd wrote.
#
# usage: completion.sh SRCDIR FEEDCTL FEEDD
set -u
src=$1
real_feedctl=$2
feedd=$3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0

# shellcheck source=/dev/null
. "$src/etc/feedctl.bash-completion"
complete -p feedctl >/dev/null 2>&1 || { echo "FAIL: no 'complete ... feedctl'"; exit 1; }

# expect "WANTED WORDS" WORD... : completing the last WORD offers exactly
# WANTED (in any order).
expect() {
	local want=$1; shift
	COMP_WORDS=("$@")
	COMP_CWORD=$(( ${#COMP_WORDS[@]} - 1 ))
	COMP_LINE="$*"
	COMP_POINT=${#COMP_LINE}
	COMPREPLY=()
	_feedctl
	local got
	got=$(printf '%s\n' "${COMPREPLY[@]}" | sed '/^$/d' | sort -u | tr '\n' ' ')
	want=$(printf "%s\n" $want | sed "/^$/d" | sort -u | tr "\n" " ")
	if [ "$got" = "$want" ]; then
		echo "ok   [$*] -> $got"
	else
		echo "FAIL [$*]: got '$got', want '$want'"
		fails=$((fails + 1))
	fi
}

# 1. The documented format, from a stand-in on PATH.
mkdir -p "$tmp/bin"
cat >"$tmp/bin/feedctl" <<'EOF'
#!/bin/sh
echo "$*" >>"$FAKE_LOG"
while [ $# -gt 0 ]; do
	case $1 in
	--db|--config) shift 2 ;;
	*) break ;;
	esac
done
case "$*" in
help|--help)
	cat <<'H'
usage: feedctl [--db PATH] [--config PATH] COMMAND [ARGS]

commands:
  feeds [--format F]        every feed with its state
  articles [--feed NAME]    list articles
  zz-only-here FILE         a command the real feedctl lacks

global options:
  --db PATH        database
  --config PATH    config file (default /etc/feedd/feedd.conf)
  -h, --help       print this help
H
	;;
"articles --help")
	cat <<'H'
usage: feedctl articles [OPTIONS]
  --feed NAME               only this feed (repeatable)
  --since TIME              newer than TIME
  --format jsonl|tsv|text   output format
  --unique, -u              one article per link
H
	;;
"feeds --help")
	printf 'usage: feedctl feeds [OPTIONS]\n  --format jsonl|tsv|text  output format\n  --header  a header line\n' ;;
"zz-only-here --help")
	printf 'usage: feedctl zz-only-here FILE\n' ;;
"feeds --format tsv")
	printf 'alpha\t0\tok\nbeta-2\t3\tok\n' ;;
*) exit 2 ;;
esac
EOF
chmod +x "$tmp/bin/feedctl"
export FAKE_LOG=$tmp/fake.log
PATH=$tmp/bin:$PATH

expect "feeds articles zz-only-here" feedctl ""
expect "articles" feedctl ar
expect "zz-only-here" feedctl zz
expect "--db --config --help" feedctl --
expect "--feed --format" feedctl articles --f
expect "--db --config --help --feed --since --format --unique" feedctl articles --
expect "jsonl tsv text" feedctl articles --format ""
expect "tsv" feedctl feeds --format ts
expect "" feedctl articles --since ""
expect "feeds articles zz-only-here" feedctl help ""
: >"$FAKE_LOG"
expect "alpha beta-2" feedctl --config /x/f.conf articles --feed ""
if grep -qx -- '--config /x/f.conf feeds --format tsv' "$FAKE_LOG"; then
	echo "ok   --feed names come from 'feedctl --config /x/f.conf feeds --format tsv'"
else
	echo "FAIL feeds was not asked with the command line's --config:"; cat "$FAKE_LOG"
	fails=$((fails + 1))
fi
expect "beta-2" feedctl articles --db /x.db --feed b
mkdir -p "$tmp/cwd/sub" && : >"$tmp/cwd/a.db" && : >"$tmp/cwd/b.opml"
cd "$tmp/cwd" || exit 1
expect "a.db" feedctl --db a
expect "b.opml" feedctl zz-only-here b
cd / || exit 1

# 2. The real feedctl (by path, as typed after building) and a database
# that feedd made: feeds on a closed port fail at once but are stored.
cat >"$tmp/f.conf" <<EOF
database $tmp/f.db
feed news-a http://127.0.0.1:9/a.xml
feed news-b http://127.0.0.1:9/b.xml
feed other http://127.0.0.1:9/c.xml
EOF
"$feedd" --config "$tmp/f.conf" --once >/dev/null 2>&1
cmds=$("$real_feedctl" --help | sed -n '/^commands:/,/^$/s/^  \([a-z][a-z-]*\).*/\1/p')
[ -n "$cmds" ] || { echo "FAIL: no commands in $real_feedctl --help"; exit 1; }
expect "$cmds" "$real_feedctl" ""
expect "articles" "$real_feedctl" artic
expect "news-a news-b" "$real_feedctl" --config "$tmp/f.conf" articles --feed new
expect "news-a news-b other" "$real_feedctl" articles --db "$tmp/f.db" --feed ""
COMP_WORDS=("$real_feedctl" articles --)
COMP_CWORD=2
_feedctl
for o in --feed --since --limit --format --db --config; do
	case " ${COMPREPLY[*]} " in
	*" $o "*) echo "ok   real: articles -- offers $o" ;;
	*) echo "FAIL real: articles -- lacks $o (got ${COMPREPLY[*]})"; fails=$((fails + 1)) ;;
	esac
done
expect "jsonl tsv text" "$real_feedctl" feeds --format ""
# Each option once, though a command's --help repeats the global ones.
COMP_WORDS=("$real_feedctl" search --)
COMP_CWORD=2
_feedctl
dups=$(printf '%s\n' "${COMPREPLY[@]}" | sort | uniq -d)
[ -z "$dups" ] && [ ${#COMPREPLY[@]} -gt 3 ] && echo "ok   real: search -- offers ${#COMPREPLY[@]} options, each once" ||
	{ echo "FAIL real: search -- repeats '$dups' (${COMPREPLY[*]})"; fails=$((fails + 1)); }

echo "$fails failed"
[ $fails -eq 0 ]
