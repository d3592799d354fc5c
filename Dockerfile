# Images with the nfq programs: every program in examples/, the nfqdump
# inspector and its C twin nfqdump-c, all in /usr/local/bin.
#
#   docker build -t nfq .                     debian:bookworm-slim, dynamically linked (default)
#   docker build --target minimal -t nfq:minimal .
#                                             empty (scratch) image: the programs, the shared
#                                             libraries they load and the loader, nothing else
#   docker build --target static -t nfq:static .
#                                             empty (scratch) image, fully static programs
#
# Run a program in the network namespace that holds the NFQUEUE rule, with
# CAP_NET_ADMIN, for example on the host's network:
#
#   docker run --rm --network host --cap-drop ALL --cap-add NET_ADMIN nfq nfqdump -queue 0
#
# The cache mounts keep Go's module and build caches between builds. Behind a
# TLS-intercepting proxy, give the module download your CA bundle:
#   --secret id=ca-certificates,src=/etc/ssl/certs/ca-certificates.crt

ARG GO_IMAGE=golang:1.26-bookworm
ARG RUN_IMAGE=debian:bookworm-slim

# ---- build: the dynamically linked programs
FROM ${GO_IMAGE} AS build
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      gcc libc6-dev pkg-config libnetfilter-queue-dev libnfnetlink-dev libmnl-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
ENV CGO_ENABLED=1 GOFLAGS=-buildvcs=false
ARG GOPROXY=https://proxy.golang.org,direct
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

# ---- static-build: the same programs linked fully statically. Debian's -dev
# packages ship libnetfilter_queue.a but not libmnl.a nor libnfnetlink.a:
# those are built from Debian's source packages when missing (this needs a
# mirror that serves sources; the build stops with a message saying so).
FROM build AS static-build
RUN set -e; \
    multiarch=$(gcc -print-multiarch); missing=; \
    for lib in libmnl libnfnetlink; do \
      [ -e "/usr/lib/$multiarch/$lib.a" ] || [ -e "/usr/local/lib/$lib.a" ] || missing="$missing $lib"; \
    done; \
    if [ -n "$missing" ]; then \
      echo 'deb-src http://deb.debian.org/debian bookworm main' >/etc/apt/sources.list.d/nfq-src.list; \
      apt-get update -q; \
      DEBIAN_FRONTEND=noninteractive apt-get install -q -y --no-install-recommends dpkg-dev >/dev/null; \
      mkdir /tmp/libs; cd /tmp/libs; \
      if ! apt-get source -q $missing; then \
        echo "nfq-static: no static archive for$missing, and their Debian sources cannot be downloaded" >&2; \
        exit 3; \
      fi; \
      for dir in */; do \
        (cd "$dir" && ./configure -q --prefix=/usr/local --enable-static --disable-shared \
                    && make -s -j"$(nproc)" install); \
      done; \
      cd /; rm -rf /tmp/libs /var/lib/apt/lists/*; \
    fi; \
    printf '#!/bin/sh\nexec pkg-config --static "$@"\n' >/usr/local/bin/pkg-config-static; \
    chmod +x /usr/local/bin/pkg-config-static
# cgo runs $PKG_CONFIG as one program: the wrapper adds --static. netgo and
# osusergo keep glibc's NSS (which cannot be linked statically) out.
ENV PKG_CONFIG=/usr/local/bin/pkg-config-static
RUN --mount=type=cache,target=/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build \
    mkdir -p /out-static \
 && go build -trimpath -tags netgo,osusergo \
      -ldflags '-s -w -linkmode external -extldflags "-static"' -o /out-static/ ./examples/... ./cmd/... \
 && cc -O2 -Wall -static -o /out-static/nfqdump-c cmd/nfqdump-c/nfqdump.c \
      $(pkg-config --static --cflags --libs libnetfilter_queue libmnl) \
 && for f in /out-static/*; do \
      if readelf -l "$f" | grep -q INTERP; then echo "$f is dynamically linked" >&2; exit 1; fi; \
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

# ---- slim (the default target): the programs and the shared libraries
FROM ${RUN_IMAGE} AS slim
LABEL org.opencontainers.image.licenses="MIT AND BSD-3-Clause AND GPL-2.0-or-later AND LGPL-2.1-or-later"
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      libnetfilter-queue1 libnfnetlink0 libmnl0 \
 && rm -rf /var/lib/apt/lists/*
COPY --from=build /out/ /usr/local/bin/
CMD ["nfqdump", "-queue", "0"]
