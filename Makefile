# Targets: deps, demo, test, lint, cross, ci, bench, clean. Run them as root on
# Debian/Ubuntu: deps installs system packages (and checks Go), and the kernel
# tests and the demo need CAP_NET_ADMIN and CAP_SYS_ADMIN (network namespaces,
# iptables rules). `go test ./...` needs no root: it skips the kernel tests.

export PATH := $(PATH):/usr/local/go/bin

GO ?= go
TEST_TIMEOUT ?= 15m
TESTFLAGS ?=

# A kernel test without root fails instead of skipping, so that these targets
# run every test or fail (internal/netnstest.RequireKernel).
export NFQ_KERNEL_TESTS ?= require

.PHONY: all deps demo test test-cgocheck test-asan fuzz soak lint cross ci bench-micro bench bench-quick container-test libipq install-libipq uninstall-libipq clean

all: test

deps:
	bash scripts/install-deps.sh
	bash scripts/require-go.sh

demo: deps
	bash scripts/demo.sh

# The bench/ module (its own go.mod) is vetted and tested too.
test: deps
	@[ "$$(id -u)" = 0 ] || [ "$$NFQ_KERNEL_TESTS" != require ] || { \
	  echo "make test runs the kernel tests, which need root (network namespaces, iptables): run it as root;" >&2; \
	  echo "go test ./... runs the tests that need no root" >&2; exit 1; }
	$(GO) vet ./...
	$(GO) -C bench vet ./...
	@unformatted="$$(gofmt -l .)"; \
	if [ -n "$$unformatted" ]; then echo "gofmt needed on:"; echo "$$unformatted"; exit 1; fi
	$(GO) test -race -count=1 -timeout $(TEST_TIMEOUT) $(TESTFLAGS) ./...
	$(GO) -C bench test -race -count=1 $(TESTFLAGS) ./...

# The suite again with strict cgo pointer checks (a build-time experiment).
test-cgocheck: deps
	GOEXPERIMENT=cgocheck2 $(GO) test -count=1 -timeout $(TEST_TIMEOUT) $(TESTFLAGS) ./...

# The package's tests and the scenario suites under AddressSanitizer, which
# also reports C leaks.
test-asan: deps
	$(GO) test -asan -count=1 -timeout $(TEST_TIMEOUT) . ./internal/scenario

FUZZTIME ?= 10
# Every fuzz target for FUZZTIME seconds each.
fuzz: deps
	bash scripts/fuzz.sh $(FUZZTIME)

SOAK_DURATION ?= 3m
# Millions of packets through restarting consumers; prints resident memory.
soak: deps
	bash scripts/soak.sh $(SOAK_DURATION)

# Static checks: the Go floor, gofmt, go vet, staticcheck, shellcheck.
lint:
	bash scripts/lint.sh

# Builds (and vets, tests included) for platforms without cgo or Linux: the
# stubs and build tags must keep the module compiling there. Then runs the
# tests of the package and the examples that need no cgo, without it: the
# stubs' own tests and every test of pure Go logic.
CROSS_TARGETS ?= linux/amd64 linux/arm64 darwin/arm64 darwin/amd64 windows/amd64 freebsd/amd64
cross:
	@for target in $(CROSS_TARGETS); do \
	  echo "== CGO_ENABLED=0 GOOS=$${target%/*} GOARCH=$${target#*/}"; \
	  CGO_ENABLED=0 GOOS=$${target%/*} GOARCH=$${target#*/} $(GO) build ./... || exit 1; \
	  CGO_ENABLED=0 GOOS=$${target%/*} GOARCH=$${target#*/} $(GO) vet ./... || exit 1; \
	done
	CGO_ENABLED=0 $(GO) test -count=1 . ./examples/...
	CGO_ENABLED=0 $(GO) test -count=1 -run '^TestOpenExplainsWhatThisBuildLacks$$' -v . | grep -q '^--- PASS'

# Everything CI runs (about 10 minutes; root).
ci:
	bash .ci/run

# Go micro-benchmarks once each, so that they keep compiling and running.
bench-micro: deps
	$(GO) test -run '^$$' -bench . -benchtime=1x ./...

# nfq against the C references: about 5 minutes, writes bench/results/latest.*
bench: deps
	bash bench/run.sh

bench-quick: deps
	bash bench/run.sh -quick

# Builds the Dockerfile for real and runs the images against real traffic.
container-test: deps
	bash scripts/container-test.sh

PREFIX ?= /usr/local

# The drop-in C libipq (libipq.so.0, libipq.a, libipq.pc, headers): plain C,
# so only the system packages, not Go.
libipq:
	bash scripts/install-deps.sh
	$(MAKE) -C libipq

install-libipq:
	bash scripts/install-deps.sh
	$(MAKE) -C libipq install PREFIX=$(PREFIX)

uninstall-libipq:
	$(MAKE) -C libipq uninstall PREFIX=$(PREFIX)

clean:
	rm -rf bin
	$(GO) clean -testcache
