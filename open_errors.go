//go:build linux

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
		// The kernel says EPERM both for a missing capability and for a
		// queue bound by another socket: tell them apart.
		if has, known := hasCapability(capNetAdmin); known && !has {
			e.Kind = ErrNoPermission
			e.Hint = "NFQUEUE needs CAP_NET_ADMIN: run as root, or grant it (setcap cap_net_admin+ep BINARY, or --cap-add NET_ADMIN in a container)"
		} else if stage == "bind queue" {
			e.Kind = ErrQueueInUse
			e.Hint = fmt.Sprintf("another socket, in this process or another, is bound to queue %d in this network namespace: stop it or choose another queue number", queue)
		}
	case syscall.EOPNOTSUPP, syscall.EPROTONOSUPPORT, syscall.ENOENT:
		e.Kind = ErrNotSupported
		e.Hint = "the kernel has no nfnetlink_queue support (CONFIG_NETFILTER_NETLINK_QUEUE)"
	}
	return e
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
