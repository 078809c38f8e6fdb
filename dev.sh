#!/bin/sh
# feedd's one entry point for newcomers and CI (Debian 12, as root or with sudo).
#
#   ./dev.sh run     install build deps if missing, build, run feedd on etc/feedd.conf
#   ./dev.sh test    install deps if missing, build with ASan+UBSan, run every test (CTest)
#   ./dev.sh deps    only install the Debian packages
#   ./dev.sh build   only configure and build build/ (release-ish, no sanitizers)
set -eu
cd "$(dirname "$0")"

# Build and test dependencies. The -dev packages are what feedd links; the
# rest build it (cmake, pkg-config, gcc) or drive its tests and fuzzers
# (python3 runs the integration tests' HTTP servers, clang builds libFuzzer
# targets, sqlite3 is handy for inspecting the database; systemd checks the
# unit; debhelper, dpkg-dev, fakeroot, lintian and mmdebstrap build, check
# and install the Debian package in install.deb; prometheus brings promtool,
# which integration.metrics checks the /metrics output with). libpq-dev is
# the PostgreSQL client library the store's PostgreSQL driver links;
# postgresql-15 brings the server binaries (initdb, pg_ctl, postgres) that
# tests/support/pgserver.py runs a private server with for the pg fixture,
# and postgresql-client-15 the psql it and pg.harness talk to it with.
PKGS="gcc make cmake pkg-config libcurl4-openssl-dev libxml2-dev libuv1-dev
libssl-dev libsqlite3-dev libjansson-dev libmicrohttpd-dev libpq-dev python3
clang libclang-rt-14-dev sqlite3 systemd debhelper dpkg-dev fakeroot lintian
mmdebstrap prometheus postgresql-15 postgresql-client-15"

deps() {
	missing=""
	for p in $PKGS; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
			missing="$missing $p"
	done
	[ -z "$missing" ] && return 0
	echo "dev.sh: installing:$missing" >&2
	SUDO=""
	[ "$(id -u)" -ne 0 ] && SUDO=sudo
	$SUDO apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing >&2
}

jobs=$(nproc 2>/dev/null || echo 2)

case "${1:-}" in
deps)
	deps ;;
build)
	deps
	cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	cmake --build build -j "$jobs" ;;
run)
	deps
	cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	cmake --build build -j "$jobs"
	shift
	exec build/daemon/feedd --config etc/feedd.conf "$@" ;;
test)
	deps
	cmake -S . -B build-test -DCMAKE_BUILD_TYPE=Debug -DFEEDD_SANITIZE=ON \
		-DFEEDD_WERROR=ON -DFEEDD_FUZZ=ON -DCMAKE_C_COMPILER=clang >/dev/null
	cmake --build build-test -j "$jobs"
	shift
	cd build-test
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 \
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		ctest --output-on-failure -j "$jobs" "$@" ;;
*)
	sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//'
	exit 2 ;;
esac
