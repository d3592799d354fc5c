#!/usr/bin/env bash
# Runs every fuzz target of the package for a while each:
#
#   scripts/fuzz.sh [SECONDS]     (default 10, or $FUZZTIME)
#
# A failing input is written to testdata/fuzz/<target>/ and the script stops
# with an error; `go test -run '<target>/<file>'` replays it. FuzzDispatch
# needs root (it opens a queue in a network namespace).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/usr/local/go/bin"

secs="${1:-${FUZZTIME:-10}}"
before=$(ip netns list 2>/dev/null | awk '{print $1}' | sort)
cleanup() {
	# A fuzz worker that crashes leaves its test namespace behind.
	comm -13 <(echo "$before") <(ip netns list 2>/dev/null | awk '{print $1}' | sort) |
		grep '^nfqt-' | xargs -r -n1 ip netns del 2>/dev/null || true
}
trap cleanup EXIT

targets=$(go test -list '^Fuzz' . | grep '^Fuzz')
for target in $targets; do
	echo "== $target (${secs}s)"
	go test -run '^$' -fuzz "^${target}\$" -fuzztime "${secs}s" .
done
