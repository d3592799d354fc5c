package nfq

// The libipq compatibility layer: iptables' libipq API (ip_queue, removed in
// Linux 3.5) on top of Queue. One function per C function, with the same
// semantics: a process-wide error code, buffer-based reads that produce the
// legacy message layout, timeouts in microseconds. New code should use
// Open, Queue.Packets and Packet.SetVerdict instead.
//
// A handle binds NFQUEUE queue 0, where `iptables -j QUEUE` sends packets;
// the environment variable LIBIPQ_QUEUE (or LIBIPQ_QUEUE_IPV4 /
// LIBIPQ_QUEUE_IPV6 for one family) or IPQCreateHandleQueue choose another
// number. NFQUEUE queues carry both families, so the IPv4 and the IPv6
// handle of a process share the queue and each gets its family's packets;
// packets of a family without a handle are dropped, as ip_queue dropped
// packets that had no listener.
//
// Differences to ip_queue: a second handle for the same queue and family
// fails in ipq_create_handle with IPQErrBind and EBUSY (ip_queue refused the
// second peer's messages with EBUSY).

import (
	"errors"
	"math"
	"os"
	"runtime"
	"strconv"
	"sync"
	"syscall"
	"time"
)

// IPQHandle is a libipq handle (struct ipq_handle): one protocol family
// of an NFQUEUE queue and the messages waiting for IPQRead.
type IPQHandle struct {
	shared *ipqQueue
	family int // ipqIPv4 or ipqIPv6
	efd    int // eventfd, readable while a message waits

	mu      sync.Mutex
	mode    uint8  // IPQ_COPY_*
	rng     uint32 // copy range in IPQ_COPY_PACKET mode
	fifo    []*ipqMsg
	pending map[uint32]*ipqMsg // packets without a verdict, by id
	nerrs   int                // error messages in fifo
	wake    chan struct{}      // closed and replaced when fifo grows
	eof     bool               // the queue ended under the handle
	closed  bool
}

// ipqMsg is one message waiting in a handle: a packet, an error the
// kernel would have acked (errno, reqType, reqLen) or a receive failure
// (recvErr).
type ipqMsg struct {
	pkt       *Packet
	mode      uint8 // copy mode and range when the packet arrived
	rng       uint32
	recv      time.Time
	delivered bool // returned by IPQRead

	errno   syscall.Errno
	reqType uint16
	reqLen  uint32
	recvErr syscall.Errno
}

const (
	ipqIPv4 = 0
	ipqIPv6 = 1

	// ipqMaxErrs bounds queued error messages; packets are bounded by the
	// kernel queue length already.
	ipqMaxErrs = 1024
)

// IPQCreateHandle opens a handle for protocol NFProtoIPv4 or NFProtoIPv6
// on queue 0 (or the one LIBIPQ_QUEUE names); flags are unused. It returns
// nil on failure, with IPQErrno set (IPQErrProtocol for another protocol).
// The queue drops packets until IPQSetMode chooses a copy mode.
//
// It stands for ipq_create_handle(3). Modern API: Open.
func IPQCreateHandle(flags, protocol uint32) *IPQHandle {
	h, _ := ipqCreate(protocol, -1)
	return h
}

// IPQCreateHandleQueue is IPQCreateHandle on queue number queue (as in
// iptables -j NFQUEUE --queue-num). It has no C counterpart.
func IPQCreateHandleQueue(flags, protocol uint32, queue uint16) *IPQHandle {
	h, _ := ipqCreate(protocol, int(queue))
	return h
}

func ipqCreate(protocol uint32, queue int) (*IPQHandle, syscall.Errno) {
	family := ipqIPv4
	switch protocol {
	case NFProtoIPv4:
	case NFProtoIPv6:
		family = ipqIPv6
	default:
		ipqFail(IPQErrProtocol, 0)
		return nil, 0
	}
	if queue < 0 {
		n, err := ipqQueueFromEnv(family)
		if err != nil {
			ipqFail(IPQErrHandle, syscall.EINVAL)
			return nil, syscall.EINVAL
		}
		queue = int(n)
	}
	// the namespace lookup, the queue and the link socket must all be
	// made on the thread the caller is on
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	efd, err := newIPQEventfd()
	if err != nil {
		errno := ipqErrnoOf(err, syscall.EMFILE)
		ipqFail(IPQErrHandle, errno)
		return nil, errno
	}
	h := &IPQHandle{family: family, efd: efd, pending: make(map[uint32]*ipqMsg), wake: make(chan struct{})}
	if code, errno := ipqAttach(h, uint16(queue)); code != IPQErrNone {
		efdClose(efd)
		ipqFail(code, errno)
		return nil, errno
	}
	return h, 0
}

