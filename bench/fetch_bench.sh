#!/bin/sh
# fetch_bench.sh: fetch/ (bench_fetch) against `curl --parallel` over the
# same N feeds, served by nginx on 127.0.0.1 from pre-compressed static files.
#
#   bench/fetch_bench.sh [-n FEEDS] [-r RUNS] [-c CAP]
#
# Defaults: 2000 feeds of 5-100 KB (log-uniform sizes, word soup that gzips
# about 3:1 like real feeds), 5 runs, 32 transfers in flight. Every URL is on
# one host, so bench_fetch runs with max_per_host = max_total = CAP (curl has
# no per-host cap); both ask for compressed bodies.
#
# Pass 1 downloads everything (bench_fetch also records the ETag and
# Last-Modified nginx sent); pass 2 sends them back, so every answer is 304.
# Wall time, CPU time (user + sys) and peak RSS come from /usr/bin/time -v;
# the figures printed are medians over the runs, fetch/ and curl alternating.
#
# Needs nginx, curl, python3, a C compiler and the libcurl/libuv headers;
# nginx and GNU time are installed with apt-get when missing (as root).
set -eu

N=2000
RUNS=5
CAP=32
while getopts n:r:c:h opt; do
	case $opt in
	n) N=$OPTARG ;;
	r) RUNS=$OPTARG ;;
	c) CAP=$OPTARG ;;
	*) sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
	esac
done

top=$(cd "$(dirname "$0")/.." && pwd)

need_pkg() { # command package
	command -v "$1" >/dev/null 2>&1 || [ -x "/usr/sbin/$1" ] && return 0
	echo "fetch_bench: installing $2" >&2
	SUDO=""
	[ "$(id -u)" -ne 0 ] && SUDO=sudo
	DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq \
		--no-install-recommends "$2" >&2 ||
		{ $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
			$SUDO apt-get install -y -qq --no-install-recommends "$2" >&2; }
}
need_pkg nginx nginx
[ -x /usr/bin/time ] || need_pkg /usr/bin/time time
NGINX=$(command -v nginx 2>/dev/null || echo /usr/sbin/nginx)

work=$(mktemp -d /tmp/feedd-fetch-bench.XXXXXX)
chmod 755 "$work"   # nginx workers run as an unprivileged user
cleanup() {
	if [ -f "$work/nginx.pid" ]; then
		kill "$(cat "$work/nginx.pid")" 2>/dev/null || true
		sleep 0.3
	fi
	rm -rf "$work"
}
trap cleanup EXIT INT TERM

# bench_fetch, built straight from fetch/ with the release flags
# (-O2 -g), so the rest of the tree need not build.
cc -std=c11 -O2 -g -D_GNU_SOURCE -DFEEDD_VERSION='"bench"' -I"$top/fetch" \
	"$top/bench/bench_fetch.c" "$top"/fetch/*.c \
	$(pkg-config --cflags --libs libcurl libuv) -o "$work/bench_fetch"

# The feeds, plain and pre-gzipped (nginx gzip_static), same mtime.
python3 - "$work/www" "$N" <<'EOF'
import gzip, math, os, random, sys
root, n = sys.argv[1], int(sys.argv[2])
os.makedirs(root)
rng = random.Random(42)
words = ["".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(2, 10)))
         for _ in range(3000)]
total = 0
for i in range(n):
    size = int(math.exp(rng.uniform(math.log(5000), math.log(100000))))
    head = ('<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0"><channel>'
            '<title>Feed %d</title><link>http://example.com/%d</link>\n' % (i, i))
    parts, k = [head], len(head)
    j = 0
    while k < size:
        text = " ".join(rng.choice(words) for _ in range(rng.randint(40, 200)))
        item = ("<item><title>Item %d of feed %d</title><link>http://example.com/%d/%d</link>"
                "<guid>urn:feed:%d:%d</guid><pubDate>Mon, 01 Jan 2024 00:%02d:00 GMT</pubDate>"
                "<description>%s</description></item>\n" % (j, i, i, j, i, j, j % 60, text))
        parts.append(item)
        k += len(item)
        j += 1
    parts.append("</channel></rss>\n")
    data = "".join(parts).encode()
    total += len(data)
    p = os.path.join(root, "f%d.xml" % i)
    with open(p, "wb") as f:
        f.write(data)
    with open(p + ".gz", "wb") as f:
        f.write(gzip.compress(data, 6, mtime=0))
    st = os.stat(p)
    os.utime(p + ".gz", ns=(st.st_atime_ns, st.st_mtime_ns))
print("fetch_bench: %d feeds, %.1f MB, mean %.1f KB" % (n, total / 1e6, total / n / 1e3))
EOF

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
mkdir -p "$work/tmp"
cat >"$work/nginx.conf" <<EOF
worker_processes 1;
pid $work/nginx.pid;
error_log $work/error.log;
events { worker_connections 4096; }
http {
	access_log off;
	client_body_temp_path $work/tmp/body;
	proxy_temp_path $work/tmp/proxy;
	fastcgi_temp_path $work/tmp/fastcgi;
	uwsgi_temp_path $work/tmp/uwsgi;
	scgi_temp_path $work/tmp/scgi;
	sendfile on;
	tcp_nopush on;
	keepalive_requests 1000000;
	keepalive_timeout 60;
	gzip_static on;
	types { application/rss+xml xml; }
	server {
		listen 127.0.0.1:$port;
		root $work/www;
	}
}
EOF
"$NGINX" -p "$work" -c "$work/nginx.conf"
i=0
while [ "$i" -lt "$N" ]; do
	echo "http://127.0.0.1:$port/f$i.xml"
	i=$((i + 1))
done >"$work/urls.txt"

# curl's inputs: pass 1 one transfer group; pass 2 one group per URL, each
# with its own validators (taken from bench_fetch's pass 1 below).
{
	echo 'compressed'
	echo 'write-out = "%{http_code}\n"'
	sed 's|.*|url = "&"\noutput = "/dev/null"|' "$work/urls.txt"
} >"$work/curl1.cfg"

# One timed run: "wall cpu maxrss_kb" appended to $work/<name>.times.
timed() { # name command...
	name=$1
	shift
	/usr/bin/time -f '%e %U %S %M' -o "$work/t" "$@" >"$work/out" 2>"$work/err" ||
		{ echo "fetch_bench: $name failed:" >&2; cat "$work/err" "$work/out" >&2; exit 1; }
	awk '{ printf "%s %.3f %s\n", $1, $2 + $3, $4 }' "$work/t" >>"$work/$name.times"
}

check_codes() { # want-code name
	got=$(grep -c "^$1\$" "$work/out" || true)
	[ "$got" -eq "$N" ] || { echo "fetch_bench: $2: $got of $N answers were $1" >&2; exit 1; }
}

run_fetch1() {
	timed fetch1 "$work/bench_fetch" -c "$CAP" -p "$CAP" -o "$work/validators.tsv" "$work/urls.txt"
	grep -q "ok=$N " "$work/out" || { cat "$work/out" >&2; exit 1; }
	sed -n 's/.*loop_cpu=\([0-9.]*\).*/\1/p' "$work/out" >>"$work/loop1.times"
}
run_curl1() {
	timed curl1 curl -s -S --parallel --parallel-max "$CAP" -K "$work/curl1.cfg"
	check_codes 200 "curl pass 1"
}
run_fetch2() {
	timed fetch2 "$work/bench_fetch" -c "$CAP" -p "$CAP" "$work/validators.tsv"
	grep -q "not_modified=$N " "$work/out" || { cat "$work/out" >&2; exit 1; }
	sed -n 's/.*loop_cpu=\([0-9.]*\).*/\1/p' "$work/out" >>"$work/loop2.times"
}
run_curl2() {
	timed curl2 curl -s -S --parallel --parallel-max "$CAP" -K "$work/curl2.cfg"
	check_codes 304 "curl pass 2"
}

