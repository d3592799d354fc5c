#!/usr/bin/env bash
# Checks that a Go toolchain new enough for nfq is installed (on PATH or in
# /usr/local/go/bin, where the Makefile looks): the go line of go.mod names
# the oldest one. Prints what it found; when Go is missing or too old, says
# how to install it and exits 1.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/usr/local/go/bin"

need=$(sed -n 's/^go \([0-9][0-9.]*\)$/\1/p' go.mod)
[[ -n $need ]] || {
	echo "require-go: no go line in go.mod" >&2
	exit 2
}

how_to_install() {
	cat >&2 <<EOF
require-go: install Go $need or newer from https://go.dev/dl/ into /usr/local/go, as root:
require-go:     rm -rf /usr/local/go && tar -C /usr/local -xzf goVERSION.linux-amd64.tar.gz
require-go: (the Makefile finds it there without a PATH change), or your distribution's
require-go: golang-go package if its version is at least $need (Debian 12's is 1.19: too old).
EOF
}

if ! command -v go >/dev/null 2>&1; then
	echo "require-go: Go not found (nfq needs Go $need or newer)" >&2
	how_to_install
	exit 1
fi
# GOTOOLCHAIN=local: report the installed toolchain, never one it would
# download; from / so that no go.mod is read.
have=$(cd / && GOTOOLCHAIN=local go version | awk '{print $3}')
have=${have#go}
if [[ $(printf '%s\n' "$need" "$have" | sort -V | head -1) != "$need" ]]; then
	echo "require-go: found Go $have at $(command -v go), but nfq needs Go $need or newer" >&2
	how_to_install
	exit 1
fi
echo "require-go: Go $have at $(command -v go) (nfq needs $need or newer)"
