package nfq

import (
	"context"
	"errors"
	"os"
	"sync"
	"syscall"
	"time"
)

// ipqQueue is one NFQUEUE queue under the libipq handles of this process:
// NFQUEUE delivers IPv4 and IPv6 to the same queue, where ip_queue had one
// queue per family, so the handles of both families share it and the
// packets are sorted by EtherType.
type ipqQueue struct {
	key    ipqKey
	q      *Queue
	links  *ipqLinks // interface names in the queue's namespace; may be nil
	cancel context.CancelFunc
	done   chan struct{} // closed when the receive goroutine ends

	mu      sync.Mutex
	handles [2]*IPQHandle // by family

	modeMu sync.Mutex // serializes copy mode changes
	mode   CopyMode
	rng    uint32
}

// ipqKey names a queue: queue numbers are per network namespace.
type ipqKey struct {
	netns string
	num   uint16
}

var ipqRegistry struct {
	sync.Mutex
	m map[ipqKey]*ipqQueue
}

const etherTypeIPv6 = 0x86dd

// ipqAttach binds h to its queue, opening the queue for the first handle.
// The caller's thread must be locked: it names the namespace.
func ipqAttach(h *IPQHandle, num uint16) (code int, errno syscall.Errno) {
	ns, _ := os.Readlink("/proc/thread-self/ns/net")
	key := ipqKey{netns: ns, num: num}
	ipqRegistry.Lock()
	defer ipqRegistry.Unlock()
	s := ipqRegistry.m[key]
	if s == nil {
		var err error
		if s, err = openIPQQueue(key); err != nil {
			errno = ipqErrnoOf(err, syscall.EPROTONOSUPPORT)
			if errors.Is(err, ErrQueueInUse) || errors.Is(err, ErrNoPermission) {
				return IPQErrBind, errno
			}
			return IPQErrSocket, errno
		}
		if ipqRegistry.m == nil {
			ipqRegistry.m = make(map[ipqKey]*ipqQueue)
		}
		ipqRegistry.m[key] = s
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.handles[h.family] != nil {
		return IPQErrBind, syscall.EBUSY // one peer per family, as ip_queue
	}
	s.handles[h.family] = h
	h.shared = s
	return IPQErrNone, 0
}

// openIPQQueue opens the queue in metadata mode (nothing is copied until a
// handle asks: handles start in IPQ_COPY_NONE and drop) and starts
// receiving.
func openIPQQueue(key ipqKey) (*ipqQueue, error) {
	s := &ipqQueue{key: key, done: make(chan struct{}), mode: CopyMeta}
	q, err := Open(Config{Queue: key.num, CopyMode: CopyMeta, OnError: s.onError})
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	ch, err := q.Packets(ctx)
	if err != nil {
		cancel()
		q.Close()
		return nil, err
	}
	s.q, s.cancel = q, cancel
	s.links, _ = openIPQLinks() // without it, interface names stay empty
	go s.receive(ch)
	return s, nil
}

func (s *ipqQueue) receive(ch <-chan *Packet) {
	defer close(s.done)
	for p := range ch {
		s.dispatch(p)
	}
	// the queue ended without ipq_destroy_handle: readers get EOF
	for _, h := range s.snapshot() {
		h.setEOF()
	}
}

// dispatch hands p to the handle of its family, or drops it.
func (s *ipqQueue) dispatch(p *Packet) {
	family := ipqIPv4
	if p.HWProtocol == etherTypeIPv6 {
		family = ipqIPv6
	}
	s.mu.Lock()
	h := s.handles[family]
	s.mu.Unlock()
	if h == nil || !h.pushPacket(p, time.Now()) {
		p.Drop()
	}
}

func (s *ipqQueue) snapshot() []*IPQHandle {
	s.mu.Lock()
	defer s.mu.Unlock()
	var hs []*IPQHandle
	for _, h := range s.handles {
		if h != nil {
			hs = append(hs, h)
		}
	}
	return hs
}

// onError turns what the queue reports into what ip_queue's socket gave:
// an overrun fails the next read with ENOBUFS, a refused verdict comes as
// an NLMSG_ERROR message.
func (s *ipqQueue) onError(err error) {
	overrun := errors.Is(err, ErrOverrun)
	errno := ipqErrnoOf(err, 0)
	if !overrun && errno == 0 {
		return
	}
	for _, h := range s.snapshot() {
		if overrun {
			h.pushMsg(&ipqMsg{recvErr: syscall.ENOBUFS})
		} else {
			h.pushError(errno, IPQMVerdict, ipqVerdictN)
		}
	}
}

// applyMode sets the queue's copy mode to the largest any handle needs;
// each handle trims to its own when it reads.
func (s *ipqQueue) applyMode() syscall.Errno {
	s.modeMu.Lock()
	defer s.modeMu.Unlock()
	mode, rng := CopyMeta, uint32(0)
	for _, h := range s.snapshot() {
		h.mu.Lock()
		if h.mode == IPQCopyPacket {
			mode, rng = CopyPacket, max(rng, h.rng)
		}
		h.mu.Unlock()
	}
	if mode == s.mode && rng == s.rng {
		return 0
	}
	if err := s.q.SetCopyMode(mode, rng); err != nil {
		if errors.Is(err, ErrClosed) {
			return syscall.EBADF
		}
		return ipqErrnoOf(err, syscall.EIO)
	}
	s.mode, s.rng = mode, rng
	return 0
}

// detach removes h; the last handle closes the queue, which drops the
// packets still waiting (reported true).
func (s *ipqQueue) detach(h *IPQHandle) bool {
	ipqRegistry.Lock()
	defer ipqRegistry.Unlock()
	s.mu.Lock()
	s.handles[h.family] = nil
	last := s.handles == [2]*IPQHandle{}
	s.mu.Unlock()
	if !last {
		s.applyMode()
		return false
	}
	delete(ipqRegistry.m, s.key)
	s.cancel()
	<-s.done
	s.q.Close()
	s.links.close()
	return true
}
