//go:build linux && cgo

package nfq

/*
#include <stdlib.h>
#include "libipq_impl.h"
*/
import "C"

import (
	"fmt"
	"math"
	"os"
	"syscall"
	"unsafe"
)

// The process-wide error state of libipq lives in the C library: the code
// of the last failure and the system error that came with a failure, if
// any. Both are set on failure and never cleared on success.

// IPQErrno returns the code of the last libipq failure (IPQErr*), the
// value of C's ipq_errno.
func IPQErrno() int { return int(C.nfqgo_ipq_errno) }

// IPQSyscallErrno returns the system error of the last failure that had
// one: the Go counterpart of C's errno, which IPQPerror prints.
func IPQSyscallErrno() syscall.Errno { return syscall.Errno(C.nfqgo_libipq_sys_errno) }

// IPQErrStr returns the text of the current error code.
//
// It stands for ipq_errstr(3). Modern API: the error values that Open,
// Packets and SetVerdict return (*OpError).
func IPQErrStr() string { return C.GoString(C.nfqgo_ipq_errstr()) }

// IPQErrString returns the text of libipq error code code; a code out of
// range reads as "Implementation error", as in libipq.
func IPQErrString(code int) string {
	if code < math.MinInt32 || code > math.MaxInt32 {
		code = -1
	}
	return C.GoString(C.nfqgo_libipq_errstr_of(C.int(code)))
}

// IPQPerror writes s, the current error text and the current system error
// to standard error, like ipq_perror(3): "s: text: strerror\n", each part
// present only when set. An empty s stands for C's NULL and prints "ERROR".
//
// Modern API: log the error values the package returns.
func IPQPerror(s string) {
	fmt.Fprint(os.Stderr, IPQPerrorText(s, s == "", IPQErrno(), IPQSyscallErrno()))
}

// IPQPerrorText is the line ipq_perror prints for s (null: C's NULL), error
// code code and system error errno (0: none), with the C library's
// strerror texts.
func IPQPerrorText(s string, null bool, code int, errno syscall.Errno) string {
	var cs *C.char
	if !null {
		cs = C.CString(s)
		defer C.free(unsafe.Pointer(cs))
	}
	if code < math.MinInt32 || code > math.MaxInt32 {
		code = -1
	}
	size := len(s) + 512 // the texts are short
	line := (*C.char)(C.malloc(C.size_t(size)))
	defer C.free(unsafe.Pointer(line))
	C.nfqgo_libipq_perror_line(line, C.size_t(size), cs, C.int(code), C.int(errno))
	return C.GoString(line)
}
