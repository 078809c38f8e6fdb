#!/bin/sh
# feedctl's reading commands against a database written through store/:
# articles (filters, formats, order), show, search, feeds, follow, errors,
# and a reader under another uid while the files are read-only to it.
# usage: feedctl_read.sh FEEDCTL STORE_FILL
FEEDCTL=$1
FILL=$2
command -v python3 >/dev/null || { echo "python3 missing: skip"; exit 77; }
d=$(mktemp -d) || exit 1
pids=
cleanup() { for p in $pids; do kill "$p" 2>/dev/null; done; rm -rf "$d"; }
trap cleanup EXIT
db=$d/feeds.db
fc() { "$FEEDCTL" --db "$db" "$@"; }
fail() { echo "FAIL: $*"; [ -f "$d/err" ] && cat "$d/err"; exit 1; }
lines() { wc -l < "$1" | tr -d ' '; }
# json FILE EXPR MESSAGE: a Python expression over the list `L` of the JSON
# lines in FILE (a copy is kept); all are checked in one python3 run at the
# end, since starting python3 is slow on a loaded machine.
nchecks=0
json() {
	nchecks=$((nchecks + 1))
	cp "$1" "$d/check$nchecks.jsonl"
	printf '%s\t%s\t%s\n' "$d/check$nchecks.jsonl" "$2" "$3" >>"$d/checks"
}
# wait_lines FILE N: up to 10 s for FILE to have N lines
wait_lines() { i=0; while [ "$(lines "$1")" -lt "$2" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done; [ "$(lines "$1")" -eq "$2" ]; }

# Errors: a missing database, with its path in the message.
fc articles >"$d/out" 2>"$d/err" && fail "missing database accepted"
grep -q "feeds.db" "$d/err" || fail "the error does not name the file"

"$FILL" "$db" alpha 1 30 >/dev/null || fail "fill alpha"
# The same stories in another feed: links differ only in case, port, utm_*.
"$FILL" "$db" beta 1 5 --link-base https://EXAMPLE.org:443/ >/dev/null || fail "fill beta"

# articles: JSON Lines when stdout is not a terminal, newest first.
fc articles >"$d/all" 2>"$d/err" || fail "articles"
[ "$(lines "$d/all")" -eq 35 ] || fail "articles: $(lines "$d/all") lines, want 35"
json "$d/all" 'L[0]["title"] == "Article 30 of alpha" and L[-1]["title"] in ("Article 1 of alpha", "Article 1 of beta")' "articles: not newest first"
json "$d/all" 'all(k in L[0] for k in ("id","feed","title","link","text","content","categories","published","first_seen","revision","story_id")) and L[0]["categories"] == ["test"]' "articles: fields"
json "$d/all" '[a["date"] for a in L] == sorted([a["date"] for a in L], reverse=True)' "articles: dates not descending"
fc articles --feed beta --format tsv >"$d/tsv" || fail "articles --feed --format tsv"
[ "$(lines "$d/tsv")" -eq 5 ] || fail "tsv: want 5 lines"
awk -F'\t' 'NF != 5 { exit 1 }' "$d/tsv" || fail "tsv: want 5 fields per line"
fc articles --unique >"$d/u" || fail "articles --unique"
[ "$(lines "$d/u")" -eq 30 ] || fail "--unique: $(lines "$d/u") lines, want 30 (beta's 5 are alpha's stories)"
json "$d/u" 'all(a["feed"] == "alpha" for a in L)' "--unique kept the later copies"
fc articles --limit 3 >"$d/l" && [ "$(lines "$d/l")" -eq 3 ] || fail "--limit 3"
maxa=$(fc articles --feed alpha --format tsv --limit 1 | cut -f1)
fc articles --after "$maxa" >"$d/a" && [ "$(lines "$d/a")" -eq 5 ] || fail "--after $maxa"
fc articles --since 2024-01-01T00:20:00Z --feed alpha >"$d/s" && [ "$(lines "$d/s")" -eq 11 ] || fail "--since: $(lines "$d/s")"
fc articles --format text --limit 2 >"$d/t" && grep -q "Article 30 of alpha" "$d/t" && head -1 "$d/t" | grep -q TITLE || fail "--format text"
fc articles --feed nope >"$d/out" 2>"$d/err"; [ $? -eq 1 ] || fail "unknown feed: exit status"
grep -q "no feed named 'nope'" "$d/err" || fail "unknown feed: message"
fc articles --format xml >"$d/out" 2>"$d/err"; [ $? -eq 2 ] || fail "bad --format: exit status"
fc articles --since yesterdayish >"$d/out" 2>"$d/err"; [ $? -eq 2 ] || fail "bad --since: exit status"

# show: text and JSON; bad and unknown ids.
fc show 3 >"$d/show" 2>"$d/err" || fail "show 3"
head -1 "$d/show" | grep -qx "Article 3 of alpha" || fail "show: title first"
grep -q "^First paragraph of article number3\.$" "$d/show" && grep -q "^Second paragraph" "$d/show" || fail "show: paragraphs"
grep -q "^Source: alpha" "$d/show" && grep -q "^Link: https://example.org/p/3?utm_source=alpha$" "$d/show" || fail "show: source and link"
fc show 3 --json >"$d/sj" || fail "show --json"
json "$d/sj" 'L[0]["id"] == 3 and L[0]["text"].startswith("First paragraph")' "show --json content"
fc show abc >"$d/out" 2>"$d/err"; [ $? -eq 2 ] || fail "show abc: exit status"
grep -q "bad article id 'abc'" "$d/err" || fail "show abc: message"
fc show 99999 >"$d/out" 2>"$d/err"; [ $? -eq 1 ] || fail "show 99999: exit status"
grep -q "no article with id 99999" "$d/err" || fail "show 99999: message"

# search: ranked with a snippet; punctuation is not FTS5 syntax by default.
fc search number3 >"$d/q" 2>"$d/err" || fail "search"
[ "$(lines "$d/q")" -eq 2 ] || fail "search number3: $(lines "$d/q") hits, want 2"
json "$d/q" 'all("[number3]" in a["snippet"] for a in L) and L[0]["rank"] <= L[1]["rank"]' "search: snippet/rank"
fc search 'c++' 'foo-bar' >"$d/q" 2>"$d/err" || fail "search with punctuation"
fc search --fts '"unbalanced' >"$d/q" 2>"$d/err"; [ $? -eq 1 ] || fail "bad FTS query: exit status"
grep -q "bad search query" "$d/err" || fail "bad FTS query: message"
fc search --limit 100 --fts 'gardening NOT number3' >"$d/q" && [ "$(lines "$d/q")" -eq 33 ] || fail "search --fts NOT"

# feeds
fc feeds >"$d/f" || fail "feeds"
json "$d/f" '[(f["name"], f["articles"], f["failures"]) for f in L] == [("alpha", 30, 0), ("beta", 5, 0)] and L[0]["next_fetch"] == "2023-11-14T23:13:20Z" and L[0]["last_success"] is not None' "feeds content"

# follow: replays from --after 0, then prints each change as it commits,
# while writers come and go (each store_fill is a writer process that
# opens and closes the database, like a daemon restart).
"$FEEDCTL" --db "$db" follow --after 0 --interval 50 >"$d/fo" 2>"$d/foerr" & pids="$pids $!"
# A feed the database does not know is an error at once, not a silent wait;
# gamma is registered (no articles yet) before it is followed.
fc follow --feed gamma >"$d/out" 2>"$d/err"; [ $? -eq 1 ] || fail "follow --feed of an unknown feed: exit status"
grep -q "no feed named 'gamma'" "$d/err" || fail "follow --feed of an unknown feed: message"
"$FILL" "$db" gamma 1 0 >/dev/null || fail "register gamma"
"$FEEDCTL" --db "$db" follow --new-only --feed gamma --interval 50 >"$d/fg" 2>"$d/fgerr" & pids="$pids $!"
wait_lines "$d/fo" 35 || fail "follow: replay $(lines "$d/fo") lines, want 35"
sleep 0.3
"$FILL" "$db" alpha 1 3 --edit >/dev/null || fail "edit alpha"
wait_lines "$d/fo" 38 || fail "follow: updates not seen"
"$FILL" "$db" gamma 1 2 >/dev/null || fail "fill gamma"
"$FILL" "$db" delta 1 3 --keep-count 1 >/dev/null && "$FILL" "$db" delta 4 1 --keep-count 1 >/dev/null || fail "fill delta"
wait_lines "$d/fo" 47 || fail "follow: $(lines "$d/fo") lines, want 47"
json "$d/fo" '[a["change"] for a in L[35:38]] == ["update"]*3 and L[35]["article"]["revision"] == 2 and L[35]["article"]["title"].endswith("(edited)")' "follow: update rows"
json "$d/fo" '[a["change"] for a in L[44:47]] == ["purge"]*3 and all(a["article"] is None and a["feed"] == "delta" for a in L[44:47])' "follow: purge rows"
json "$d/fo" 'all(L[i]["seq"] < L[i+1]["seq"] for i in range(len(L)-1))' "follow: seq order"
wait_lines "$d/fg" 2 || fail "follow --new-only --feed gamma: $(lines "$d/fg") lines, want 2"
json "$d/fg" 'all(a["change"] == "new" and a["feed"] == "gamma" for a in L)' "follow filters"
for p in $pids; do kill "$p"; wait "$p" || fail "follow did not exit 0 on SIGTERM"; done
pids=

# Another uid that may only read the files reads them (daemon stopped).
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null &&
	setpriv --reuid=65534 --regid=65534 --clear-groups "$FEEDCTL" --version >/dev/null 2>&1; then
	chmod 755 "$d" && chmod 644 "$db" "$db-wal" "$db-shm" || fail "chmod"
	setpriv --reuid=65534 --regid=65534 --clear-groups "$FEEDCTL" --db "$db" articles --feed gamma >"$d/o2" 2>"$d/err" ||
		fail "reading as another uid without write access"
	[ "$(lines "$d/o2")" -eq 2 ] || fail "reading as another uid: $(lines "$d/o2") lines"
else
	echo "note: not root or no setpriv: skipped the other-uid read"
fi
python3 - "$d/checks" <<'PY' || exit 1
import json, sys
bad = 0
for line in open(sys.argv[1]):
    path, expr, msg = line.rstrip("\n").split("\t")
    L = [json.loads(l) for l in open(path)]
    try:
        ok = eval(expr) is True
    except Exception as e:
        ok = False
        msg += f" ({e!r})"
    if not ok:
        print("FAIL:", msg)
        bad += 1
sys.exit(1 if bad else 0)
PY
echo "ok: feedctl reading commands ($nchecks JSON checks)"
