#!/usr/bin/env bash
# Runs every fuzz target of the package for a while each:
#
#   scripts/fuzz.sh [SECONDS]     (default 10, or $FUZZTIME)
#
# A failing input is written to testdata/fuzz/<target>/ and the script stops
# with an error; `go test -run '<target>/<file>'` replays it. No target
# needs root or the kernel: the parser and the verdict encoder run on a
# queue without a socket.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/usr/local/go/bin"

secs="${1:-${FUZZTIME:-10}}"

# fuzz_once runs one target and keeps its output in $log.
log=$(mktemp)
trap 'rm -f "$log"' EXIT
fuzz_once() {
	go test -run '^$' -fuzz "^$1\$" -fuzztime "${secs}s" . 2>&1 | tee "$log"
	return "${PIPESTATUS[0]}"
}

# boundary_race tells Go's own fuzzing bug (go.dev/issue/75804, fixed in Go
# 1.27): when -fuzztime runs out while a worker is busy, the run fails with
# "context deadline exceeded" although no input failed. A real finding always
# writes its input to testdata/fuzz.
boundary_race() {
	grep -q 'context deadline exceeded' "$log" && ! grep -q 'Failing input written' "$log"
}

targets=$(go test -list '^Fuzz' . | grep '^Fuzz')
for target in $targets; do
	echo "== $target (${secs}s)"
	fuzz_once "$target" && continue
	boundary_race || exit 1
	echo "== $target: stopped by the toolchain's fuzztime race, not by an input; again"
	fuzz_once "$target" && continue
	boundary_race || exit 1
	echo "== $target: the toolchain's fuzztime race again; no failing input was found"
done
