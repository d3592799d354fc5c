# Images with the nfq programs: every program in examples/ and the nfqdump
# inspector in /usr/local/bin; the dynamically linked images also hold its C
# twin nfqdump-c.
#
#   docker build -t nfq .                     debian:bookworm-slim, dynamically linked (default)
#   docker build --target minimal -t nfq:minimal .
#                                             empty (scratch) image: the programs, the shared
#                                             libraries they load and the loader, nothing else
#   docker build --target static -t nfq:static .
#                                             empty (scratch) image, fully static programs
#                                             (built on Debian trixie; no nfqdump-c, see below)
#
# Run a program in the network namespace that holds the NFQUEUE rule, with
# CAP_NET_ADMIN, for example on the host's network:
#
#   docker run --rm --network host --cap-drop ALL --cap-add NET_ADMIN nfq nfqdump -queue 0
#
# Packages come from the base images' own apt sources, Go modules from Go's
# default proxy; --build-arg GOPROXY=... (and GONOSUMDB, GOPRIVATE) choose
# others. The cache mounts keep Go's module and build caches between builds.
# Behind a TLS-intercepting proxy, give the module download your CA bundle:
#   --secret id=ca-certificates,src=/etc/ssl/certs/ca-certificates.crt

ARG GO_IMAGE=golang:1.26-bookworm
ARG STATIC_GO_IMAGE=golang:1.26-trixie
ARG RUN_IMAGE=debian:bookworm-slim

# ---- build: the dynamically linked programs
FROM ${GO_IMAGE} AS build
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      gcc libc6-dev pkg-config libnetfilter-queue-dev libnfnetlink-dev libmnl-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
ENV CGO_ENABLED=1 GOFLAGS=-buildvcs=false
# Empty, they leave Go's defaults.
ARG GOPROXY=
ARG GONOSUMDB=
ARG GOPRIVATE=
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod --mount=type=secret,id=ca-certificates \
    if [ -s /run/secrets/ca-certificates ]; then export SSL_CERT_FILE=/run/secrets/ca-certificates; fi \
 && go mod download
COPY . .
RUN --mount=type=cache,target=/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build \
    mkdir -p /out \
 && go build -trimpath -ldflags '-s -w' -o /out/ ./examples/... ./cmd/... \
 && cc -O2 -Wall -o /out/nfqdump-c cmd/nfqdump-c/nfqdump.c \
      $(pkg-config --cflags --libs libnetfilter_queue libmnl)

# ---- static-build: the Go programs linked fully statically, on Debian
# trixie, whose -dev packages ship libnetfilter_queue.a and libmnl.a
# (bookworm's lack libmnl.a). Neither release ships libnfnetlink.a, and nfq
# needs none of it: it uses libnetfilter_queue's message API (nlmsg.o and
# the pktbuff helpers), which calls only libmnl. The pkg-config wrapper
# takes -lnfnetlink, which libnetfilter_queue.pc names, out of the link; a
# symbol of it that crept back in would fail the link. nfqdump-c is left
# out: it is written on the classic API (nfq_open, ...), which does need
# libnfnetlink.
FROM ${STATIC_GO_IMAGE} AS static-build
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      gcc libc6-dev pkg-config libnetfilter-queue-dev libnfnetlink-dev libmnl-dev \
 && rm -rf /var/lib/apt/lists/* \
 && printf '%s\n' '#!/bin/sh' 'out=$(pkg-config --static "$@") || exit' \
      'echo "$out" | sed "s/-lnfnetlink//g"' >/usr/local/bin/pkg-config-static \
 && chmod +x /usr/local/bin/pkg-config-static
WORKDIR /src
# cgo runs $PKG_CONFIG as one program: the wrapper adds --static. netgo and
# osusergo keep glibc's NSS (which cannot be linked statically) out.
ENV CGO_ENABLED=1 GOFLAGS=-buildvcs=false PKG_CONFIG=/usr/local/bin/pkg-config-static
ARG GOPROXY=
ARG GONOSUMDB=
ARG GOPRIVATE=
COPY . .
# go build downloads the modules it needs into the cache mount.
RUN --mount=type=cache,target=/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build \
    --mount=type=secret,id=ca-certificates \
    if [ -s /run/secrets/ca-certificates ]; then export SSL_CERT_FILE=/run/secrets/ca-certificates; fi \
 && mkdir -p /out-static \
 && go build -trimpath -tags netgo,osusergo \
      -ldflags '-s -w -linkmode external -extldflags "-static"' -o /out-static/ ./examples/... ./cmd/... \
 && for f in /out-static/*; do \
      if ! ldd "$f" 2>&1 | grep -q 'not a dynamic executable'; then echo "$f is dynamically linked" >&2; exit 1; fi; \
    done

# The images' licenses: nfq (MIT), the Go runtime (BSD-3-Clause), and the C
# libraries the programs link: libnetfilter_queue and libnfnetlink
# (GPL-2.0-or-later), libmnl (LGPL-2.1-or-later); see README.md, "License".

# ---- static: nothing but the programs
FROM scratch AS static
LABEL org.opencontainers.image.licenses="MIT AND BSD-3-Clause AND GPL-2.0-or-later AND LGPL-2.1-or-later"
COPY --from=static-build /out-static/ /usr/local/bin/
ENV PATH=/usr/local/bin
CMD ["nfqdump", "-queue", "0"]

# ---- minimal-build: the dynamically linked programs with exactly the shared
# libraries they load (and the loader), for an image without a distribution.
FROM build AS minimal-build
RUN mkdir -p /rootfs/usr/local/bin /rootfs/tmp \
 && cp -a /out/. /rootfs/usr/local/bin/ \
 && for lib in $(ldd /out/* | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\/.*ld-linux/ { print $1 }' | sort -u); do \
      cp --parents -L "$lib" /rootfs; \
    done

# ---- minimal: an empty (scratch) image with the programs and their libraries
FROM scratch AS minimal
LABEL org.opencontainers.image.licenses="MIT AND BSD-3-Clause AND GPL-2.0-or-later AND LGPL-2.1-or-later"
COPY --from=minimal-build /rootfs/ /
ENV PATH=/usr/local/bin
CMD ["nfqdump", "-queue", "0"]

# ---- slim (the default target): the programs and the shared libraries,
# without apt's package lists and caches
FROM ${RUN_IMAGE} AS slim
LABEL org.opencontainers.image.licenses="MIT AND BSD-3-Clause AND GPL-2.0-or-later AND LGPL-2.1-or-later"
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      libnetfilter-queue1 libnfnetlink0 libmnl0 \
 && apt-get clean \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin
COPY --from=build /out/ /usr/local/bin/
CMD ["nfqdump", "-queue", "0"]
