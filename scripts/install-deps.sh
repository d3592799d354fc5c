#!/usr/bin/env bash
# Installs the system packages that nfq needs to build, test and run its demo
# on Debian or Ubuntu. Safe to run again: when everything is installed it only
# checks (no apt-get update, no network) and exits at once.
#
#   scripts/install-deps.sh [lint]   lint: also the linters' packages (make lint)
set -euo pipefail

packages=(
	# building the cgo binding
	gcc libc6-dev make pkg-config
	libnetfilter-queue-dev libnfnetlink-dev libmnl-dev
	# kernel tests and the demo: namespaces, NFQUEUE rules, traffic
	iproute2 iptables iputils-ping procps
	# nfqdump's tests read its pcap files back
	tcpdump
	# fetching Go modules over HTTPS
	ca-certificates
	# go test -asan (AddressSanitizer with leak checks)
	libasan8
)
for extra in "$@"; do
	case $extra in
	lint) packages+=(shellcheck) ;;
	*)
		echo "install-deps: unknown package set '$extra' (known: lint)" >&2
		exit 2
		;;
	esac
done

missing=()
for p in "${packages[@]}"; do
	status=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
	[[ $status == installed ]] || missing+=("$p")
done

if ((${#missing[@]} == 0)); then
	echo "install-deps: all system packages present"
	exit 0
fi

echo "install-deps: missing: ${missing[*]}"
if ! command -v apt-get >/dev/null 2>&1; then
	echo "install-deps: apt-get not found; this script supports Debian and Ubuntu." >&2
	echo "install-deps: install the equivalents of these packages yourself: ${missing[*]}" >&2
	exit 1
fi
if [[ $(id -u) != 0 ]]; then
	echo "install-deps: root is required to install packages: run as root (e.g. sudo make deps)" >&2
	exit 1
fi

export DEBIAN_FRONTEND=noninteractive
apt_opts=(-q -y -o DPkg::Lock::Timeout=300 -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold)
apt-get -q -o DPkg::Lock::Timeout=300 update </dev/null
apt-get install "${apt_opts[@]}" --no-install-recommends "${missing[@]}" </dev/null
echo "install-deps: installed ${missing[*]}"
