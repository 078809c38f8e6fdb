#!/bin/sh
# bench/scale.sh: feedd with many feeds on many hosts (the issue
# "1,000,000 feeds"). Prints a table per N; bench/scale/README.md has the
# method.
#
#   bench/scale.sh [--n N ...] [--hosts H|N=H] [--hosts-ratio R]
#                  [--interval S|N=S] [--intervals K] [--shared-links]
#                  [--change-fraction F] [--nginx-workers W] [--json FILE]
#                  [--write-docs] [--keep] [--no-install]
#
#   --n N             feeds (repeatable; default 10000 and 100000;
#                     --n 1000000 is a manual run of about 2 hours)
#   --hosts H, N=H    distinct hosts (127.A.B.C); default the issue's table:
#                     10,000 over 2,000, 100,000 over 10,000, 1,000,000 over
#                     100,000, else N/10
#   --hosts-ratio R   hosts = N / R for every N instead
#   --interval S, N=S the poll interval; default max(60, N/555) s, i.e.
#                     555 polls/s (1,000,000 feeds every 30 minutes)
#   --intervals K     intervals measured after the first (ramp) one (default 2)
#   --shared-links    all feeds carry the same 20 links (a planet); GUIDs
#                     stay per feed
#   --change-fraction F  feeds that gain an entry per interval (default 0.05)
#   --nginx-workers W nginx worker_processes (default 1)
#   --json FILE       every figure as JSON
#   --write-docs      put the tables into docs/benchmarks.md (scale markers)
#   --keep            keep the work directory (logs, databases, feeds)
#   --no-install      do not apt-get install nginx-light when nginx is missing
#
# Environment: BUILD_DIR (default build-bench, RelWithDebInfo, made here
# when missing), NO_BUILD=1 (use BUILD_DIR as it is), WORK_DIR (default a
# new directory under /tmp).
#
# The run happens in a private network namespace (unshare -n as root,
# unshare -rn otherwise) with lo up: there every 127.x.y.z reaches nginx's
# one socket on 0.0.0.0, and nothing outside sees or disturbs the traffic.
set -eu
ORIG=$(pwd)
cd "$(dirname "$0")/.."
ROOT=$(pwd)

KEEP='' INSTALL=1
CMD="bench/scale.sh"
for arg in "$@"; do CMD="$CMD $arg"; done
# scale.sh's own options are taken out; the rest goes to scale.py, which
# checks them.
set -- "$@" --end-of-args
while [ "$1" != --end-of-args ]; do
	case "$1" in
	--keep) KEEP=1; set -- "$@" --keep ;;
	--no-install) INSTALL= ;;
	--json)
		case "$2" in /*) j=$2 ;; *) j=$ORIG/$2 ;; esac
		set -- "$@" "$1" "$j"; shift ;;
	-h|--help) sed -n '2,36p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) set -- "$@" "$1" ;;
	esac
	shift
done
shift

PYTHON=${PYTHON:-/usr/bin/python3}
export PYTHON
BUILD_DIR=${BUILD_DIR:-build-bench}

if ! command -v nginx >/dev/null; then
	[ -n "$INSTALL" ] || { echo "scale.sh: nginx is required" >&2; exit 1; }
	echo "scale.sh: installing nginx-light" >&2
	SUDO=
	[ "$(id -u)" -ne 0 ] && SUDO=sudo
	DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq nginx-light >&2
fi
if [ ! -f "$BUILD_DIR/CMakeCache.txt" ]; then
	cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
fi
[ -n "${NO_BUILD:-}" ] || cmake --build "$BUILD_DIR" -j"$(nproc)" --target feedd >&2
FEEDD=$(cd "$BUILD_DIR" && pwd)/daemon/feedd

WORK=${WORK_DIR:-$(mktemp -d /tmp/feedd-scale.XXXXXX)}
mkdir -p "$WORK"
WORK=$(cd "$WORK" && pwd)

# scale.py stops feedd and nginx itself (try/finally); this is the net
# for a driver killed outright: the pids it recorded, if still theirs.
cleanup() {
	for pf in "$WORK/feedd.pid" "$WORK"/n*/nginx/nginx.pid; do
		[ -s "$pf" ] || continue
		pid=$(cat "$pf")
		case "$(cat "/proc/$pid/comm" 2>/dev/null)" in
		feedd) kill -KILL "$pid" 2>/dev/null || : ;;
		nginx) kill -QUIT "$pid" 2>/dev/null || : ;;
		esac
	done
	if [ -n "$KEEP" ]; then
		echo "scale.sh: work directory kept: $WORK" >&2
	else
		rm -rf "$WORK"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

UNSHARE="unshare -n"
[ "$(id -u)" -eq 0 ] || UNSHARE="unshare -rn"
echo "scale.sh: work directory $WORK; running in a private network namespace" >&2
# The exit status of the driver decides ours (set -e).
# shellcheck disable=SC2086
$UNSHARE sh -c 'ip link set lo up && exec "$@"' sh \
	"$PYTHON" bench/scale/scale.py --work "$WORK" --feedd "$FEEDD" \
	--root "$ROOT" --command "$CMD" "$@"