// ipqQueueFromEnv returns the queue number the environment asks for.
func ipqQueueFromEnv(family int) (uint16, error) {
	names := [...]string{"LIBIPQ_QUEUE_IPV4", "LIBIPQ_QUEUE_IPV6"}
	for _, name := range []string{names[family], "LIBIPQ_QUEUE"} {
		if v := os.Getenv(name); v != "" {
			n, err := strconv.ParseUint(v, 10, 16)
			if err != nil {
				return 0, err
			}
			return uint16(n), nil
		}
	}
	return 0, nil
}

// Fd returns the descriptor that polls readable while a message waits:
// the h->fd of C programs.
func (h *IPQHandle) Fd() int { return h.efd }

// IPQDestroyHandle closes the handle. Packets it holds without a verdict
// are dropped, as ip_queue dropped them when its peer went away. nil is
// allowed. It returns 0.
//
// It stands for ipq_destroy_handle(3). Modern API: Queue.Close.
func IPQDestroyHandle(h *IPQHandle) int {
	if h == nil {
		return 0
	}
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		return 0
	}
	h.closed = true
	pending := h.pending
	h.pending, h.fifo = nil, nil
	close(h.wake)
	h.mu.Unlock()
	if closedQueue := h.shared.detach(h); !closedQueue {
		for _, m := range pending {
			m.pkt.Drop()
		}
	}
	efdClose(h.efd)
	return 0
}

// IPQSetMode sets the copy mode: IPQCopyMeta (metadata only) or
// IPQCopyPacket with rng payload bytes (0 or more than the kernel allows:
// the whole packet). It returns the size of the request it stands for
// (> 0) or -1 with IPQErrSend. An unknown mode is refused as ip_queue
// refused it: by an NLMsgError message (EINVAL) that IPQRead returns.
//
// It stands for ipq_set_mode(3). Modern API: Config.CopyMode and
// Queue.SetCopyMode.
func IPQSetMode(h *IPQHandle, mode uint8, rng uint) int {
	n, _ := h.setMode(mode, uint64(rng))
	return n
}

func (h *IPQHandle) setMode(mode uint8, rng uint64) (int, syscall.Errno) {
	if h == nil {
		ipqFail(IPQErrSend, syscall.EBADF)
		return -1, syscall.EBADF
	}
	switch mode {
	case IPQCopyNone, IPQCopyMeta:
		rng = 0
	case IPQCopyPacket:
		if rng == 0 || rng > ipqMaxRange {
			rng = ipqMaxRange
		}
	default:
		if !h.pushError(syscall.EINVAL, IPQMMode, ipqVerdictN) {
			ipqFail(IPQErrSend, syscall.EBADF)
			return -1, syscall.EBADF
		}
		return ipqVerdictN, 0
	}
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		ipqFail(IPQErrSend, syscall.EBADF)
		return -1, syscall.EBADF
	}
	h.mode, h.rng = mode, uint32(rng)
	h.mu.Unlock()
	if errno := h.shared.applyMode(); errno != 0 {
		ipqFail(IPQErrSend, errno)
		return -1, errno
	}
	return ipqVerdictN, 0
}

// IPQRead copies the next message into buf and returns its size. timeout
// is in microseconds: 0 waits for a message, a negative value only looks,
// a positive one waits at most that long. On timeout it returns 0 with
// IPQErrTimeout. It returns -1 with IPQErrRecvBuf when len(buf) is under
// IPQMinReadLen, and with IPQErrRTrunc when the message did not fit: buf
// then holds its beginning, with the packet id when 24 bytes fit, so that
// the packet can still be dropped.
//
// It stands for ipq_read(3). Modern API: Queue.Packets.
func IPQRead(h *IPQHandle, buf []byte, timeout int) int {
	n, _ := h.read(buf, timeout, ipqGoWait)
	return n
}

// ipqWaitFunc waits until h has a message, at most d (negative: no limit).
type ipqWaitFunc func(h *IPQHandle, d time.Duration) (ipqWaitResult, syscall.Errno)

type ipqWaitResult int

const (
	ipqReady ipqWaitResult = iota
	ipqTimedOut
	ipqInterrupted
	ipqWaitFailed
)

