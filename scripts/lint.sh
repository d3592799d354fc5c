#!/usr/bin/env bash
# Static checks; every one must be clean:
#   - the Go floor: go.mod asks for the oldest Go that builds nfq (FLOOR), no
#     toolchain line, no dependency that needs a newer one, go.mod tidy, and
#     the benchmark's plotting stack only in bench/go.mod;
#   - gofmt, go vet and staticcheck on both modules (the library, bench/);
#     go vet reports standard-library symbols newer than the go line, and
#     the compiler already holds the language to it (-lang from the go line);
#   - shellcheck on every shell script.
# Installs its tools the first time: shellcheck with apt-get (through
# install-deps.sh), staticcheck with go install into bin/.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PATH:/usr/local/go/bin" GOTOOLCHAIN=local

# The oldest Go that builds nfq; README.md and CHANGELOG.md name it too.
FLOOR=1.24.0
# staticcheck 2026.2.2; it needs Go 1.26 to build, and checks code for the
# go line of the module it checks.
STATICCHECK_VERSION=${STATICCHECK_VERSION:-v0.8.2}

failed=0
fail() {
	echo "lint: $*" >&2
	failed=1
}
step() { echo "== $*"; }

step "tools"
bash scripts/install-deps.sh lint
staticcheck=$PWD/bin/staticcheck
if ! "$staticcheck" -version 2>/dev/null | grep -q "(${STATICCHECK_VERSION#v})"; then
	echo "installing staticcheck $STATICCHECK_VERSION into bin/"
	GOBIN=$PWD/bin go install "honnef.co/go/tools/cmd/staticcheck@$STATICCHECK_VERSION" ||
		{ echo "lint: cannot install staticcheck $STATICCHECK_VERSION (it needs Go 1.26 or newer to build)" >&2; exit 1; }
fi

step "Go floor $FLOOR"
goline=$(go list -m -f '{{.GoVersion}}')
[[ $goline == "$FLOOR" ]] ||
	fail "go.mod says go $goline, the floor is $FLOOR: a dependency upgrade (go get) raises the go line;" \
		"pick versions whose own go.mod needs at most $FLOOR, or raise the floor on purpose (here, README.md, CHANGELOG.md)"
grep -q '^toolchain' go.mod && fail "go.mod has a toolchain line: nfq needs none (it would only make builds in this repository fetch that toolchain)"
while read -r mod version; do
	[[ -z $version ]] && continue
	[[ $(printf '%s\n' "$version" "$FLOOR" | sort -V | tail -1) == "$FLOOR" ]] ||
		fail "$mod needs go $version, above the floor $FLOOR"
done < <(go list -m -f '{{if not .Main}}{{.Path}} {{.GoVersion}}{{end}}' all)
go list -m all | grep -q '^gonum.org/' && fail "gonum is in the library's build list: the benchmark's dependencies belong in bench/go.mod"
for dir in . bench; do
	go -C "$dir" mod tidy -diff >/dev/null || fail "$dir/go.mod is not tidy: run (cd $dir && go mod tidy)"
done

step "gofmt"
unformatted=$(gofmt -l .)
[[ -z $unformatted ]] || fail "gofmt needed on: $unformatted"

step "go vet"
go vet ./... || fail "go vet"
go vet -tags soak ./... || fail "go vet -tags soak"
go -C bench vet ./... || fail "go vet in bench/"

step "staticcheck"
"$staticcheck" -tags soak ./... || fail "staticcheck"
(cd bench && "$staticcheck" ./...) || fail "staticcheck in bench/"

step "shellcheck"
mapfile -t scripts < <(find . -name '*.sh' -not -path './.git/*' -not -path './bin/*' | sort)
shellcheck "${scripts[@]}" .ci/run || fail "shellcheck"

((failed == 0)) || exit 1
echo "lint: clean"
