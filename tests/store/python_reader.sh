#!/bin/sh
# Runs the ten-line Python reader printed in store/SCHEMA.md against a
# database written through store/, so the documented snippet keeps working.
# usage: python_reader.sh STORE_FILL SCHEMA.md
FILL=$1
DOC=$2
command -v python3 >/dev/null || { echo "python3 missing: skip"; exit 77; }
d=$(mktemp -d) || exit 1
trap 'rm -rf "$d"' EXIT
awk '/<!-- python-reader -->/ { on = 1; next } on && /^```python/ { code = 1; next }
	code && /^```/ { exit } code { print }' "$DOC" >"$d/reader.py"
n=$(grep -c . "$d/reader.py")
[ "$n" -ge 5 ] && [ "$n" -le 12 ] || { echo "FAIL: no ten-line reader found in $DOC ($n lines)"; exit 1; }
"$FILL" "$d/feeds.db" news 1 4 >/dev/null || exit 1
python3 "$d/reader.py" "$d/feeds.db" 2 >"$d/out" 2>"$d/err" || { echo "FAIL: the reader failed"; cat "$d/err"; exit 1; }
printf '3\tnews\tArticle 3 of news\thttps://example.org/p/3?utm_source=news\n4\tnews\tArticle 4 of news\thttps://example.org/p/4?utm_source=news\n' >"$d/want"
cmp -s "$d/out" "$d/want" || { echo "FAIL: unexpected output:"; cat "$d/out"; exit 1; }
# Read-only: the reader must not have written (mode=ro refuses writes).
python3 -c 'import sqlite3,sys
c=sqlite3.connect(f"file:{sys.argv[1]}?mode=ro", uri=True)
try:
    c.execute("DELETE FROM feeds"); sys.exit(1)
except sqlite3.OperationalError: pass' "$d/feeds.db" || { echo "FAIL: mode=ro allowed a write"; exit 1; }
echo "ok: the Python reader in SCHEMA.md works"
