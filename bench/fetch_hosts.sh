#!/bin/sh
# fetch_hosts.sh: fetch/'s CPU per request as the number of distinct hosts
# grows, without the daemon (the issue "1,000,000 feeds": nothing may cost
# O(hosts) per poll).
#
#   bench/fetch_hosts.sh [-H HOSTS] [-n REQUESTS] [-r RUNS] [-c CAP] [-p PER_HOST]
#
# -H takes a comma-separated list (default 2000,20000,50000); every count
# makes the same REQUESTS requests (default 100000), request j going to
# host j mod HOSTS, so a host comes back every HOSTS requests. Each host is
# a distinct IP literal 127.A.B.C; in a private network namespace (unshare
# -n, as root) every one of them reaches one nginx socket on 0.0.0.0. Every
# request carries the ETag nginx gives its file, so every answer is a 304
# (as ~95% of feedd's polls are), and nginx keeps connections alive 65 s.
# bench_fetch runs with CAP transfers in flight (default 64) and PER_HOST
# per host (default 2), feedd's defaults for max-connections in the scale
# bench and max-per-host.
#
# One bench_fetch process per run, the host counts taking turns run by run;
# the figure is bench_fetch's loop CPU (getrusage user + sys, start-up
# excluded) per request, in microseconds, median over the runs. A process
# starts with no connection, so a host's first request in a run always
# connects: with HOSTS >= REQUESTS every request does.
#
# Environment: LD_LIBRARY_PATH is passed through (a libcurl built with -g,
# for perf); FETCH_HOSTS_KEEP=1 keeps the work directory; FETCH_HOSTS_CMD
# runs before bench_fetch on every run (e.g. "perf stat -e task-clock --").
set -eu

HOSTS=2000,20000,50000
REQ=100000
RUNS=3
CAP=64
PER=2
while getopts H:n:r:c:p:h opt; do
	case $opt in
	H) HOSTS=$OPTARG ;;
	n) REQ=$OPTARG ;;
	r) RUNS=$OPTARG ;;
	c) CAP=$OPTARG ;;
	p) PER=$OPTARG ;;
	*) sed -n '2,27p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
	esac
done

top=$(cd "$(dirname "$0")/.." && pwd)

# Into a private network namespace with lo up, once.
if [ -z "${FETCH_HOSTS_NS:-}" ]; then
	[ "$(id -u)" -eq 0 ] || { echo "fetch_hosts: needs root (unshare -n)" >&2; exit 1; }
	FETCH_HOSTS_NS=1 exec unshare -n -- "$0" "$@"
fi
ip link set lo up

command -v nginx >/dev/null 2>&1 || { echo "fetch_hosts: needs nginx" >&2; exit 1; }
work=$(mktemp -d /tmp/feedd-fetch-hosts.XXXXXX)
cleanup() {
	if [ -f "$work/nginx/nginx.pid" ]; then
		kill -QUIT "$(cat "$work/nginx/nginx.pid")" 2>/dev/null || true
		sleep 0.3
	fi
	[ -n "${FETCH_HOSTS_KEEP:-}" ] || rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

cc -std=c11 -O2 -g -D_GNU_SOURCE -DFEEDD_VERSION='"bench"' -I"$top/fetch" \
	"$top/bench/bench_fetch.c" "$top"/fetch/*.c \
	$(pkg-config --cflags --libs libcurl libuv) -o "$work/bench_fetch"

# 100 small feeds; the URL lists with nginx's ETag ("mtime-size" in hex).
mkdir -p "$work/www"
python3 - "$work" "$REQ" "$HOSTS" <<'EOF'
import os, sys
work, req, hosts = sys.argv[1], int(sys.argv[2]), sys.argv[3].split(",")
etags = []
for i in range(100):
    p = os.path.join(work, "www", "f%d.xml" % i)
    with open(p, "w") as f:
        f.write('<?xml version="1.0"?>\n<rss version="2.0"><channel><title>Feed %d'
                '</title>%s</channel></rss>\n' % (i, "<item><title>x</title></item>" * (i % 7)))
    st = os.stat(p)
    etags.append('"%x-%x"' % (int(st.st_mtime), st.st_size))
for h in hosts:
    h = int(h)
    with open(os.path.join(work, "urls.%d" % h), "w") as f:
        for j in range(req):
            k = j % h
            addr = "127.%d.%d.%d" % (1 + k // (256 * 254), (k // 254) % 256, 1 + k % 254)
            f.write("http://%s:PORT/f%d.xml\t%s\t\n" % (addr, j % 100, etags[j % 100]))
EOF

NGINX_LISTEN=0.0.0.0
export NGINX_LISTEN
. "$top/bench/peers/nginx.sh"
nginx_start "$work/www" "$work" >&2
for h in $(echo "$HOSTS" | tr , ' '); do
	sed -i "s/:PORT\//:$NGINX_PORT\//" "$work/urls.$h"
done

echo "fetch_hosts: $REQ requests per run, cap $CAP, $PER per host, $RUNS runs; load $(cut -d' ' -f1-3 /proc/loadavg)"
r=0
while [ "$r" -lt "$RUNS" ]; do
	list=$(echo "$HOSTS" | tr , '\n')
	[ $((r % 2)) -eq 1 ] && list=$(echo "$list" | sort -rn)
	for h in $list; do
		# shellcheck disable=SC2086
		${FETCH_HOSTS_CMD:-} "$work/bench_fetch" -c "$CAP" -p "$PER" "$work/urls.$h" >"$work/out" 2>"$work/err" ||
			{ echo "fetch_hosts: bench_fetch failed at $h hosts:" >&2; cat "$work/out" "$work/err" >&2; exit 1; }
		grep -q "not_modified=$REQ " "$work/out" || { cat "$work/out" "$work/err" >&2; exit 1; }
		sed -n 's/.*loop_cpu=\([0-9.]*\) loop_user=\([0-9.]*\) loop_sys=\([0-9.]*\).*/\1 \2 \3/p' \
			"$work/out" >>"$work/times.$h"
		echo "fetch_hosts: run $((r + 1)) $h hosts: $(sed 's/.*urls in //' "$work/out")" >&2
		[ -s "$work/err" ] && cat "$work/err" >&2
	done
	r=$((r + 1))
done

median() { # file column
	sort -n -k "$2" "$1" | awk -v c="$2" '{ v[NR] = $c } END {
		if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
printf '%-10s %14s %14s %14s\n' hosts "CPU us/req" "user us/req" "sys us/req"
for h in $(echo "$HOSTS" | tr , ' '); do
	printf '%-10s %14.1f %14.1f %14.1f\n' "$h" \
		"$(median "$work/times.$h" 1 | awk -v n="$REQ" '{ print $1 * 1e6 / n }')" \
		"$(median "$work/times.$h" 2 | awk -v n="$REQ" '{ print $1 * 1e6 / n }')" \
		"$(median "$work/times.$h" 3 | awk -v n="$REQ" '{ print $1 * 1e6 / n }')"
done
echo "fetch_hosts: load at the end $(cut -d' ' -f1-3 /proc/loadavg)"
