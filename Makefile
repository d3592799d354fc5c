# Targets: deps, demo, test, bench, clean. Run them as root on Debian/Ubuntu:
# deps installs system packages, and the kernel tests and the demo need
# CAP_NET_ADMIN and CAP_SYS_ADMIN (network namespaces, iptables rules).

export PATH := $(PATH):/usr/local/go/bin

GO ?= go
TEST_TIMEOUT ?= 15m
TESTFLAGS ?=

.PHONY: all deps demo test test-cgocheck test-asan fuzz soak bench-micro bench bench-quick container-test libipq install-libipq uninstall-libipq clean

all: test

deps:
	bash scripts/install-deps.sh

demo: deps
	bash scripts/demo.sh

test: deps
	@[ "$$(id -u)" = 0 ] || echo "note: the kernel tests need root (network namespaces, iptables); run make test as root" >&2
	$(GO) vet ./...
	@unformatted="$$(gofmt -l .)"; \
	if [ -n "$$unformatted" ]; then echo "gofmt needed on:"; echo "$$unformatted"; exit 1; fi
	$(GO) test -race -count=1 -timeout $(TEST_TIMEOUT) $(TESTFLAGS) ./...

# The suite again with strict cgo pointer checks (a build-time experiment).
test-cgocheck: deps
	GOEXPERIMENT=cgocheck2 $(GO) test -count=1 -timeout $(TEST_TIMEOUT) $(TESTFLAGS) ./...

# The package's tests under AddressSanitizer, which also reports C leaks.
test-asan: deps
	$(GO) test -asan -count=1 -timeout $(TEST_TIMEOUT) .

FUZZTIME ?= 10
# Every fuzz target for FUZZTIME seconds each.
fuzz: deps
	bash scripts/fuzz.sh $(FUZZTIME)

SOAK_DURATION ?= 3m
# Millions of packets through restarting consumers; prints resident memory.
soak: deps
	bash scripts/soak.sh $(SOAK_DURATION)

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

# The drop-in C libipq (libipq.so.0, libipq.a, libipq.pc, headers).
libipq: deps
	$(MAKE) -C libipq

install-libipq: deps
	$(MAKE) -C libipq install PREFIX=$(PREFIX)

uninstall-libipq:
	$(MAKE) -C libipq uninstall PREFIX=$(PREFIX)

clean:
	rm -rf bin
	$(GO) clean -testcache
