# Targets: deps, demo, test, bench, clean. Run them as root on Debian/Ubuntu:
# deps installs system packages, and the kernel tests and the demo need
# CAP_NET_ADMIN and CAP_SYS_ADMIN (network namespaces, iptables rules).

export PATH := $(PATH):/usr/local/go/bin

GO ?= go
TEST_TIMEOUT ?= 15m
TESTFLAGS ?=

.PHONY: all deps demo test bench clean

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

bench: deps
	@if [ -f bench/run.sh ]; then bash bench/run.sh; else echo "bench: no bench/run.sh yet"; fi

clean:
	rm -rf bin
	$(GO) clean -testcache
