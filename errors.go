package nfq

import (
	"errors"
	"fmt"
	"strings"
)

// Sentinel errors. Errors returned by this package wrap them, so test with
// errors.Is.
var (
	// ErrClosed: the queue was closed. Packets that had no verdict by then
	// got Config.DefaultVerdict.
	ErrClosed = errors.New("nfq: queue closed")
	// ErrVerdictGiven: the packet already has a verdict; nothing was sent.
	ErrVerdictGiven = errors.New("nfq: packet already has a verdict")
	// ErrInvalidVerdict: the verdict or its options are not valid; nothing
	// was sent.
	ErrInvalidVerdict = errors.New("nfq: invalid verdict")
	// ErrInvalidConfig: Config holds a value the kernel would refuse.
	ErrInvalidConfig = errors.New("nfq: invalid config")
	// ErrPayloadTooLarge: a replacement payload is over MaxPayloadLen.
	ErrPayloadTooLarge = errors.New("nfq: replacement payload too large")
	// ErrQueueInUse: another socket (this process or another) is bound to
	// the queue number. The message names it by its netlink port id, and
	// names the process holding it where /proc shows one. The kernel
	// answers EPERM here, as for a missing capability; such an error
	// unwraps to syscall.EBUSY instead, never to os.ErrPermission.
	ErrQueueInUse = errors.New("nfq: queue number in use")
	// ErrNoPermission: the process lacks a privilege Open needs:
	// CAP_NET_ADMIN over the queue's network namespace, or CAP_SYS_ADMIN to
	// enter Config.NetNS. Such an error also unwraps to os.ErrPermission.
	ErrNoPermission = errors.New("nfq: CAP_NET_ADMIN required")
	// ErrNotSupported: the running kernel lacks a feature, or this build
	// of the package cannot use NFQUEUE at all (not Linux, or no cgo).
	ErrNotSupported = errors.New("nfq: not supported")
	// ErrBusy: the queue already has a consumer (Packets or Run).
	ErrBusy = errors.New("nfq: queue already has a consumer")
	// ErrOverrun: the socket receive buffer overflowed (ENOBUFS): the kernel
	// could not hand packets over and dropped them, or, with FlagFailOpen,
	// accepted them without a verdict. Reported to Config.OnError and
	// counted in Stats.
	ErrOverrun = errors.New("nfq: receive buffer overrun, packets were not delivered")
)

// ErrNoInterface: the queue's network namespace has no interface with the
// index asked for (it went away, or the index is 0).
var ErrNoInterface = errors.New("nfq: no such interface")

// OpError describes a failed operation on a queue. It unwraps to the cause:
// a syscall.Errno when the kernel or the C library reported one (so
// errors.Is(err, os.ErrPermission) works for a missing privilege), and to
// one of the sentinel errors above when the package could tell what went
// wrong.
type OpError struct {
	Op    string // what was attempted: "open", "bind queue", "set mode", "verdict", ...
	Queue uint16 // queue number
	Err   error  // the cause, often a syscall.Errno
	Kind  error  // a sentinel naming the situation, or nil
	Hint  string // what to do about it, or ""
}

func (e *OpError) Error() string {
	msg := fmt.Sprintf("nfq: queue %d: %s", e.Queue, e.Op)
	if e.Err != nil {
		// Sentinels carry the package prefix already said above.
		msg += ": " + strings.TrimPrefix(e.Err.Error(), "nfq: ")
	}
	if e.Hint != "" {
		msg += " (" + e.Hint + ")"
	}
	return msg
}

// Unwrap returns the cause and the sentinel, for errors.Is and errors.As.
func (e *OpError) Unwrap() []error {
	errs := make([]error, 0, 2)
	if e.Err != nil {
		errs = append(errs, e.Err)
	}
	if e.Kind != nil {
		errs = append(errs, e.Kind)
	}
	return errs
}
