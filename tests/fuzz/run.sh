#!/bin/sh
# Run one libFuzzer binary for a fixed budget on a COPY of its corpus, so
# the source tree is never written. Crash/leak/timeout inputs land in
# ARTIFACTS (kept for reproduction: replay_<target> FILE).
#   run.sh BINARY CORPUS_DIR ARTIFACTS [libFuzzer flags...]
set -eu
bin=$1 corpus=$2 artifacts=$3
shift 3
work=$(mktemp -d "${TMPDIR:-/tmp}/feedd-fuzz.XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM
mkdir -p "$artifacts"
[ -d "$corpus" ] && cp "$corpus"/* "$work"/ 2>/dev/null || true
# -jobs=1 and no -workers: the machines running CI are small.
"$bin" -timeout=10 -rss_limit_mb=2048 -max_len=65536 -print_final_stats=1 \
	-artifact_prefix="$artifacts/$(basename "$bin")-" "$@" "$work"
