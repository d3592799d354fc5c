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
#   - nfqdump -json and its C twin nfqdump-c from the image see the packets
#     (the static image has no nfqdump-c), and nfqdump -w - writes them as
#     a pcap file that tcpdump reads;
#   - the static image's programs are static executables, and the slim image
#     holds no apt package lists or caches.
# It also logs each image's size.
#
# Every target the README's Docker section advertises is built and tested:
# a target that does not build, or was not tested, fails the run.
#
# Uses docker when a Docker engine answers, podman otherwise (installed, with
# local stand-ins for the base images, by scripts/base-images.sh). Needs root.
# Idempotent; cleans up its containers and namespaces; exits non-zero on
# failure. Settings, from the environment:
#
#   ENGINE          docker or podman (default: docker if its engine answers)
#   IMAGE           image name; targets become tags (default: nfq)
#   TARGETS         test only these targets (default: every advertised one)
set -euo pipefail
cd "$(dirname "$0")/.."

IMAGE=${IMAGE:-nfq}
QUEUE=0

log() { echo "container-test: $*"; }
fail() {
	echo "container-test: FAILED: $*" >&2
	exit 1
}

[[ $(id -u) == 0 ]] || fail "root is required (network namespaces, iptables, containers)"
for cmd in ip iptables ping tcpdump ldd; do
	command -v "$cmd" >/dev/null || fail "$cmd not found: run 'make deps' first"
done

# The targets the README advertises: the default one (slim) and every
# "--target NAME" of its Docker section.
advertised=$(awk '/^## /{on = ($0 == "## Docker")} on' README.md | grep -o -- '--target [a-z-]*' | awk '{print $2}' | sort -u | tr '\n' ' ')
[[ -n ${advertised// /} ]] || fail "the README's Docker section names no --target"
advertised="slim ${advertised% }"
for target in $advertised; do
	grep -q "^FROM .* AS $target\$" Dockerfile || fail "the README advertises target $target, which the Dockerfile lacks"
done
TARGETS=${TARGETS:-$advertised}

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

# build TARGET: builds the target into IMAGE:TARGET.
build() {
	local target=$1 logf=$work/build-$1.log start=$SECONDS old
	old=$($ENGINE image inspect -f '{{.Id}}' "$IMAGE:$target" 2>/dev/null || true)
	log "building --target $target -> $IMAGE:$target"
	if ! $ENGINE build "${build_opts[@]}" --target "$target" -t "$IMAGE:$target" . >"$logf" 2>&1; then
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

	local prog progs=(nfqdump nfqdump-c)
	[[ $target == static ]] && progs=(nfqdump) # nfqdump-c needs libnfnetlink, which has no static archive
	for prog in "${progs[@]}"; do
		dump_ping "$target" "$out/$prog.json" "$prog" -queue "$QUEUE" -json -count 2
		[[ $(grep -c '"hook":"OUTPUT","outdev":1,"outdev_name":"lo".*"proto":"ICMP"' "$out/$prog.json") == 2 ]] ||
			fail "[$target] $prog did not print the echo request and reply: $(cat "$out/$prog.json")"
		log "[$target] $prog -json: $(cut -c1-110 "$out/$prog.json" | head -1)..."
	done

	dump_ping "$target" "$out/ping.pcap" nfqdump -queue "$QUEUE" -c 2 -w -
	tcpdump -r "$out/ping.pcap" -nn >"$out/pcap.txt" 2>&1 || fail "[$target] tcpdump cannot read nfqdump's pcap: $(cat "$out/pcap.txt")"
	[[ $(grep -c 'IP 127.0.0.1 > 127.0.0.1: ICMP echo re' "$out/pcap.txt") == 2 ]] ||
		fail "[$target] the pcap does not hold the echo request and reply: $(cat "$out/pcap.txt")"
	log "[$target] nfqdump -w -, read by tcpdump -r: $(grep -o 'ICMP echo [a-z]*' "$out/pcap.txt" | paste -sd, -)"

	case $target in
	static) check_static "$target" ;;
	slim) check_no_apt_cache "$target" ;;
	esac
	if [[ $target == slim ]]; then
		log "[$target] size: $(image_size "$img" debian:bookworm-slim)"
	else
		log "[$target] size: $(image_size "$img")"
	fi
}

# dump_ping TARGET OUT PROG ARGS...: runs PROG from the image on the queue,
# pings once while it listens and waits for it to exit. Its standard output
# goes to OUT, its standard error to OUT.err.
dump_ping() {
	local target=$1 outf=$2 pid
	shift 2
	$ENGINE run --rm "${run_opts[@]}" --cap-drop ALL --cap-add NET_ADMIN "${net_opt[@]}" "$IMAGE:$target" \
		"$@" >"$outf" 2>"$outf.err" &
	pid=$!
	wait_for "$outf.err" 'listening on queue' || {
		kill "$pid" 2>/dev/null || true
		fail "[$target] $1 did not start: $(cat "$outf.err")"
	}
	ip netns exec "$ns" ping -c 1 -W 2 127.0.0.1 >/dev/null || fail "[$target] ping through $1 unanswered"
	wait "$pid" || fail "[$target] $* exited with $?: $(cat "$outf.err")"
}

# check_static TARGET: every program in the image is a static executable.
check_static() {
	local img=$IMAGE:$1 dir=$work/$1/bin name=nfqct-$tag-$1-files f n=0 says
	containers+=("$name")
	$ENGINE create --name "$name" "$img" >/dev/null
	mkdir -p "$dir"
	$ENGINE cp "$name:/usr/local/bin/." "$dir/"
	for f in "$dir"/*; do
		says=$(ldd "$f" 2>&1 || true) # ldd fails on a static executable
		[[ $says == *"not a dynamic executable"* ]] || fail "[$1] $(basename "$f") is dynamically linked: $says"
		n=$((n + 1))
	done
	((n > 0)) || fail "[$1] no programs in /usr/local/bin"
	log "[$1] $n programs, ldd: not a dynamic executable: $(cd "$dir" && echo *)"
}

# check_no_apt_cache TARGET: apt left no package lists or caches behind.
check_no_apt_cache() {
	local left
	left=$($ENGINE run --rm "${run_opts[@]}" "$IMAGE:$1" find /var/lib/apt/lists /var/cache/apt -type f ! -name lock)
	[[ -z $left ]] || fail "[$1] apt left files behind: $(echo "$left" | head -5)"
	log "[$1] no apt lists or caches"
}

# mb BYTES: in MB, rounded.
mb() { echo $((($1 + 500000) / 1000000)); }

# image_size IMAGE [BASE]: its size in MB, and how much it adds to BASE.
image_size() {
	local size base
	size=$($ENGINE image inspect -f '{{.Size}}' "$1")
	if [[ -n ${2:-} ]]; then
		base=$($ENGINE image inspect -f '{{.Size}}' "$2")
		echo "$(mb "$size") MB: $2 ($(mb "$base") MB here) + $(mb $((size - base))) MB"
	else
		echo "$(mb "$size") MB"
	fi
}

tested=()
for target in $TARGETS; do
	build "$target"
	check_image "$target"
	tested+=("$target")
done

missing=()
for target in $advertised; do
	[[ " ${tested[*]} " == *" $target "* ]] || missing+=("$target")
done
if ((${#missing[@]})) && [[ $TARGETS == "$advertised" ]]; then
	fail "advertised but not tested: ${missing[*]}"
fi
log "OK: ${tested[*]}${missing:+ (only the targets asked for; not tested: ${missing[*]})}"