func (h *IPQHandle) read(buf []byte, timeout int, wait ipqWaitFunc) (int, syscall.Errno) {
	if h == nil {
		ipqFail(IPQErrRecv, syscall.EBADF)
		return -1, syscall.EBADF
	}
	if len(buf) < IPQMinReadLen {
		ipqFail(IPQErrRecvBuf, 0)
		return -1, 0
	}
	var deadline time.Time
	if timeout > 0 {
		deadline = time.Now().Add(time.Duration(timeout) * time.Microsecond)
	}
	for {
		m, closed, eof := h.pop()
		switch {
		case m != nil:
			return h.deliver(buf, m)
		case closed:
			ipqFail(IPQErrRecv, syscall.EBADF)
			return -1, syscall.EBADF
		case eof:
			ipqFail(IPQErrNLEOF, 0)
			return -1, 0
		}
		d := time.Duration(-1)
		if timeout < 0 {
			d = 0
		} else if timeout > 0 {
			d = time.Until(deadline)
		}
		if d == 0 || (timeout > 0 && d <= 0) {
			ipqFail(IPQErrTimeout, 0)
			return 0, 0
		}
		switch res, errno := wait(h, d); res {
		case ipqInterrupted:
			return 0, syscall.EINTR // as libipq: 0, the error code untouched
		case ipqWaitFailed:
			ipqFail(IPQErrRecv, errno)
			return -1, errno
		}
	}
}

// ipqGoWait waits on the handle's wake channel; Go code is not interrupted
// by signals, so it never reports ipqInterrupted.
func ipqGoWait(h *IPQHandle, d time.Duration) (ipqWaitResult, syscall.Errno) {
	h.mu.Lock()
	ready := len(h.fifo) > 0 || h.eof || h.closed
	wake := h.wake
	h.mu.Unlock()
	if ready {
		return ipqReady, 0
	}
	if d < 0 {
		<-wake
		return ipqReady, 0
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-wake:
		return ipqReady, 0
	case <-t.C:
		return ipqTimedOut, 0
	}
}

// pop takes the next message.
func (h *IPQHandle) pop() (m *ipqMsg, closed, eof bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return nil, true, false
	}
	if len(h.fifo) == 0 {
		return nil, false, h.eof
	}
	m = h.fifo[0]
	h.fifo[0] = nil
	h.fifo = h.fifo[1:]
	m.delivered = true
	if m.pkt == nil {
		h.nerrs--
	}
	efdTake(h.efd)
	return m, false, false
}

// deliver writes m into buf the way ipq_read returned it.
func (h *IPQHandle) deliver(buf []byte, m *ipqMsg) (int, syscall.Errno) {
	var size, written int
	switch {
	case m.recvErr != 0:
		ipqFail(IPQErrRecv, m.recvErr)
		return -1, m.recvErr
	case m.pkt == nil:
		size, written = encodeIPQError(buf, m.errno, m.reqType, m.reqLen)
	default:
		c := h.content(m)
		size, written = encodeIPQPacket(buf, &c)
	}
	if written < size {
		ipqFail(IPQErrRTrunc, 0)
		return -1, 0
	}
	return size, 0
}

// content maps a queued packet to the legacy message fields.
func (h *IPQHandle) content(m *ipqMsg) ipqPacketContent {
	p := m.pkt
	c := ipqPacketContent{
		id: p.ID, mark: p.Mark, hook: uint8(p.Hook),
		hwProtocol: p.HWProtocol, hwAddr: p.HWAddr,
	}
	ts := m.recv // ip_queue always stamped packets; NFQUEUE may not
	if p.Has(AttrTimestamp) && !p.Timestamp.IsZero() {
		ts = p.Timestamp
	}
	c.tsSec, c.tsUsec = ts.Unix(), int64(ts.Nanosecond()/1000)
	links := h.shared.links
	if p.InDev != 0 {
		c.indev, c.hwType, _ = links.lookup(p.InDev)
	}
	if p.OutDev != 0 {
		c.outdev, _, _ = links.lookup(p.OutDev)
	}
	if m.mode == IPQCopyPacket {
		c.payload = p.Payload
		if uint32(len(c.payload)) > m.rng {
			c.payload = c.payload[:m.rng]
		}
	}
	return c
}

// IPQSetVerdict gives packet id its verdict (NF_ACCEPT = Accept, NF_DROP =
// Drop, NF_QUEUE, NF_REPEAT = Repeat, NF_STOP = Stop). When dataLen and buf
// are both non-zero, buf[:dataLen] replaces the packet from its IP header
// on; the caller must fix the checksums. It returns the size of the
// request it stands for (> 0), or -1 with IPQErrSend. As on ip_queue, an
// unknown id (ENOENT) or verdict (EINVAL) comes back later as an
// NLMsgError message from IPQRead.
//
// It stands for ipq_set_verdict(3). Modern API: Packet.SetVerdict,
// Packet.AcceptWithPayload.
func IPQSetVerdict(h *IPQHandle, id IPQID, verdict Verdict, dataLen uint, buf []byte) int {
	n, _ := h.setVerdict(uint64(id), uint32(verdict), uint64(dataLen), buf)
	return n
}

