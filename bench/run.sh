#!/usr/bin/env bash
# Benchmarks the nfq consumers against the C references, in a throwaway
# network namespace. Needs root. Usage: bench/run.sh [-quick] [nfqbench flags]
# (bench/cmd/nfqbench -h lists them). Results go to bench/results/.
set -euo pipefail

cd "$(dirname "$0")/.."
if [ "$(id -u)" != 0 ]; then
	echo "bench/run.sh: needs root (network namespace, iptables, NFQUEUE)" >&2
	exit 1
fi
for tool in ip iptables pkg-config cc go; do
	command -v "$tool" >/dev/null || { echo "bench/run.sh: $tool not found" >&2; exit 1; }
done
pkg-config --exists libnetfilter_queue libnfnetlink libmnl || {
	echo "bench/run.sh: install libnetfilter-queue-dev libnfnetlink-dev libmnl-dev" >&2
	exit 1
}

build=$(mktemp -d)
ns="nfqbench-$$"
cleanup() {
	ip netns del "$ns" 2>/dev/null || true
	rm -rf "$build"
}
trap cleanup EXIT
trap 'exit 130' INT TERM # runs cleanup through the EXIT trap

nfqlibs=$(pkg-config --cflags --libs libnetfilter_queue libnfnetlink libmnl)
for prog in plain batched; do
	# shellcheck disable=SC2086 # nfqlibs is a list of flags
	cc -O2 -Wall -o "$build/$prog" "bench/c/$prog.c" $nfqlibs
done
for prog in sender sink prober; do
	cc -O2 -Wall -o "$build/$prog" "bench/c/$prog.c"
done
# bench/ is a module of its own (its plotting libraries stay out of the
# library's go.mod); it uses this checkout of nfq through a replace directive.
go -C bench build -o "$build/nfqconsumer" ./cmd/nfqconsumer
go -C bench build -o "$build/nfqbench" ./cmd/nfqbench
go build -o "$build/passer" ./examples/passer

ip netns add "$ns"
ip netns exec "$ns" "$build/nfqbench" -netns "$ns" -bin "$build" -out bench/results "$@"
