//go:build linux

package nfq

import (
	"encoding/binary"
	"syscall"
)

// An eventfd in semaphore mode counts the messages waiting in a handle, so
// that it polls readable exactly while ipq_read has something to return:
// legacy programs select() on h->fd before reading.
const (
	efdSemaphore = 0x1
	efdCloexec   = syscall.O_CLOEXEC
	efdNonblock  = syscall.O_NONBLOCK
)

func newIPQEventfd() (int, error) {
	fd, _, e := syscall.RawSyscall(syscall.SYS_EVENTFD2, 0, efdSemaphore|efdCloexec|efdNonblock, 0)
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

// efdTake takes one from the count (never blocks: the fd is non-blocking).
func efdTake(fd int) {
	var b [8]byte
	syscall.Read(fd, b[:])
}

func efdClose(fd int) { syscall.Close(fd) }