func (h *IPQHandle) setVerdict(id uint64, verdict uint32, dataLen uint64, buf []byte) (int, syscall.Errno) {
	if h == nil {
		ipqFail(IPQErrSend, syscall.EBADF)
		return -1, syscall.EBADF
	}
	withPayload := dataLen != 0 && buf != nil
	size := ipqVerdictN
	if withPayload {
		switch {
		case dataLen > MaxPayloadLen:
			ipqFail(IPQErrSend, syscall.EMSGSIZE)
			return -1, syscall.EMSGSIZE
		case dataLen > uint64(len(buf)):
			ipqFail(IPQErrSend, syscall.EINVAL)
			return -1, syscall.EINVAL
		}
		size += int(dataLen)
	}
	h.mu.Lock()
	closed := h.closed
	var m *ipqMsg
	if id <= math.MaxUint32 && !closed {
		m = h.pending[uint32(id)]
	}
	h.mu.Unlock()
	if closed {
		ipqFail(IPQErrSend, syscall.EBADF)
		return -1, syscall.EBADF
	}
	if m == nil {
		h.pushError(syscall.ENOENT, IPQMVerdict, uint32(size))
		return size, 0
	}
	v := Verdict(verdict)
	var opts []VerdictOption
	// ip_queue let DROP carry a payload, and applied the verdict to the
	// original packet when the payload was shorter than an IP header (the
	// kernel would drop the packet instead).
	if withPayload && v&verdictMask != Drop && int(dataLen) >= m.pkt.minReplacement(buf[:dataLen]) {
		opts = append(opts, WithPayload(buf[:dataLen]))
	}
	err := m.pkt.SetVerdict(v, opts...)
	switch {
	case err == nil:
		h.forget(m)
		return size, 0
	case errors.Is(err, ErrPayloadTooLarge):
		ipqFail(IPQErrSend, syscall.EMSGSIZE)
		return -1, syscall.EMSGSIZE
	case errors.Is(err, ErrInvalidVerdict):
		h.pushError(syscall.EINVAL, IPQMVerdict, uint32(size))
		return size, 0
	case errors.Is(err, ErrVerdictGiven):
		h.forget(m)
		h.pushError(syscall.ENOENT, IPQMVerdict, uint32(size))
		return size, 0
	}
	errno := ipqErrnoOf(err, syscall.EIO)
	if errors.Is(err, ErrClosed) {
		errno = syscall.EBADF
	}
	ipqFail(IPQErrSend, errno)
	return -1, errno
}

// forget removes a packet that has its verdict.
func (h *IPQHandle) forget(m *ipqMsg) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.pending[m.pkt.ID] == m {
		delete(h.pending, m.pkt.ID)
	}
	if m.delivered {
		return
	}
	// a verdict for a packet not read yet: it must not be read any more
	for i, f := range h.fifo {
		if f == m {
			h.fifo = append(h.fifo[:i], h.fifo[i+1:]...)
			efdTake(h.efd)
			return
		}
	}
}

// IPQCtl is a no-op that returns 1, as libipq's was.
//
// It stands for ipq_ctl(3). Modern API: Config and Queue methods.
func IPQCtl(h *IPQHandle, request int, args ...any) int { return 1 }

// pushPacket queues p for IPQRead; false when the handle takes no packets
// (closed, or still in IPQ_COPY_NONE), and the caller drops it.
func (h *IPQHandle) pushPacket(p *Packet, recv time.Time) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed || h.mode == IPQCopyNone {
		return false
	}
	m := &ipqMsg{pkt: p, mode: h.mode, rng: h.rng, recv: recv}
	h.pending[p.ID] = m
	h.pushLocked(m)
	return true
}

// pushError queues an NLMSG_ERROR message, as the kernel acked a request
// it refused.
func (h *IPQHandle) pushError(errno syscall.Errno, reqType uint16, reqLen uint32) bool {
	return h.pushMsg(&ipqMsg{errno: errno, reqType: reqType, reqLen: reqLen})
}

// pushMsg queues a message that is not a packet.
func (h *IPQHandle) pushMsg(m *ipqMsg) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return false
	}
	if h.nerrs < ipqMaxErrs {
		h.nerrs++
		h.pushLocked(m)
	}
	return true
}

func (h *IPQHandle) pushLocked(m *ipqMsg) {
	h.fifo = append(h.fifo, m)
	efdPost(h.efd)
	close(h.wake)
	h.wake = make(chan struct{})
}

// setEOF marks that the queue ended under the handle: once the waiting
// messages are read, IPQRead reports IPQErrNLEOF.
func (h *IPQHandle) setEOF() {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed || h.eof {
		return
	}
	h.eof = true
	efdPost(h.efd) // stays: the fd polls readable from now on
	close(h.wake)
	h.wake = make(chan struct{})
}

// ipqErrnoOf returns the errno err wraps, or fallback.
func ipqErrnoOf(err error, fallback syscall.Errno) syscall.Errno {
	var errno syscall.Errno
	if errors.As(err, &errno) && errno != 0 {
		return errno
	}
	return fallback
}
