//go:build linux && cgo

package nfq

/*
#include "ifname_cgo.h"
#include "nfq_cgo.h"
*/
import "C"

import (
	"fmt"
	"syscall"
)

// Interface names come from the kernel on every call (ifname_cgo.c), asked
// through the queue's own socket: a socket answers for the network namespace
// it was made in, so the names are the queue's whichever thread asks, and a
// renamed or deleted interface shows at once. The C libipq resolves its
// interface names the same way.

// ifName returns the name of interface index, asking through the queue's
// socket.
func (q *Queue) ifName(index uint32) (string, error) {
	q.life.RLock()
	defer q.life.RUnlock()
	if q.c == nil {
		return "", ErrClosed
	}
	var name [C.NFQGO_IFNAMSIZ]C.char
	if rc := C.nfqgo_ifname(C.nfqgo_fd(q.c), C.uint32_t(index), &name[0], nil); rc < 0 {
		if syscall.Errno(-rc) == syscall.ENODEV {
			return "", ErrNoInterface
		}
		return "", syscall.Errno(-rc)
	}
	return C.GoString(&name[0]), nil
}

// InterfaceName returns the name of the interface with the given index in the
// queue's network namespace (the one Open was called in), whatever namespace
// the calling thread is in. Each call asks the kernel, so a renamed interface
// shows its new name at once. It fails with ErrNoInterface for an index the
// namespace does not have (an interface deleted since the packet was queued,
// say), and with ErrClosed once the queue is closed.
func (q *Queue) InterfaceName(index uint32) (string, error) {
	if index == 0 {
		return "", &OpError{Op: "interface name", Queue: q.cfg.Queue, Err: ErrNoInterface, Hint: "index 0 means no interface"}
	}
	name, err := q.ifName(index)
	if err != nil {
		return "", &OpError{Op: fmt.Sprintf("interface name of index %d", index), Queue: q.cfg.Queue, Err: err}
	}
	return name, nil
}

// devName resolves one of the packet's interface indexes; an absent one is
// "" with no error.
func (p *Packet) devName(a Attr, index uint32) (string, error) {
	if !p.Has(a) || index == 0 {
		return "", nil
	}
	if p.q == nil {
		return "", &OpError{Op: "interface name", Queue: p.Queue, Err: ErrNoInterface, Hint: "this Packet did not come from a queue"}
	}
	return p.q.InterfaceName(index)
}

// InDevName returns the name of the interface the packet came in on, or ""
// if it has none (locally generated packets). See Queue.InterfaceName.
func (p *Packet) InDevName() (string, error) { return p.devName(AttrInDev, p.InDev) }

// OutDevName returns the name of the interface the packet goes out on, or ""
// if it has none yet (PREROUTING, INPUT).
func (p *Packet) OutDevName() (string, error) { return p.devName(AttrOutDev, p.OutDev) }

// PhysInDevName returns the name of the bridge port the packet came in on, or
// "" if it did not cross a bridge.
func (p *Packet) PhysInDevName() (string, error) { return p.devName(AttrPhysInDev, p.PhysInDev) }

// PhysOutDevName returns the name of the bridge port the packet goes out on,
// or "" if it does not cross a bridge.
func (p *Packet) PhysOutDevName() (string, error) { return p.devName(AttrPhysOutDev, p.PhysOutDev) }
