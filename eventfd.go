//go:build linux && cgo

package nfq

import (
	"encoding/binary"
	"syscall"
)

// Eventfds: a counter the kernel makes pollable, so that one thread can end
// another's poll(). The receive loop waits on one in its own thread
// (threadwait.go).

const (
	efdCloexec  = syscall.O_CLOEXEC  // EFD_CLOEXEC
	efdNonblock = syscall.O_NONBLOCK // EFD_NONBLOCK
)

// newEventFD returns a non-blocking eventfd that polls readable once posted.
func newEventFD() (int, error) {
	fd, _, e := syscall.RawSyscall(syscall.SYS_EVENTFD2, 0, efdCloexec|efdNonblock, 0)
	if e != 0 {
		return -1, e
	}
	return int(fd), nil
}

// efdPost adds one to the count.
func efdPost(fd int) {
	var b [8]byte
	binary.NativeEndian.PutUint64(b[:], 1)
	syscall.Write(fd, b[:])
}

func efdClose(fd int) { syscall.Close(fd) }