# Warm-up (page cache, nginx), and the validators for pass 2.
"$work/bench_fetch" -c "$CAP" -p "$CAP" -o "$work/validators.tsv" "$work/urls.txt" >/dev/null
awk -F '\t' '{
	gsub(/\\/, "\\\\", $2); gsub(/"/, "\\\"", $2)
	if (NR > 1) print "next"
	print "compressed"
	print "write-out = \"%{http_code}\\n\""
	print "url = \"" $1 "\""
	print "output = \"/dev/null\""
	if ($2 != "") print "header = \"If-None-Match: " $2 "\""
	if ($3 != "") print "header = \"If-Modified-Since: " $3 "\""
}' "$work/validators.tsv" >"$work/curl2.cfg"

r=0
while [ "$r" -lt "$RUNS" ]; do
	if [ $((r % 2)) -eq 0 ]; then
		run_fetch1; run_curl1; run_fetch2; run_curl2
	else
		run_curl1; run_fetch1; run_curl2; run_fetch2
	fi
	r=$((r + 1))
done

median() { # file column
	sort -n -k "$2" "$1" | awk -v c="$2" '{ v[NR] = $c } END {
		if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

echo "fetch_bench: $N feeds, $RUNS runs, cap $CAP in flight (max_per_host = max_total = $CAP, one host), medians"
printf '%-28s %9s %9s %10s\n' "" "wall s" "CPU s" "RSS MB"
for p in 1 2; do
	for t in fetch curl; do
		f="$work/$t$p.times"
		label="pass $p ($( [ $p = 1 ] && echo 200 || echo 304 )) $( [ $t = fetch ] && echo 'fetch/' || echo 'curl -Z')"
		printf '%-28s %9.3f %9.3f %10.1f\n' "$label" "$(median "$f" 1)" \
			"$(median "$f" 2)" "$(echo "$(median "$f" 3)" | awk '{ print $1 / 1024 }')"
	done
	w=$(awk -v a="$(median "$work/fetch$p.times" 1)" -v b="$(median "$work/curl$p.times" 1)" 'BEGIN { printf "%.2f", a / b }')
	c=$(awk -v a="$(median "$work/fetch$p.times" 2)" -v b="$(median "$work/curl$p.times" 2)" 'BEGIN { printf "%.2f", a / b }')
	echo "pass $p ratio fetch/ : curl   wall ${w}x   CPU ${c}x"
done
q=$(awk -v a="$(median "$work/fetch2.times" 2)" -v b="$(median "$work/fetch1.times" 2)" 'BEGIN { printf "%.2f", a / b }')
l1=$(median "$work/loop1.times" 1)
l2=$(median "$work/loop2.times" 1)
ql=$(awk -v a="$l2" -v b="$l1" 'BEGIN { printf "%.2f", a / b }')
echo "fetch/ 304 pass CPU / pass 1 CPU: ${q} whole process; ${ql} in the loop only ($l2 s / $l1 s, start-up excluded)"
echo "targets: pass 1 wall <= 1.2x curl; 304 pass CPU < 0.25x pass 1"
