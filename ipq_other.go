//go:build !linux || !cgo

package nfq

import (
	"fmt"
	"os"
	"syscall"
)

// The libipq compatibility layer wraps the C libipq, which needs Linux and
// cgo: in this build every handle fails to open, and the error texts say
// why.

// IPQHandle is a libipq handle. In this build none can be created.
type IPQHandle struct{}

// IPQCreateHandle fails: libipq requires Linux and cgo.
func IPQCreateHandle(flags, protocol uint32) *IPQHandle { return nil }

// IPQCreateHandleQueue fails: libipq requires Linux and cgo.
func IPQCreateHandleQueue(flags, protocol uint32, queue uint16) *IPQHandle { return nil }

// Fd returns -1.
func (h *IPQHandle) Fd() int { return -1 }

// IPQDestroyHandle does nothing and returns 0.
func IPQDestroyHandle(h *IPQHandle) int { return 0 }

// IPQSetMode fails: libipq requires Linux and cgo.
func IPQSetMode(h *IPQHandle, mode uint8, rng uint) int { return -1 }

// IPQRead fails: libipq requires Linux and cgo.
func IPQRead(h *IPQHandle, buf []byte, timeout int) int { return -1 }

// IPQSetVerdict fails: libipq requires Linux and cgo.
func IPQSetVerdict(h *IPQHandle, id IPQID, verdict Verdict, dataLen uint, buf []byte) int { return -1 }

// IPQCtl returns 1, as libipq's did.
func IPQCtl(h *IPQHandle, request int, args ...any) int { return 1 }

// IPQErrno returns IPQErrHandle: no handle can be created in this build.
func IPQErrno() int { return IPQErrHandle }

// IPQSyscallErrno returns ENOSYS.
func IPQSyscallErrno() syscall.Errno { return syscall.ENOSYS }

// IPQErrStr explains what this build lacks.
func IPQErrStr() string { return IPQErrString(IPQErrno()) }

// IPQErrString explains what this build lacks, whatever the code.
func IPQErrString(code int) string { return errUnsupported.Error() }

// IPQPerror writes s and what this build lacks to standard error.
func IPQPerror(s string) {
	fmt.Fprint(os.Stderr, IPQPerrorText(s, s == "", IPQErrno(), 0))
}

// IPQPerrorText is the line IPQPerror prints.
func IPQPerrorText(s string, null bool, code int, errno syscall.Errno) string {
	if null {
		s = "ERROR"
	}
	return s + ": " + IPQErrString(code) + "\n"
}
