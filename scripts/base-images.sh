#!/usr/bin/env bash
# Makes the Dockerfile's base images available to podman. Each image is
# pulled from its registry; when the registry cannot be reached, a local
# stand-in is built under the same name, close enough for our build:
#
#   debian:bookworm-slim   debootstrap --variant=minbase bookworm, without
#                          apt's package lists and caches (as the real one)
#   golang:1.26-bookworm   minbase bookworm, plus gcc libc6-dev pkg-config
#                          ca-certificates git make, and the Go toolchain of
#                          this machine (the dynamically linked build)
#   golang:1.26-trixie     the same on trixie (the static build)
#
# Idempotent: images that exist already are kept, so a second run only checks.
# Needs root (debootstrap, chroot). Installs podman, runc and debootstrap with
# apt-get when they are missing. Settings, from the environment:
#
#   DEBIAN_IMAGE         name of the runtime base       (debian:bookworm-slim)
#   GOLANG_IMAGE         name of the build base         (golang:1.26-bookworm)
#   GOLANG_STATIC_IMAGE  name of the static build base  (golang:1.26-trixie)
#   GO_ROOT              Go toolchain to copy in        (go env GOROOT, or /usr/local/go)
#   MIRROR               Debian mirror for debootstrap  (debootstrap's default)
#   PULL_TIMEOUT         seconds to try a pull          (60)
set -euo pipefail

DEBIAN_IMAGE=${DEBIAN_IMAGE:-debian:bookworm-slim}
GOLANG_IMAGE=${GOLANG_IMAGE:-golang:1.26-bookworm}
GOLANG_STATIC_IMAGE=${GOLANG_STATIC_IMAGE:-golang:1.26-trixie}
MIRROR=${MIRROR:-}
PULL_TIMEOUT=${PULL_TIMEOUT:-60}
GO_WANT=go1.26

log() { echo "base-images: $*" >&2; }
die() {
	log "$*"
	exit 1
}

[[ $(id -u) == 0 ]] || die "root is required (debootstrap and chroot build the stand-ins)"

missing=()
for cmd in podman runc debootstrap; do
	command -v "$cmd" >/dev/null || missing+=("$cmd")
done
if ((${#missing[@]})); then
	log "installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get -q -o DPkg::Lock::Timeout=300 update </dev/null >/dev/null
	apt-get install -q -y -o DPkg::Lock::Timeout=300 --no-install-recommends \
		podman runc debootstrap </dev/null >/dev/null
fi

# Two runs at once would build the same stand-ins twice.
exec 9>/run/lock/nfq-base-images.lock
flock 9

if [[ -z ${GO_ROOT:-} ]]; then
	GO_ROOT=$(go env GOROOT 2>/dev/null || true)
	GO_ROOT=${GO_ROOT:-/usr/local/go}
fi

have() { podman image exists "$1"; }

# pull tries the registry once, briefly: here it is often unreachable.
pull() {
	log "pulling $1"
	if timeout "$PULL_TIMEOUT" podman pull -q "$1" >/dev/null 2>&1; then
		log "pulled $1"
		return 0
	fi
	log "cannot pull $1: building a local stand-in"
	return 1
}

if have "$DEBIAN_IMAGE" && have "$GOLANG_IMAGE" && have "$GOLANG_STATIC_IMAGE"; then
	log "present: $DEBIAN_IMAGE, $GOLANG_IMAGE, $GOLANG_STATIC_IMAGE"
	exit 0
fi

work=$(mktemp -d /var/tmp/nfq-base-images.XXXXXX)
mounted=()
cleanup() {
	local m
	for m in "${mounted[@]}"; do
		umount -l "$m" 2>/dev/null || true
	done
	rm -rf "$work"
}
trap cleanup EXIT

# apt_clean removes apt's package lists and caches from a tree, as the
# official slim images have none.
apt_clean() {
	rm -rf "$1"/var/lib/apt/lists/* "$1"/var/cache/apt/*.bin "$1"/var/cache/apt/archives/*.deb
}

# rootfs SUITE makes one minbase tree of SUITE, at $work/SUITE.
rootfs() {
	local suite=$1 dir=$work/$1
	[[ -d $dir ]] && return
	log "debootstrap minbase $suite${MIRROR:+ from $MIRROR} (about a minute)"
	# debootstrap's own default mirror unless MIRROR names one.
	debootstrap --variant=minbase "$suite" "$dir" ${MIRROR:+"$MIRROR"} >"$work/debootstrap-$suite.log" 2>&1 ||
		die "debootstrap $suite failed; its log: $(tail -5 "$work/debootstrap-$suite.log")"
	apt_clean "$dir"
}

# import turns a tree into an image; extra arguments are --change options.
import() {
	local dir=$1 name=$2
	shift 2
	tar -C "$dir" --numeric-owner -c . | podman import -q "$@" - "$name" >/dev/null
	log "made stand-in $name"
}

# golang SUITE NAME makes the Go build image of SUITE under NAME.
golang() {
	local suite=$1 name=$2 dir=$work/golang-$1 version m
	[[ -x $GO_ROOT/bin/go ]] || die "no Go toolchain at $GO_ROOT to put in the $name stand-in (set GO_ROOT)"
	version=$("$GO_ROOT/bin/go" env GOVERSION)
	[[ $version == "$GO_WANT" || $version == "$GO_WANT".* ]] ||
		die "$GO_ROOT has $version, the Dockerfile builds with $GO_WANT (set GO_ROOT)"
	rootfs "$suite"
	cp -a "$work/$suite" "$dir"
	cp /etc/resolv.conf "$dir/etc/resolv.conf"
	for m in proc dev; do
		mount --bind "/$m" "$dir/$m"
		mounted+=("$dir/$m")
	done
	log "installing the build tools in the $name stand-in"
	chroot "$dir" /bin/sh -c 'export DEBIAN_FRONTEND=noninteractive &&
		apt-get -q update && apt-get -q install -y --no-install-recommends \
			gcc libc6-dev pkg-config ca-certificates git make' >"$work/chroot-$suite.log" 2>&1 ||
		die "installing build tools failed; the log ends: $(tail -5 "$work/chroot-$suite.log")"
	for m in "$dir/proc" "$dir/dev"; do
		umount "$m"
	done
	mounted=()
	apt_clean "$dir"
	: >"$dir/etc/resolv.conf"
	mkdir -p "$dir/usr/local" "$dir/go/bin" "$dir/go/src"
	cp -a "$GO_ROOT" "$dir/usr/local/go"
	import "$dir" "$name" \
		--change 'ENV PATH=/go/bin:/usr/local/go/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
		--change 'ENV GOPATH=/go' \
		--change "ENV GOLANG_VERSION=${version#go}" \
		--change 'WORKDIR /go' \
		--change 'CMD ["bash"]'
	rm -rf "$dir"
}

if ! have "$DEBIAN_IMAGE" && ! pull "$DEBIAN_IMAGE"; then
	rootfs bookworm
	import "$work/bookworm" "$DEBIAN_IMAGE" --change 'CMD ["bash"]'
fi
if ! have "$GOLANG_IMAGE" && ! pull "$GOLANG_IMAGE"; then
	golang bookworm "$GOLANG_IMAGE"
fi
if ! have "$GOLANG_STATIC_IMAGE" && ! pull "$GOLANG_STATIC_IMAGE"; then
	golang trixie "$GOLANG_STATIC_IMAGE"
fi
