#!/bin/sh
# pg_store.sh: the store's refresh-cycle cost on SQLite and on PostgreSQL
# in the same run (bench_store_cycle on each), medians and PG/SQLite ratios.
#
#   bench/pg_store.sh [--runs R] [--feeds N] [--articles M] [--grow G]
#
# PostgreSQL is a private server on a unix socket, started and stopped by
# tests/support/pgserver.py (as root it runs as user feedd-test); each run
# gets a fresh database, and SQLite a fresh file. The two backends run in
# turns. Needs a build in build/ (./dev.sh build).
set -eu
cd "$(dirname "$0")/.."
runs=3
args=""
while [ $# -gt 0 ]; do
	case "$1" in
	--runs) runs=$2; shift 2 ;;
	--feeds|--articles|--grow) args="$args $1 $2"; shift 2 ;;
	*) sed -n '4,5p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
	esac
done
bin=build/bench/bench_store_cycle
[ -x "$bin" ] || { echo "pg_store.sh: $bin missing (./dev.sh build)" >&2; exit 1; }
tmp=$(mktemp -d /tmp/pg_store.XXXXXX)
chmod 755 "$tmp"
pgdir="$tmp/pg"
python3 tests/support/pgserver.py start "$pgdir" >/dev/null
trap 'python3 tests/support/pgserver.py stop "$pgdir" >/dev/null; rm -rf "$tmp"' EXIT
echo "pg_store.sh: $runs runs, load average $(cut -d' ' -f1-3 /proc/loadavg)"
for i in $(seq 1 "$runs"); do
	# shellcheck disable=SC2086
	"$bin" --db "$tmp/s$i.db" $args | sed "s/^/sqlite $i /" | tee -a "$tmp/out"
	rm -f "$tmp/s$i.db" "$tmp/s$i.db-wal" "$tmp/s$i.db-shm"
	conn=$(python3 tests/support/pgserver.py createdb "$pgdir")
	# shellcheck disable=SC2086
	"$bin" --db "$conn" $args | sed "s/^/pg $i /" | tee -a "$tmp/out"
done
echo "pg_store.sh: load average $(cut -d' ' -f1-3 /proc/loadavg)"
# Medians per backend and phase, then PG/SQLite.
awk '
/wall_s=/ {
	k = $1 " " $3
	for (f = 4; f <= NF; f++) {
		split($f, kv, "=")
		v[k, kv[1], ++cnt[k, kv[1]]] = kv[2]
	}
	phases[$3] = 1
}
function median(k, name,   n, i, j, t, a) {
	n = cnt[k, name]
	for (i = 1; i <= n; i++) a[i] = v[k, name, i]
	for (i = 2; i <= n; i++)
		for (j = i; j > 1 && a[j - 1] > a[j]; j--) {
			t = a[j]; a[j] = a[j - 1]; a[j - 1] = t
		}
	return a[int((n + 1) / 2)]
}
END {
	printf "%-10s %16s %16s %16s %16s %9s %9s\n", "median", "sqlite wall/feed",
		"pg wall/feed", "sqlite cpu/feed", "pg cpu/feed", "wall PG/S", "cpu PG/S"
	split("fresh unchanged fresh-big unch-big", order, " ")
	for (o = 1; o <= 4; o++) {
		p = order[o]
		if (!(p in phases)) continue
		sw = median("sqlite " p, "wall_us_per_feed")
		pw = median("pg " p, "wall_us_per_feed")
		sc = median("sqlite " p, "cpu_us_per_feed")
		pc = median("pg " p, "cpu_us_per_feed")
		printf "%-10s %14.0fus %14.0fus %14.0fus %14.0fus %9.2f %9.2f\n", p,
			sw, pw, sc, pc, pw / sw, pc / sc
	}
}' "$tmp/out"
