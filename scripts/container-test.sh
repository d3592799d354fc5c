#!/usr/bin/env bash
# Container test: builds the Dockerfile for real and runs its images against
# real traffic. For each image (slim, minimal and static targets) it makes a
# throwaway network namespace where ICMP to 127.0.0.1 goes to NFQUEUE queue 0
# with no bypass, so pings are answered only while something accepts them,
# and checks that:
#   - without a listener the pings go unanswered (the rule works);
#   - without CAP_NET_ADMIN the passer refuses to start and says why;
#   - the passer, in a container joined to the namespace with only
#     NET_ADMIN, gets the pings answered and prints every packet;
#   - nfqdump -json and its C twin nfqdump-c from the image see the packets.
#
# Uses docker when a Docker engine answers, podman otherwise (installed, with
# local stand-ins for the base images, by scripts/base-images.sh). Needs root.
# Idempotent; cleans up its containers and namespaces; exits non-zero on
# failure. Settings, from the environment:
#
#   ENGINE          docker or podman (default: docker if its engine answers)
#   IMAGE           image name; targets become tags (default: nfq)
#   TARGETS         targets to test (default: "slim minimal static")
#   STATIC          "require" to fail when the static target cannot be built
#                   here (default: report it as not tested; it needs static
#                   libmnl/libnfnetlink archives or their Debian sources)
set -euo pipefail
cd "$(dirname "$0")/.."

IMAGE=${IMAGE:-nfq}
TARGETS=${TARGETS:-slim minimal static}
STATIC=${STATIC:-}
QUEUE=0

log() { echo "container-test: $*"; }
fail() {
	echo "container-test: FAILED: $*" >&2
	exit 1
}

[[ $(id -u) == 0 ]] || fail "root is required (network namespaces, iptables, containers)"
for cmd in ip iptables ping; do
	command -v "$cmd" >/dev/null || fail "$cmd not found: run 'make deps' first"
done

if [[ -z ${ENGINE:-} ]]; then
	if command -v docker >/dev/null && timeout 20 docker info >/dev/null 2>&1; then
		ENGINE=docker
	else
		ENGINE=podman
	fi
fi
log "engine: $ENGINE"

build_opts=(--network host)
run_opts=(--ulimit nofile=1024:1024 --ulimit nproc=1024:1024)
case $ENGINE in
podman)
	bash scripts/base-images.sh
	# crun fails on some cgroup layouts; runc works everywhere podman does.
	build_opts+=(--runtime runc)
	run_opts+=(--runtime runc)
	;;
docker) ;;
*) fail "ENGINE must be docker or podman, not $ENGINE" ;;
esac
# Behind a TLS-intercepting proxy the module download needs the host's CAs.
ca=/etc/ssl/certs/ca-certificates.crt
[[ -s $ca ]] && build_opts+=(--secret "id=ca-certificates,src=$ca")

tag=$$-$RANDOM
work=$(mktemp -d)
namespaces=()
containers=()
cleanup() {
	local c n
	for c in "${containers[@]}"; do
		$ENGINE rm -f "$c" >/dev/null 2>&1 || true
	done
	for n in "${namespaces[@]}"; do
		ip netns del "$n" 2>/dev/null || true
	done
	rm -rf "$work"
}
trap cleanup EXIT

# new_ns makes a namespace with lo up where ICMP to 127.0.0.1 is queued.
# With docker, which cannot join a named namespace, a holder container owns
# it and the namespace is named after the holder's process.
ns=
net_opt=()
new_ns() {
	ns=nfqct-$tag-$1
	if [[ $ENGINE == docker ]]; then
		local holder=$ns-holder
		containers+=("$holder")
		docker run -d --name "$holder" --network none "$IMAGE:slim" sleep infinity >/dev/null
		ip netns attach "$ns" "$(docker inspect -f '{{.State.Pid}}' "$holder")"
		net_opt=(--network "container:$holder")
	else
		ip netns add "$ns"
		net_opt=(--network "ns:/run/netns/$ns")
	fi
	namespaces+=("$ns")
	ip netns exec "$ns" ip link set lo up
	ip netns exec "$ns" iptables -A OUTPUT -d 127.0.0.1 -p icmp -j NFQUEUE --queue-num "$QUEUE"
}

