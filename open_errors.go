//go:build linux && cgo

package nfq

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
)

const capNetAdmin = 12 // CAP_NET_ADMIN in <linux/capability.h>

// openError explains a failed Open step in words a user can act on.
func openError(queue uint16, stage string, errno syscall.Errno) error {
	e := &OpError{Op: stage, Queue: queue, Err: errno}
	switch errno {
	case syscall.EPERM, syscall.EBUSY:
		permissionError(e, stage, queue)
	case syscall.EOPNOTSUPP, syscall.EPROTONOSUPPORT, syscall.ENOENT:
		e.Kind = ErrNotSupported
		e.Hint = "the kernel has no nfnetlink_queue support (CONFIG_NETFILTER_NETLINK_QUEUE)"
	}
	return e
}

const noPermissionHint = "NFQUEUE needs CAP_NET_ADMIN: run as root, or grant it (setcap cap_net_admin+ep BINARY, or --cap-add NET_ADMIN in a container)"

// permissionError tells apart the two causes of the kernel's EPERM: a
// missing CAP_NET_ADMIN, and, for the bind, a queue another socket holds.
// Only the first unwraps to os.ErrPermission. Open calls it right after the
// bind, on the goroutine that tried it, so /proc/thread-self shows the
// queue's network namespace (a Config.NetNS thread is locked; otherwise the
// threads share the caller's).
func permissionError(e *OpError, stage string, queue uint16) {
	has, known := hasCapability(capNetAdmin)
	if known && !has {
		e.Kind, e.Hint = ErrNoPermission, noPermissionHint
		return
	}
	if stage != "bind queue" {
		return
	}
	holder, err := findQueueHolder(queue)
	switch {
	case err == nil:
		e.Err, e.Kind = &queueInUseError{queue: queue, holder: holder}, ErrQueueInUse
		e.Hint = "a queue has one socket: stop the program holding it, or choose another queue number"
	case err == errQueueNotListed:
		// Nobody holds it, so the kernel refused the capability: this
		// thread has it, but not over the queue's network namespace.
		e.Kind = ErrNoPermission
		e.Hint = "NFQUEUE needs CAP_NET_ADMIN in the user namespace that owns the queue's network namespace; this process has it only in its own"
	case !known:
		e.Hint = "another socket holds the queue, or the process lacks CAP_NET_ADMIN: without /proc the package cannot tell which"
	default:
		// The capability is there but the holder cannot be looked up:
		// most likely the queue is taken.
		e.Err, e.Kind = &queueInUseError{queue: queue}, ErrQueueInUse
		e.Hint = fmt.Sprintf("could not read %s to name the holder (%v); if no other program holds the queue, check CAP_NET_ADMIN", kernelStatsName, err)
	}
}

// flagError explains a queue flag the kernel refused.
func flagError(queue uint16, f Flags, name string, err error) error {
	e := &OpError{Op: "set queue flag " + name, Queue: queue, Err: err}
	if errno, ok := err.(syscall.Errno); ok && (errno == syscall.EOPNOTSUPP || errno == syscall.EINVAL) {
		e.Kind = ErrNotSupported
		e.Hint = "the running kernel does not support queue flag " + name + flagRequirement(f)
	}
	return e
}

func flagRequirement(f Flags) string {
	switch f {
	case FlagFailOpen:
		return " (Linux 3.6)"
	case FlagConntrack:
		return ": it needs a kernel built with CONFIG_NETFILTER_NETLINK_GLUE_CT=y; without it, leave FlagConntrack out (no conntrack attributes, no WithConnMark)"
	case FlagGSO:
		return " (Linux 3.10)"
	case FlagUIDGID:
		return " (Linux 3.14)"
	case FlagSecCtx:
		return " (Linux 4.2)"
	}
	return ""
}

// hasCapability reads the effective capability set of this thread.
func hasCapability(bit uint) (has, known bool) {
	f, err := os.Open("/proc/thread-self/status")
	if err != nil {
		return false, false
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		hex, ok := strings.CutPrefix(s.Text(), "CapEff:")
		if !ok {
			continue
		}
		caps, err := strconv.ParseUint(strings.TrimSpace(hex), 16, 64)
		if err != nil {
			return false, false
		}
		return caps&(1<<bit) != 0, true
	}
	return false, false
}
