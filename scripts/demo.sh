#!/usr/bin/env bash
# Demo: examples/passer accepting real traffic from an NFQUEUE rule.
#
# Everything happens in a throwaway network namespace, so the host's rules and
# traffic are not touched: an iptables rule queues ICMP and UDP sent to
# 127.0.0.1 to queue 0, the passer accepts each packet and prints a line, and
# pings and UDP datagrams show that the traffic got through. Needs root.
set -euo pipefail

cd "$(dirname "$0")/.."
export PATH="$PATH:/usr/local/go/bin"

if [[ $(id -u) != 0 ]]; then
	echo "demo: root is required (network namespaces and iptables rules need CAP_SYS_ADMIN and CAP_NET_ADMIN)" >&2
	exit 1
fi
for cmd in go ip iptables ping; do
	command -v "$cmd" >/dev/null || { echo "demo: $cmd not found: run 'make deps' first (Go goes in /usr/local/go)" >&2; exit 1; }
done

ns="nfqdemo-$$-$RANDOM"
tmp=$(mktemp -d)
passer_pid=
cleanup() {
	if [[ -n $passer_pid ]] && kill -0 "$passer_pid" 2>/dev/null; then
		kill "$passer_pid" 2>/dev/null || true
		wait "$passer_pid" 2>/dev/null || true
	fi
	ip netns del "$ns" 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT

in_ns() { ip netns exec "$ns" "$@"; }

# udp_delivered prints how many datagrams reached the namespace's UDP layer
# (delivered to a socket, or answered "port unreachable" for want of one).
udp_delivered() {
	# shellcheck disable=SC2016 # an awk program: its $n are awk's fields
	in_ns awk '$1 == "Udp:" && $2 ~ /^[0-9]/ { print $2 + $3 }' /proc/net/snmp
}

echo "== building examples/passer"
go build -buildvcs=false -o "$tmp/passer" ./examples/passer

echo "== network namespace $ns, queue 0"
ip netns add "$ns"
in_ns ip link set lo up
in_ns iptables -A OUTPUT -d 127.0.0.1 -p icmp -j NFQUEUE --queue-num 0
in_ns iptables -A OUTPUT -d 127.0.0.1 -p udp --dport 9999 -j NFQUEUE --queue-num 0
in_ns iptables -S OUTPUT | sed 's/^/   /'

echo "== starting the passer in $ns"
# Not through in_ns: $! must be the passer itself, to send it SIGINT.
ip netns exec "$ns" "$tmp/passer" -queue 0 >"$tmp/passer.out" 2>"$tmp/passer.err" &
passer_pid=$!
for _ in $(seq 100); do
	grep -q "open" "$tmp/passer.err" 2>/dev/null && break
	kill -0 "$passer_pid" 2>/dev/null || break
	sleep 0.1
done
if ! grep -q "open" "$tmp/passer.err"; then
	echo "demo: the passer did not start:" >&2
	cat "$tmp/passer.err" >&2
	exit 1
fi
sed 's/^/   /' "$tmp/passer.err"

echo "== ping -c 3 127.0.0.1 (every echo request and reply goes through the queue)"
failures=()
in_ns ping -c 3 -i 0.2 -W 2 127.0.0.1 | sed 's/^/   /' || failures+=("pings were not all answered")

echo "== 3 UDP datagrams to 127.0.0.1:9999"
before=$(udp_delivered)
for i in 1 2 3; do
	in_ns bash -c "echo 'hello $i' >/dev/udp/127.0.0.1/9999"
done
delivered=0
for _ in $(seq 20); do
	delivered=$(($(udp_delivered) - before))
	((delivered >= 3)) && break
	sleep 0.1
done
echo "   $delivered of 3 reached the UDP layer of $ns (nobody listens on 9999, so each is answered with an ICMP port unreachable, queued too)"
((delivered >= 3)) || failures+=("only $delivered of 3 UDP datagrams arrived")

echo "== stopping the passer with SIGINT"
sleep 0.2
kill -INT "$passer_pid"
for _ in $(seq 50); do
	kill -0 "$passer_pid" 2>/dev/null || break
	sleep 0.1
done
if kill -0 "$passer_pid" 2>/dev/null; then
	echo "demo: the passer did not stop within 5 s of SIGINT; killing it" >&2
	kill -KILL "$passer_pid" 2>/dev/null || true
fi
rc=0
wait "$passer_pid" || rc=$?
passer_pid=
echo "== passer output (exit code $rc)"
sed 's/^/   /' "$tmp/passer.out"
if [[ -s $tmp/passer.err ]]; then
	grep -v ' open, ' "$tmp/passer.err" | sed 's/^/   stderr: /' || true
fi

seen=$(sed -n 's/^passer: \([0-9]*\) packets seen.*/\1/p' "$tmp/passer.out")
if ((rc != 0)); then
	echo "demo: FAILED: the passer exited with $rc" >&2
	exit 1
fi
if [[ -z $seen ]] || ((seen < 9)); then
	failures+=("the passer saw ${seen:-no} packets, expected at least 9")
fi
if ((${#failures[@]})); then
	printf 'demo: FAILED: %s\n' "${failures[@]}" >&2
	exit 1
fi
echo "== demo OK: pings answered, UDP delivered, $seen packets went through queue 0 and were accepted"