# wait_for FILE TEXT: waits up to 20 s for TEXT to appear in FILE.
wait_for() {
	for _ in $(seq 200); do
		grep -q -- "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

# build TARGET: builds the target into IMAGE:TARGET. Returns 3 when the
# static target cannot be built on this machine for want of archives.
build() {
	local target=$1 logf=$work/build-$1.log start=$SECONDS old
	old=$($ENGINE image inspect -f '{{.Id}}' "$IMAGE:$target" 2>/dev/null || true)
	log "building --target $target -> $IMAGE:$target"
	if ! $ENGINE build "${build_opts[@]}" --target "$target" -t "$IMAGE:$target" . >"$logf" 2>&1; then
		if [[ $target == static ]] && grep -q '^nfq-static:' "$logf"; then
			grep '^nfq-static:' "$logf" >"$work/static-reason"
			return 3
		fi
		tail -30 "$logf" >&2
		fail "building target $target"
	fi
	log "built $IMAGE:$target in $((SECONDS - start)) s"
	# The image this build replaced, if no name points to it any more.
	if [[ -n $old && $old != "$($ENGINE image inspect -f '{{.Id}}' "$IMAGE:$target")" &&
		$($ENGINE image inspect -f '{{len .RepoTags}}' "$old" 2>/dev/null) == 0 ]]; then
		$ENGINE rmi "$old" >/dev/null 2>&1 || true
	fi
}

# check_image TARGET: runs the image's programs on real traffic.
check_image() {
	local target=$1 img=$IMAGE:$1 out=$work/$1
	mkdir -p "$out"
	new_ns "$target"
	log "[$target] namespace $ns: ICMP to 127.0.0.1 -> queue $QUEUE"

	if ip netns exec "$ns" ping -c 1 -W 1 127.0.0.1 >/dev/null 2>&1; then
		fail "[$target] a ping was answered with nobody on the queue: the rule does not work"
	fi
	log "[$target] no listener: ping unanswered, as it should be"

	local rc=0
	$ENGINE run --rm "${run_opts[@]}" --cap-drop NET_ADMIN "${net_opt[@]}" "$img" \
		passer -queue "$QUEUE" >"$out/nocap.out" 2>&1 || rc=$?
	((rc != 0)) || fail "[$target] passer started without CAP_NET_ADMIN"
	grep -q 'CAP_NET_ADMIN' "$out/nocap.out" || fail "[$target] no CAP_NET_ADMIN hint: $(cat "$out/nocap.out")"
	log "[$target] without NET_ADMIN: exit $rc, '$(grep -o 'NFQUEUE needs CAP_NET_ADMIN[^:]*' "$out/nocap.out" | head -1)'"

	local name=nfqct-$tag-$target-passer
	containers+=("$name")
	$ENGINE run -d --name "$name" "${run_opts[@]}" --cap-drop ALL --cap-add NET_ADMIN "${net_opt[@]}" \
		"$img" passer -queue "$QUEUE" >/dev/null
	local ready=
	for _ in $(seq 200); do
		$ENGINE logs "$name" >"$out/passer.log" 2>&1 || true
		if grep -q ' open, ' "$out/passer.log"; then
			ready=1
			break
		fi
		sleep 0.1
	done
	[[ -n $ready ]] || fail "[$target] the passer did not start: $(cat "$out/passer.log")"
	ip netns exec "$ns" ping -c 3 -i 0.2 -W 2 127.0.0.1 >"$out/ping.out" ||
		fail "[$target] pings through the passer went unanswered: $(cat "$out/ping.out")"
	log "[$target] passer (NET_ADMIN only): $(grep -o '[0-9]* received' "$out/ping.out") of 3 pings answered"
	$ENGINE stop -t 10 "$name" >/dev/null
	rc=$($ENGINE inspect -f '{{.State.ExitCode}}' "$name")
	$ENGINE logs "$name" >"$out/passer.log" 2>&1
	((rc == 0)) || fail "[$target] the passer exited with $rc: $(cat "$out/passer.log")"
	local requests replies
	requests=$(grep -c 'hook=OUTPUT in=- out=lo ICMP 127.0.0.1 -> 127.0.0.1 type 8 ' "$out/passer.log" || true)
	replies=$(grep -c 'hook=OUTPUT in=- out=lo ICMP 127.0.0.1 -> 127.0.0.1 type 0 ' "$out/passer.log" || true)
	((requests >= 3 && replies >= 3)) ||
		fail "[$target] the passer printed $requests echo requests and $replies replies, want 3 each: $(cat "$out/passer.log")"
	grep -q '^passer: [0-9]* packets seen, [0-9]* verdicts given' "$out/passer.log" ||
		fail "[$target] no summary from the passer: $(cat "$out/passer.log")"
	log "[$target] passer output: $requests requests, $replies replies; $(grep '^passer: ' "$out/passer.log" | grep -v ' open, ')"

	local prog
	for prog in nfqdump nfqdump-c; do
		$ENGINE run --rm "${run_opts[@]}" --cap-drop ALL --cap-add NET_ADMIN "${net_opt[@]}" "$img" \
			"$prog" -queue "$QUEUE" -json -count 2 >"$out/$prog.json" 2>"$out/$prog.err" &
		local pid=$!
		wait_for "$out/$prog.err" 'listening on queue' || {
			kill "$pid" 2>/dev/null || true
			fail "[$target] $prog did not start: $(cat "$out/$prog.err")"
		}
		ip netns exec "$ns" ping -c 1 -W 2 127.0.0.1 >/dev/null || fail "[$target] ping through $prog unanswered"
		wait "$pid" || fail "[$target] $prog exited with $?: $(cat "$out/$prog.err")"
		[[ $(grep -c '"hook":"OUTPUT","outdev":1,"outdev_name":"lo".*"proto":"ICMP"' "$out/$prog.json") == 2 ]] ||
			fail "[$target] $prog did not print the echo request and reply: $(cat "$out/$prog.json")"
		log "[$target] $prog -json: $(cut -c1-110 "$out/$prog.json" | head -1)..."
	done
}

tested=()
untested=()
for target in $TARGETS; do
	rc=0
	build "$target" || rc=$?
	if ((rc == 3)); then
		reason=$(cat "$work/static-reason")
		[[ $STATIC == require ]] && fail "[static] $reason"
		log "[static] NOT TESTED: cannot be built on this machine: $reason"
		untested+=("$target")
		continue
	fi
	check_image "$target"
	tested+=("$target")
done

log "OK: ${tested[*]}${untested:+ (not tested: ${untested[*]})}"
