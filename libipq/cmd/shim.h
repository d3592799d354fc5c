/* Shared by the C side (shim.c) and the Go side (exports.go) of the
 * library. */
#ifndef LIBIPQ_SHIM_H
#define LIBIPQ_SHIM_H

#include <stdint.h>
#include "libipq.h"

/* What ipq_create_handle allocates: the public struct first, so that
 * programs find h->fd where they expect it, then the cgo.Handle value of
 * the Go handle (C never holds a Go pointer). */
struct libipq_handle {
	struct ipq_handle pub;
	uintptr_t go;
};

/* libipq_wait waits until fd is readable, at most timeout_ns (< 0: no
 * limit). 1: readable, 0: timed out, -1: failed with errno (EINTR when a
 * signal interrupted it, as libipq's select() was). */
int libipq_wait(int fd, long long timeout_ns);

#endif
