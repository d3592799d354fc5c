//go:build linux

package nfq

import (
	"encoding/binary"
	"sync"
	"syscall"
	"time"
)

// ipqLinks resolves interface indexes to names and ARPHRD types for the
// legacy packet message, which carries names where NFQUEUE sends indexes.
// Its rtnetlink socket is opened where the queue is, so lookups answer
// for the queue's network namespace from any thread.
type ipqLinks struct {
	mu    sync.Mutex
	fd    int
	seq   uint32
	cache map[uint32]ipqLink
}

type ipqLink struct {
	name string
	typ  uint16 // ARPHRD_*
	at   time.Time
}

// ipqLinkTTL bounds how long a name is trusted: interfaces can be renamed.
const ipqLinkTTL = time.Second

func openIPQLinks() (*ipqLinks, error) {
	fd, err := syscall.Socket(syscall.AF_NETLINK, syscall.SOCK_RAW|syscall.SOCK_CLOEXEC, syscall.NETLINK_ROUTE)
	if err != nil {
		return nil, err
	}
	// a lookup must never hang a read
	tv := syscall.Timeval{Sec: 1}
	if err := syscall.SetsockoptTimeval(fd, syscall.SOL_SOCKET, syscall.SO_RCVTIMEO, &tv); err != nil {
		syscall.Close(fd)
		return nil, err
	}
	if err := syscall.Bind(fd, &syscall.SockaddrNetlink{Family: syscall.AF_NETLINK}); err != nil {
		syscall.Close(fd)
		return nil, err
	}
	return &ipqLinks{fd: fd, cache: make(map[uint32]ipqLink)}, nil
}

func (l *ipqLinks) close() {
	if l != nil {
		syscall.Close(l.fd)
	}
}

// lookup returns the name and type of interface index; ok is false when
// there is no such interface (or the lookup failed).
func (l *ipqLinks) lookup(index uint32) (name string, typ uint16, ok bool) {
	if l == nil || index == 0 {
		return "", 0, false
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if c, hit := l.cache[index]; hit && time.Since(c.at) < ipqLinkTTL {
		return c.name, c.typ, true
	}
	c, err := l.query(index)
	if err != nil {
		delete(l.cache, index)
		return "", 0, false
	}
	l.cache[index] = c
	return c.name, c.typ, true
}

// query asks the kernel for one link (RTM_GETLINK by index).
func (l *ipqLinks) query(index uint32) (ipqLink, error) {
	l.seq++
	req := make([]byte, syscall.NLMSG_HDRLEN+syscall.SizeofIfInfomsg)
	ne := binary.NativeEndian
	ne.PutUint32(req[0:], uint32(len(req)))
	ne.PutUint16(req[4:], syscall.RTM_GETLINK)
	ne.PutUint16(req[6:], syscall.NLM_F_REQUEST)
	ne.PutUint32(req[8:], l.seq)
	ne.PutUint32(req[syscall.NLMSG_HDRLEN+4:], index) // ifi_index
	if err := syscall.Sendto(l.fd, req, 0, &syscall.SockaddrNetlink{Family: syscall.AF_NETLINK}); err != nil {
		return ipqLink{}, err
	}
	buf := make([]byte, 16384)
	for {
		n, _, err := syscall.Recvfrom(l.fd, buf, 0)
		if err != nil {
			return ipqLink{}, err
		}
		msgs, err := syscall.ParseNetlinkMessage(buf[:n])
		if err != nil {
			return ipqLink{}, err
		}
		for _, m := range msgs {
			if m.Header.Seq != l.seq {
				continue // a late answer to an earlier, timed-out query
			}
			if m.Header.Type == syscall.NLMSG_ERROR || len(m.Data) < syscall.SizeofIfInfomsg {
				return ipqLink{}, syscall.ENODEV
			}
			c := ipqLink{typ: ne.Uint16(m.Data[2:]), at: time.Now()}
			attrs, err := syscall.ParseNetlinkRouteAttr(&m)
			if err != nil {
				return ipqLink{}, err
			}
			for _, a := range attrs {
				if a.Attr.Type == syscall.IFLA_IFNAME {
					c.name = cString(a.Value)
				}
			}
			return c, nil
		}
	}
}
