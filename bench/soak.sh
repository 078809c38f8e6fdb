#!/bin/sh
# bench/soak.sh: feedd under load for a long time (issue 6, "Soak and load").
#
#   bench/soak.sh [--minutes M] [-n FEEDS] [--interval S] [--change-every S]
#                 [--change-fraction F] [--sample S] [--startup-feeds K]
#                 [--skip soak|startup] [--keep] [--out FILE]
#
#   --minutes M          how long feedd runs (default 30)
#   -n FEEDS             local feeds (default 2000, the peers corpus)
#   --interval S         the feeds' poll interval in seconds (default 60)
#   --change-every S     every S seconds (default 30) a fraction of the
#   --change-fraction F  feed files (default 0.05) gain one or two entries
#   --sample S           /proc sampling period (default 5 s)
#   --startup-feeds K    feeds configured for the start-up measurement
#                        (default 100000)
#   --skip LIST          leave out "soak" or "startup"
#   --keep               keep the work directory (logs, JSON, database)
#   --out FILE           where the summary goes (default docs/benchmarks.md;
#                        "-" = stdout only)
#
# Prints a time series summary and the verdicts (RSS flat after warm-up,
# fd count constant, CPU per interval stable, longest loop stall), then the
# start-up time to READY=1 and the RSS with K feeds configured.
# Environment: BUILD_DIR (default build-bench, RelWithDebInfo, made here
# when missing), NO_BUILD=1 (use BUILD_DIR as it is), WORK_DIR (default a
# new directory under /tmp).
set -eu
cd "$(dirname "$0")/.."
ROOT=$(pwd)

MIN=30 N=2000 IVL=60 CHG=30 FRAC=0.05 SAMPLE=5 STARTUP=100000 SKIP='' KEEP=''
OUT=docs/benchmarks.md
while [ $# -gt 0 ]; do
	case "$1" in
	--minutes) MIN=$2; shift ;;
	-n) N=$2; shift ;;
	--interval) IVL=$2; shift ;;
	--change-every) CHG=$2; shift ;;
	--change-fraction) FRAC=$2; shift ;;
	--sample) SAMPLE=$2; shift ;;
	--startup-feeds) STARTUP=$2; shift ;;
	--skip) SKIP=$2; shift ;;
	--keep) KEEP=1 ;;
	--out) OUT=$2; shift ;;
	-h|--help) sed -n '2,26p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "soak.sh: unknown option $1 (try --help)" >&2; exit 2 ;;
	esac
	shift
done

PYTHON=${PYTHON:-/usr/bin/python3}
export PYTHON
BUILD_DIR=${BUILD_DIR:-build-bench}
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)

if ! command -v nginx >/dev/null; then
	echo "soak.sh: installing nginx" >&2
	SUDO=
	[ "$(id -u)" -ne 0 ] && SUDO=sudo
	DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq nginx >&2
fi
if [ ! -f "$BUILD_DIR/CMakeCache.txt" ]; then
	cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
fi
[ -n "${NO_BUILD:-}" ] || cmake --build "$BUILD_DIR" -j"$(nproc)" --target feedd >&2

WORK=${WORK_DIR:-$(mktemp -d /tmp/feedd-soak.XXXXXX)}
mkdir -p "$WORK"
WORK=$(cd "$WORK" && pwd)
. bench/peers/nginx.sh
cleanup() {
	nginx_stop
	if [ -n "$KEEP" ]; then
		echo "soak.sh: work directory kept: $WORK" >&2
	else
		rm -rf "$WORK"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "soak.sh: generating $N feeds in $WORK/corpus" >&2
$PYTHON bench/peers/gen_feeds.py generate "$WORK/corpus" -n "$N" --gzip >&2
nginx_start "$WORK/corpus" "$WORK"
echo "soak.sh: nginx on 127.0.0.1:$NGINX_PORT (pid $NGINX_PID)" >&2

outarg=
case "$OUT" in
-) ;;
/*) outarg="--out $OUT" ;;
*) outarg="--out $ROOT/$OUT" ;;
esac
# shellcheck disable=SC2086
$PYTHON bench/soak/soak.py --work "$WORK" --corpus "$WORK/corpus" \
	--port "$NGINX_PORT" --feedd "$ROOT/$BUILD_DIR/daemon/feedd" \
	--feeds "$N" --minutes "$MIN" --interval "$IVL" --change-every "$CHG" \
	--change-fraction "$FRAC" --sample "$SAMPLE" --startup-feeds "$STARTUP" \
	--skip "$SKIP" --load-start "$LOAD_START" $outarg
