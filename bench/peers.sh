#!/bin/sh
# bench/peers.sh: feedd against the tools users would pick instead, on one
# generated corpus and one local nginx, in one run (issue 6, "Benchmarks
# against peers"). Writes the table into docs/benchmarks.md.
#
#   bench/peers.sh [--quick] [-n FEEDS] [--runs N] [--slow-runs N]
#                  [--skip LIST] [--no-install] [--keep] [--out FILE]
#
#   -n FEEDS       feeds in the corpus (default 2000: ~58 MB, ~43,000 entries)
#   --runs N       runs of the fast measurements (default 5); medians reported
#   --slow-runs N  runs of newsboat and feedparser (default 3)
#   --cycle-runs N runs of each feedd fetch-and-store cycle (default 3)
#   --normal-runs N  runs of the feedd cycles with `sync normal` (default 1)
#   --quick        -n 200 --runs 3 --slow-runs 1 --cycle-runs 1, report to
#                  stdout only
#   --skip LIST    comma list of parts to leave out: parse, fetch, sfeed,
#                  xmllint, feedparser, newsboat, 10x
#   --no-install   do not apt-get install missing peers
#   --keep         keep the work directory (printed at the end)
#   --out FILE     where the table goes (default docs/benchmarks.md;
#                  "-" = stdout only)
#
# Environment: BUILD_DIR (default build-bench, a RelWithDebInfo build made
# here when missing), NO_BUILD=1 (use BUILD_DIR as it is), WORK_DIR (default
# a new directory under /tmp), NGINX_WORKERS (default 1), CONNS (transfers
# in flight for every client, default 64).
#
# Needs root (or sudo) only to install the peers: sfeed, newsboat,
# python3-feedparser and nginx from Debian. nginx runs as a private
# instance with its own config on 127.0.0.1 and a free port; the system's
# nginx service is not touched.
set -eu
cd "$(dirname "$0")/.."
ROOT=$(pwd)

N=2000 RUNS=5 SLOW=3 CYCLES=3 NORMAL=1 SKIP='' INSTALL=1 KEEP=''
OUT=docs/benchmarks.md
while [ $# -gt 0 ]; do
	case "$1" in
	-n) N=$2; shift ;;
	--runs) RUNS=$2; shift ;;
	--slow-runs) SLOW=$2; shift ;;
	--cycle-runs) CYCLES=$2; shift ;;
	--normal-runs) NORMAL=$2; shift ;;
	--quick) N=200 RUNS=3 SLOW=1 CYCLES=1 OUT=- ;;
	--skip) SKIP=$2; shift ;;
	--no-install) INSTALL= ;;
	--keep) KEEP=1 ;;
	--out) OUT=$2; shift ;;
	-h|--help) sed -n '2,31p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "peers.sh: unknown option $1 (try --help)" >&2; exit 2 ;;
	esac
	shift
done

PYTHON=/usr/bin/python3     # Debian's, where python3-feedparser lives
export PYTHON
BUILD_DIR=${BUILD_DIR:-build-bench}
CONNS=${CONNS:-64}
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)

# --- peers from Debian --------------------------------------------------
# package:command-or-module pairs; a package Debian lacks is reported and
# its rows are left out, never faked.
missing=
for p in sfeed newsboat python3-feedparser nginx curl libxml2-utils time; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
		missing="$missing $p"
done
if [ -n "$missing" ] && [ -n "$INSTALL" ]; then
	avail=
	for p in $missing; do
		if apt-cache policy "$p" 2>/dev/null | grep -q "Candidate: [0-9]"; then
			avail="$avail $p"
		else
			echo "peers.sh: $p is not available from the configured Debian" \
				"sources; its measurements are skipped" >&2
		fi
	done
	if [ -n "$avail" ]; then
		echo "peers.sh: installing:$avail" >&2
		SUDO=
		[ "$(id -u)" -ne 0 ] && SUDO=sudo
		# shellcheck disable=SC2086
		DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $avail >&2
	fi
fi
command -v nginx >/dev/null || { echo "peers.sh: nginx is required" >&2; exit 1; }
FP=
$PYTHON -c 'import feedparser' 2>/dev/null && FP=$PYTHON

# --- feedd, optimised, without sanitizers --------------------------------
if [ ! -f "$BUILD_DIR/CMakeCache.txt" ]; then
	cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
fi
targets="feedd feedctl"
[ -f bench/bench_parse.c ] && targets="$targets bench_parse"
# shellcheck disable=SC2086
[ -n "${NO_BUILD:-}" ] || cmake --build "$BUILD_DIR" -j"$(nproc)" --target $targets >&2
BP=
if [ -x "$BUILD_DIR/bench/bench_parse" ] &&
    "$BUILD_DIR/bench/bench_parse" --help 2>&1 | grep -q -- "--dir"; then
	BP=$ROOT/$BUILD_DIR/bench/bench_parse
fi

# --- corpus and server --------------------------------------------------
WORK=${WORK_DIR:-$(mktemp -d /tmp/feedd-peers.XXXXXX)}
mkdir -p "$WORK"
WORK=$(cd "$WORK" && pwd)
# The bare libxml2 SAX pass (the floor for any libxml2-based parser).
# shellcheck disable=SC2046
${CC:-cc} -O2 -o "$WORK/sax_pass" bench/peers/sax_pass.c \
	$(pkg-config --cflags --libs libxml-2.0)
. bench/peers/nginx.sh
cleanup() {
	nginx_stop
	if [ -n "$KEEP" ]; then
		echo "peers.sh: work directory kept: $WORK" >&2
	else
		rm -rf "$WORK"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "peers.sh: generating $N feeds in $WORK/corpus" >&2
$PYTHON bench/peers/gen_feeds.py generate "$WORK/corpus" -n "$N" --gzip >&2
ln -sfn "$WORK/corpus" "$WORK/www"
nginx_start "$WORK/www" "$WORK"
echo "peers.sh: nginx on 127.0.0.1:$NGINX_PORT (pid $NGINX_PID)" >&2

outarg=
case "$OUT" in
-) ;;
/*) outarg="--out $OUT" ;;
*) outarg="--out $ROOT/$OUT" ;;
esac
# shellcheck disable=SC2086
$PYTHON bench/peers/peers.py --work "$WORK" --corpus "$WORK/corpus" \
	--www "$WORK/www" --port "$NGINX_PORT" \
	--feedd "$ROOT/$BUILD_DIR/daemon/feedd" \
	--feedctl "$ROOT/$BUILD_DIR/daemon/feedctl" \
	--bench-parse "$BP" --feedparser-python "$FP" --sax-pass "$WORK/sax_pass" \
	--runs "$RUNS" --slow-runs "$SLOW" --cycle-runs "$CYCLES" \
	--normal-runs "$NORMAL" --conns "$CONNS" \
	--skip "$SKIP" --load-start "$LOAD_START" $outarg
