#!/usr/bin/env bash
# Soak run: millions of packets through a queue for minutes, restarting the
# consumer now and then, in a throwaway network namespace. Fails if a packet
# is lost, if resident memory grows after the warm-up, or if goroutines or
# descriptors are left behind; prints packets, rate and resident memory.
#
#   scripts/soak.sh [DURATION]    DURATION as Go parses it (default 3m)
#
# NFQ_SOAK_WARMUP (default 20s) and NFQ_SOAK_RESTART (default 10s) tune it.
# Needs root, like the kernel tests.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/usr/local/go/bin"

if [[ $(id -u) != 0 ]]; then
	echo "soak: root is required (network namespaces and iptables rules)" >&2
	exit 1
fi
export NFQ_SOAK_DURATION="${1:-${NFQ_SOAK_DURATION:-3m}}"
go test -tags soak -count=1 -run '^TestSoak$' -v -timeout 2h ./internal/scenario | grep -v '^=== '
