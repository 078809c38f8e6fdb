#!/bin/sh
# Add files to a fuzz corpus under their SHA-256 names (content-addressed,
# so adding the same input twice is a no-op).
#   tests/fuzz/seed.sh TARGET FILE|DIR...
# fuzz_parse inputs start with one option byte (see fuzz_parse.c); files
# given for it are added once with option byte 0x00 (no base URL, no
# charset hint, pushed in chunks) and once with 0x41 (a base URL, pushed
# whole). Example, after new fixtures land in tests/data:
#   tests/fuzz/seed.sh fuzz_parse tests/data/feeds
set -eu
[ $# -ge 2 ] || { sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'; exit 2; }
target=$1
shift
dir=$(dirname "$0")/corpus/$target
mkdir -p "$dir"
tmp=$(mktemp)
trap 'rm -f "$tmp"' EXIT
add() {
	h=$(sha256sum "$1" | cut -d' ' -f1)
	[ -e "$dir/$h" ] || { cp "$1" "$dir/$h"; echo "added $dir/$h"; }
}
for arg in "$@"; do
	find "$arg" -type f | sort | while read -r f; do
		if [ "$target" = fuzz_parse ]; then
			for opt in '\000' '\101'; do
				printf "$opt" > "$tmp"
				cat "$f" >> "$tmp"
				add "$tmp"
			done
		else
			add "$f"
		fi
	done
done
