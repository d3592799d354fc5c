#!/usr/bin/env bash
# Reliability checks beyond the race-enabled suite, for CI:
#   1. the suite under AddressSanitizer: C memory errors, and C memory still
#      allocated and unreferenced at exit (LeakSanitizer, on by default with
#      go test -asan since Go 1.25); needs gcc's libasan (Debian: libasan8);
#   2. every fuzz target for a short while (FUZZTIME seconds, default 10).
# The strict cgo pointer checks run as make test-cgocheck. Needs root.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/usr/local/go/bin"

echo "== go test -asan"
go test -asan -count=1 -timeout 15m .
echo "== fuzzing"
bash scripts/fuzz.sh "${FUZZTIME:-10}"
