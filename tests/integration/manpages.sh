#!/bin/sh
# The man pages render without groff warnings, and feedctl(1) documents
# every command `feedctl help` lists (a section each; tests/cli/help_man.py
# checks their options).
#
# usage: manpages.sh FEEDCTL SRCDIR
set -u
feedctl=$1
man=$2/docs/man
fails=0

if command -v groff >/dev/null 2>&1; then
	for p in "$man/feedd.8" "$man/feedd.conf.5" "$man/feedctl.1"; do
		out=$(LC_ALL=C.UTF-8 groff -ww -man -z -Tutf8 "$p" 2>&1)
		if [ -n "$out" ]; then
			echo "FAIL groff warnings in $p:"; echo "$out"
			fails=$((fails + 1))
		else
			echo "ok   $(basename "$p") renders cleanly"
		fi
	done
else
	echo "note: no groff; rendering not checked"
fi

cmds=$("$feedctl" help | sed -n '/^commands:$/,/^$/s/^  \([a-z][a-z-]*\).*/\1/p')
[ -n "$cmds" ] || { echo "FAIL: no commands in feedctl --help"; exit 1; }
for c in $cmds; do
	# In roff source a '-' in a command name is written '\-'.
	pat=$(printf '%s' "$c" | sed 's/-/\\\\-/g')
	if grep -q "^\.SS $pat$" "$man/feedctl.1"; then
		echo "ok   feedctl.1 documents '$c'"
	else
		echo "FAIL feedctl.1 lacks command '$c'"
		fails=$((fails + 1))
	fi
done
[ $fails -eq 0 ]
