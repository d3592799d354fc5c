//go:build linux && cgo

package nfq

import (
	"fmt"
	"sync"
	"syscall"
	"unsafe"
)

// ifNames resolves interface indexes to names through a NETLINK_ROUTE socket
// opened with the queue: a socket belongs to the network namespace it was
// made in, so the names are the queue's, whichever thread asks.
type ifNames struct {
	mu    sync.Mutex
	fd    int // -1 when not open
	err   error
	seq   uint32
	names map[uint32]string // index -> name, as of the latest reload
}

func openIfNames() *ifNames {
	n := &ifNames{fd: -1}
	fd, err := syscall.Socket(syscall.AF_NETLINK, syscall.SOCK_RAW|syscall.SOCK_CLOEXEC, syscall.NETLINK_ROUTE)
	if err != nil {
		n.err = fmt.Errorf("open route socket: %w", err)
		return n
	}
	// A reply never takes long; a bound on the wait keeps a lost one from
	// hanging the caller.
	tv := syscall.Timeval{Sec: 2}
	if err := syscall.SetsockoptTimeval(fd, syscall.SOL_SOCKET, syscall.SO_RCVTIMEO, &tv); err != nil {
		syscall.Close(fd)
		n.err = fmt.Errorf("route socket timeout: %w", err)
		return n
	}
	if err := syscall.Bind(fd, &syscall.SockaddrNetlink{Family: syscall.AF_NETLINK}); err != nil {
		syscall.Close(fd)
		n.err = fmt.Errorf("bind route socket: %w", err)
		return n
	}
	n.fd = fd
	return n
}

func (n *ifNames) close() {
	if n == nil {
		return
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.fd >= 0 {
		syscall.Close(n.fd)
		n.fd = -1
	}
	n.err = ErrClosed
}

// name returns the name of interface index, reloading the whole table from
// the kernel when index is not in it.
func (n *ifNames) name(index uint32) (string, error) {
	if n == nil {
		return "", ErrClosed
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if name, ok := n.names[index]; ok {
		return name, nil
	}
	if n.fd < 0 {
		return "", n.err
	}
	names, err := n.load()
	if err != nil {
		return "", err
	}
	n.names = names
	if name, ok := n.names[index]; ok {
		return name, nil
	}
	return "", ErrNoInterface
}

// load asks the kernel for every link (RTM_GETLINK dump) and returns their
// names by index.
func (n *ifNames) load() (map[uint32]string, error) {
	n.seq++
	req := make([]byte, syscall.NLMSG_HDRLEN+syscall.SizeofIfInfomsg)
	hdr := (*syscall.NlMsghdr)(unsafe.Pointer(&req[0]))
	hdr.Len = uint32(len(req))
	hdr.Type = syscall.RTM_GETLINK
	hdr.Flags = syscall.NLM_F_REQUEST | syscall.NLM_F_DUMP
	hdr.Seq = n.seq
	req[syscall.NLMSG_HDRLEN] = syscall.AF_UNSPEC // ifi_family
	if err := syscall.Sendto(n.fd, req, 0, &syscall.SockaddrNetlink{Family: syscall.AF_NETLINK}); err != nil {
		return nil, fmt.Errorf("ask for interfaces: %w", err)
	}
	names := map[uint32]string{}
	buf := make([]byte, 64<<10) // a dump datagram is at most 32 KiB
	for {
		nr, _, err := syscall.Recvfrom(n.fd, buf, 0)
		if err != nil {
			return nil, fmt.Errorf("read interfaces: %w", err)
		}
		msgs, err := syscall.ParseNetlinkMessage(buf[:nr])
		if err != nil {
			return nil, fmt.Errorf("parse interfaces: %w", err)
		}
		for _, m := range msgs {
			if m.Header.Seq != n.seq {
				continue // a late answer to an earlier request
			}
			switch m.Header.Type {
			case syscall.NLMSG_DONE:
				return names, nil
			case syscall.NLMSG_ERROR:
				if len(m.Data) >= 4 {
					if e := -*(*int32)(unsafe.Pointer(&m.Data[0])); e != 0 {
						return nil, fmt.Errorf("ask for interfaces: %w", syscall.Errno(e))
					}
				}
				return names, nil
			case syscall.RTM_NEWLINK:
				if len(m.Data) < syscall.SizeofIfInfomsg {
					continue
				}
				info := (*syscall.IfInfomsg)(unsafe.Pointer(&m.Data[0]))
				attrs, err := syscall.ParseNetlinkRouteAttr(&m)
				if err != nil {
					continue
				}
				for _, a := range attrs {
					if a.Attr.Type == syscall.IFLA_IFNAME {
						names[uint32(info.Index)] = nulTerminated(a.Value)
					}
				}
			}
		}
	}
}

// nulTerminated returns b up to its first NUL.
func nulTerminated(b []byte) string {
	for i, c := range b {
		if c == 0 {
			return string(b[:i])
		}
	}
	return string(b)
}

// InterfaceName returns the name of the interface with the given index in the
// queue's network namespace (the one Open was called in), whatever namespace
// the calling thread is in. Names are cached; the cache is reloaded when an
// index is not in it, so new interfaces are found, and a renamed interface
// shows its new name once some unknown index caused a reload. It fails with
// ErrNoInterface for an index the namespace does not have.
func (q *Queue) InterfaceName(index uint32) (string, error) {
	if index == 0 {
		return "", &OpError{Op: "interface name", Queue: q.cfg.Queue, Err: ErrNoInterface, Hint: "index 0 means no interface"}
	}
	name, err := q.ifn.name(index)
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
