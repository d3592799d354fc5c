//go:build linux && cgo

package nfq

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// queueInUseError is the cause of a bind the kernel refused because another
// socket holds the queue number. The kernel says EPERM for it, as for a
// missing capability; this error unwraps to EBUSY instead, so that
// errors.Is(err, os.ErrPermission) stays true only for privilege problems.
type queueInUseError struct {
	queue  uint16
	holder queueHolder
}

func (e *queueInUseError) Error() string {
	msg := fmt.Sprintf("queue %d is bound by another socket", e.queue)
	h := e.holder
	switch {
	case h.portID == 0:
		return msg
	case h.pid == 0:
		return msg + fmt.Sprintf(" (port id %d; no process visible from here holds it)", h.portID)
	case h.pid == os.Getpid():
		return msg + fmt.Sprintf(" (port id %d, this process: %s pid %d)", h.portID, h.comm, h.pid)
	}
	return msg + fmt.Sprintf(" (port id %d, process %s pid %d)", h.portID, h.comm, h.pid)
}

func (e *queueInUseError) Unwrap() error { return syscall.EBUSY }

// queueHolder is the socket bound to a queue: its netlink port id and, when
// it can be found, a process that has it open.
type queueHolder struct {
	portID uint32
	pid    int
	comm   string
}

// netlinkNetfilter is NETLINK_NETFILTER, the protocol of NFQUEUE sockets.
const netlinkNetfilter = 12

// findQueueHolder looks up who holds queue num in the calling thread's
// network namespace. It returns errQueueNotListed when nobody does.
func findQueueHolder(num uint16) (queueHolder, error) {
	b, err := os.ReadFile(kernelStatsPath)
	if err != nil {
		return queueHolder{}, err
	}
	k, err := parseKernelStats(b, num)
	if err != nil {
		return queueHolder{}, err
	}
	h := queueHolder{portID: k.PortID}
	// Best effort from here on: the port id alone already names the socket.
	if b, err := os.ReadFile("/proc/thread-self/net/netlink"); err == nil {
		if inode, ok := netlinkSocketInode(b, netlinkNetfilter, k.PortID); ok {
			h.pid = socketOwner(inode)
		}
	}
	if h.pid != 0 {
		comm, _ := os.ReadFile(fmt.Sprintf("/proc/%d/comm", h.pid))
		h.comm = strings.TrimSpace(string(comm))
	}
	return h, nil
}

// netlinkSocketInode finds the inode of the netlink socket with the given
// protocol and port id in the contents of /proc/net/netlink, whose columns
// are: sk Eth Pid Groups Rmem Wmem Dump Locks Drops Inode (Eth is the
// protocol, Pid the port id).
func netlinkSocketInode(b []byte, protocol int, portID uint32) (uint64, bool) {
	s := bufio.NewScanner(bytes.NewReader(b))
	for s.Scan() {
		f := strings.Fields(s.Text())
		if len(f) < 10 {
			continue
		}
		if f[1] != strconv.Itoa(protocol) || f[2] != strconv.FormatUint(uint64(portID), 10) {
			continue
		}
		inode, err := strconv.ParseUint(f[9], 10, 64)
		return inode, err == nil
	}
	return 0, false
}

// socketOwner returns the pid of a process with socket inode open, or 0.
// Processes whose descriptors this one may not read are skipped.
func socketOwner(inode uint64) int {
	want := fmt.Sprintf("socket:[%d]", inode)
	procs, _ := filepath.Glob("/proc/[0-9]*")
	for _, dir := range procs {
		fds, err := os.ReadDir(dir + "/fd")
		if err != nil {
			continue
		}
		for _, fd := range fds {
			if link, err := os.Readlink(dir + "/fd/" + fd.Name()); err == nil && link == want {
				pid, _ := strconv.Atoi(filepath.Base(dir))
				return pid
			}
		}
	}
	return 0
}
