//go:build linux && cgo

package nfq

/*
#cgo pkg-config: libnetfilter_queue libmnl
#include <stdlib.h>
#include <linux/netfilter/nfnetlink_queue.h>
#include "nfq_cgo.h"
#include "parse_cgo.h"
*/
import "C"

import (
	"fmt"
	"os"
	"runtime/cgo"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// Queue is an open NFQUEUE queue. Open one with Open, consume its packets
// with Packets or Run, and Close it when done.
type Queue struct {
	// Set when the queue is opened, the same afterwards.
	cfg    Config
	handle cgo.Handle
	// poll is a duplicate of the netlink socket registered with the Go
	// runtime's poller: the receive loop parks there, not in a blocking C
	// call, and Close wakes it by closing the duplicate.
	poll    *os.File
	pollRaw syscall.RawConn
	// wakeFD is an eventfd that ends the loop's wait in its own thread
	// (threadwait.go); -1 until registerPoll. configure and Close post to
	// it; Close closes it last, once nothing can use it any more.
	wakeFD int
	// kstats is opened with the queue, in its network namespace; see
	// kernelstats.go.
	kstats *kernelStatsFile
	// set is the QueueSet the queue belongs to, or nil; set by OpenRange
	// before the queue is consumed.
	set *QueueSet

	// Lock order: rx, then life, then vmu.

	// rx is held by whoever reads the socket: the receive loop while it
	// drains, configuration calls (they read their answer from the same
	// socket, and dispatch the packets they meet) and Close. It guards the
	// C side's receive state (struct nfqgo_queue's rx) and the fields below.
	rx      sync.Mutex
	pending []*Packet // packets dispatched by C and not yet handed out
	lastID  uint32    // id of the latest packet received
	gotAny  bool      // whether lastID is set
	// unbinding is set by Close just before it unbinds the queue; packets
	// dispatched after that are dropped by the kernel.
	unbinding bool
	alloc     packetAlloc

	// life guards c, the C state: read-held by every C call, write-held by
	// Close while it tears the state down. Close sets closed before it
	// takes life, so a call that holds life and finds closed unset may use
	// c until it lets go.
	life             sync.RWMutex
	c                *C.struct_nfqgo_queue
	truncatedAtClose uint64 // the C side's count, kept when c is freed
	closed           atomic.Bool

	// vmu guards the C side's buffer of verdict messages not yet sent
	// (struct nfqgo_queue's vmu) and the fields below. sendverdict.go says
	// when a verdict leaves.
	vmu       sync.Mutex
	undecided undecided
	vpending  int // verdict messages in the C side's buffer
	// oldest is when, since monoEpoch, the oldest verdict in the buffer was
	// given, or 0 when the buffer is empty; written with vmu held, read
	// without it (flushDue).
	oldest atomic.Int64

	// Between the receive loop and the goroutines that give verdicts or
	// configure the queue (sendverdict.go's rules): atomics, and a channel
	// set before the loop starts.
	//
	// undelivered counts packets of the current batch not yet handed to
	// the consumer; with len(ch) it tells whether the consumer caught up.
	undelivered atomic.Int32
	ch          chan *Packet // the Packets channel, nil with Run
	// away is set while the loop is inside OnError, where it cannot send
	// verdicts: they leave at once then.
	away atomic.Int32
	// sendErr is the first failed send of buffered verdicts that the loop
	// has not reported yet.
	sendErr atomic.Pointer[OpError]
	// wakeRequested is set by configure when it wakes the parked loop with
	// a read deadline in the past, until the loop has woken.
	wakeRequested atomic.Bool

	// The receive loop's own: only its goroutine uses them.
	reader reader
	// roomTimer keeps the deadline while the loop waits for room in the
	// Packets channel.
	roomTimer      *time.Timer
	lastYield      time.Duration // since monoEpoch, when the loop last yielded
	receivedAtWait uint64        // stats.received when the loop last waited

	// Consuming and closing.
	consuming atomic.Bool   // Packets or Run was called
	chanMode  atomic.Bool   // Packets was called (q.ch is set)
	inReport  atomic.Int32  // the loop is inside Config.OnError
	done      chan struct{} // closed by Close
	loopDone  chan struct{} // closed when the Packets goroutine has exited
	closeOnce sync.Once
	closeErr  error

	stats counters // atomics, updated by whoever counts
}

// Open binds queue cfg.Queue and configures it. The queue lives in the
// network namespace cfg.NetNS names, or else in that of the calling thread.
// Packets queued by the kernel wait until Packets or Run consumes them.
func Open(cfg Config) (*Queue, error) {
	var q *Queue
	err := inNetNS(cfg.Queue, cfg.NetNS, func() (err error) {
		q, err = open(cfg)
		return err
	})
	return q, err
}

// open is Open in the calling thread's network namespace.
func open(cfg Config) (*Queue, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, &OpError{Op: "open", Queue: cfg.Queue, Err: err}
	}
	q := newQueue(cfg)
	var cerr C.int
	var stage *C.char
	noENOBUFS := 0
	if cfg.NoENOBUFS {
		noENOBUFS = 1
	}
	// Configuration reads ACKs from the socket and may dispatch packets
	// that arrive meanwhile; they land in q.pending under rx.
	q.rx.Lock()
	q.c = C.nfqgo_open(C.uint16_t(cfg.Queue), C.uintptr_t(q.handle), C.uint8_t(cfg.CopyMode.kernel()),
		C.uint32_t(cfg.CopyRange), C.uint32_t(cfg.MaxQueueLen), C.int(cfg.ReadBufferSize),
		C.int(noENOBUFS), C.uint32_t(cfg.DefaultVerdict), &cerr, &stage)
	q.rx.Unlock()
	if q.c == nil {
		q.handle.Delete()
		return nil, openError(cfg.Queue, C.GoString(stage), syscall.Errno(cerr))
	}
	q.kstats = openKernelStats()
	if err := q.registerPoll(); err != nil {
		q.Close()
		return nil, &OpError{Op: "register socket with the Go poller", Queue: cfg.Queue, Err: err}
	}
	// Flags one at a time, so that a refusal names the flag.
	for _, f := range flagNames {
		if cfg.Flags&f.f == 0 {
			continue
		}
		if err := q.configure(func() C.int {
			return C.nfqgo_set_flags(q.c, C.uint32_t(f.f), C.uint32_t(f.f))
		}); err != nil {
			q.Close()
			return nil, flagError(cfg.Queue, f.f, f.name, err)
		}
	}
	return q, nil
}

// newQueue returns a Queue for cfg (checked) with its cgo.Handle, not yet
// bound to C state.
func newQueue(cfg Config) *Queue {
	q := &Queue{cfg: cfg, wakeFD: -1, done: make(chan struct{}), loopDone: make(chan struct{})}
	q.handle = cgo.NewHandle(q)
	return q
}

// registerPoll puts a duplicate of the socket in the Go runtime's poller,
// and makes the eventfd that wakes the loop from a wait in its thread.
func (q *Queue) registerPoll() error {
	var err error
	if q.wakeFD, err = newEventFD(); err != nil {
		return err
	}
	r, _, errno := syscall.Syscall(syscall.SYS_FCNTL, uintptr(C.nfqgo_fd(q.c)), syscall.F_DUPFD_CLOEXEC, 0)
	if errno != 0 {
		return errno
	}
	fd := int(r)
	// os.NewFile registers only a non-blocking descriptor with the poller.
	// The flag belongs to the socket, which the C side uses too: set it for
	// the registration only, and leave the socket as libmnl made it. Every
	// read of the C side is MSG_DONTWAIT anyway.
	if err := syscall.SetNonblock(fd, true); err != nil {
		syscall.Close(fd)
		return err
	}
	q.poll = os.NewFile(uintptr(fd), fmt.Sprintf("nfqueue-%d", q.cfg.Queue))
	if err := syscall.SetNonblock(fd, false); err != nil {
		return err
	}
	q.pollRaw, err = q.poll.SyscallConn()
	return err
}

// Num returns the queue number.
func (q *Queue) Num() uint16 { return q.cfg.Queue }

// Stats returns the queue's counters. It reads no file: call it as often as
// you like.
func (q *Queue) Stats() Stats {
	s := q.stats.snapshot()
	q.life.RLock()
	defer q.life.RUnlock()
	if q.c != nil {
		s.Truncated = uint64(C.nfqgo_truncated(q.c))
	} else {
		s.Truncated = q.truncatedAtClose
	}
	return s
}

// SetCopyMode changes how much of each packet the kernel copies: CopyPacket
// with rng payload bytes (0: as much as the kernel copies, MaxCopyRange), or
// CopyMeta. CopyNone is refused, as by Open. It may be called at any time,
// also while packets are consumed.
func (q *Queue) SetCopyMode(mode CopyMode, rng uint32) error {
	cfg := q.cfg
	cfg.CopyMode, cfg.CopyRange = mode, rng
	cfg, err := cfg.withDefaults()
	if err != nil {
		return &OpError{Op: "set copy mode", Queue: q.cfg.Queue, Err: err}
	}
	err = q.configure(func() C.int {
		return C.nfqgo_set_mode(q.c, C.uint8_t(cfg.CopyMode.kernel()), C.uint32_t(cfg.CopyRange))
	})
	if err != nil {
		return &OpError{Op: "set copy mode", Queue: q.cfg.Queue, Err: err}
	}
	return nil
}

// configure runs a configuration call with the socket to itself. call
// returns 0 or a negative errno.
func (q *Queue) configure(call func() C.int) error {
	q.rx.Lock()
	defer q.rx.Unlock()
	q.life.RLock()
	defer q.life.RUnlock()
	if q.closed.Load() {
		return ErrClosed
	}
	rc := call()
	if len(q.pending) > 0 && q.poll != nil {
		// Packets arrived while the call waited for its ACK and the
		// socket shows no more data: wake the loop, which may be parked
		// or waiting in its thread.
		q.wakeRequested.Store(true)
		q.poll.SetReadDeadline(time.Unix(1, 0))
		efdPost(q.wakeFD)
	}
	return errnoErr(rc)
}

// errnoErr turns a C side result (0 or more, or a negative errno) into an
// error.
func errnoErr(rc C.int) error {
	if rc < 0 {
		return syscall.Errno(-rc)
	}
	return nil
}

// Close stops the queue: it stops receiving, sends the verdicts given so
// far, gives Config.DefaultVerdict to every received packet that has no
// verdict yet, unbinds the queue and releases its resources. It is idempotent
// and safe to call from any goroutine, also while packets flow and from
// inside a Run callback.
func (q *Queue) Close() error {
	q.closeOnce.Do(func() {
		q.closed.Store(true)
		close(q.done)
		if q.wakeFD >= 0 {
			efdPost(q.wakeFD) // ends a wait in the loop's thread
		}
		if q.poll != nil {
			// Wakes the loop if it is parked, and waits for it to leave
			// the poller's read callback, where it waits on wakeFD.
			q.poll.Close()
		}
		q.rx.Lock()
		q.life.Lock()
		q.closeErr = q.teardown()
		q.life.Unlock()
		q.rx.Unlock()
		if q.wakeFD >= 0 {
			efdClose(q.wakeFD) // configure, which posts to it, holds rx
		}
		q.kstats.close()
		q.handle.Delete()
	})
	if q.chanMode.Load() && q.inReport.Load() == 0 {
		<-q.loopDone // the Packets goroutine has closed its channel
	}
	return q.closeErr
}

// teardown runs with rx and life held and the queue marked closed.
func (q *Queue) teardown() error {
	if q.cfg.DefaultVerdict == Accept || q.cfg.DefaultVerdict == Stop {
		// Let the kernel accept new packets itself while we finish, rather
		// than queue them for the unbind to drop: fail-open with no room.
		// Best effort; kernels before 3.6 lack fail-open.
		if C.nfqgo_set_flags(q.c, C.uint32_t(FlagFailOpen), C.uint32_t(FlagFailOpen)) == 0 {
			C.nfqgo_set_maxlen(q.c, 0)
		}
		// Read what was already queued to us, so it gets the verdict too.
		C.nfqgo_drain_rest(q.c)
	}
	// Every packet without a verdict: the pending ones never handed out
	// and those handed out but not answered.
	for _, p := range q.pending {
		p.state.Store(packetDone)
	}
	q.pending = nil
	var undecided uint64
	if received, verdicts := q.stats.received.Load(), q.stats.verdicts.Load(); received > verdicts {
		undecided = received - verdicts
	}
	batch := q.gotAny && undecided > 0
	err := q.flushOnClose(batch, q.cfg.DefaultVerdict)
	if batch && err == nil {
		q.stats.defaultVerdicts.Add(undecided)
	}
	q.unbinding = true
	q.truncatedAtClose = uint64(C.nfqgo_truncated(q.c))
	C.nfqgo_close(q.c)
	q.c = nil
	return err
}

// The Attr bits are the C side's NFQGO_ATTR_* bits: each line fails to
// compile if a pair drifts apart.
var (
	_ [AttrMark - Attr(C.NFQGO_ATTR_MARK)]struct{}
	_ [Attr(C.NFQGO_ATTR_MARK) - AttrMark]struct{}
	_ [AttrTimestamp - Attr(C.NFQGO_ATTR_TIMESTAMP)]struct{}
	_ [Attr(C.NFQGO_ATTR_TIMESTAMP) - AttrTimestamp]struct{}
	_ [AttrInDev - Attr(C.NFQGO_ATTR_INDEV)]struct{}
	_ [Attr(C.NFQGO_ATTR_INDEV) - AttrInDev]struct{}
	_ [AttrOutDev - Attr(C.NFQGO_ATTR_OUTDEV)]struct{}
	_ [Attr(C.NFQGO_ATTR_OUTDEV) - AttrOutDev]struct{}
	_ [AttrPhysInDev - Attr(C.NFQGO_ATTR_PHYSINDEV)]struct{}
	_ [Attr(C.NFQGO_ATTR_PHYSINDEV) - AttrPhysInDev]struct{}
	_ [AttrPhysOutDev - Attr(C.NFQGO_ATTR_PHYSOUTDEV)]struct{}
	_ [Attr(C.NFQGO_ATTR_PHYSOUTDEV) - AttrPhysOutDev]struct{}
	_ [AttrHWAddr - Attr(C.NFQGO_ATTR_HWADDR)]struct{}
	_ [Attr(C.NFQGO_ATTR_HWADDR) - AttrHWAddr]struct{}
	_ [AttrPayload - Attr(C.NFQGO_ATTR_PAYLOAD)]struct{}
	_ [Attr(C.NFQGO_ATTR_PAYLOAD) - AttrPayload]struct{}
	_ [AttrCapLen - Attr(C.NFQGO_ATTR_CAPLEN)]struct{}
	_ [Attr(C.NFQGO_ATTR_CAPLEN) - AttrCapLen]struct{}
	_ [AttrSkbInfo - Attr(C.NFQGO_ATTR_SKBINFO)]struct{}
	_ [Attr(C.NFQGO_ATTR_SKBINFO) - AttrSkbInfo]struct{}
	_ [AttrUID - Attr(C.NFQGO_ATTR_UID)]struct{}
	_ [Attr(C.NFQGO_ATTR_UID) - AttrUID]struct{}
	_ [AttrGID - Attr(C.NFQGO_ATTR_GID)]struct{}
	_ [Attr(C.NFQGO_ATTR_GID) - AttrGID]struct{}
	_ [AttrSecCtx - Attr(C.NFQGO_ATTR_SECCTX)]struct{}
	_ [Attr(C.NFQGO_ATTR_SECCTX) - AttrSecCtx]struct{}
	_ [AttrConntrack - Attr(C.NFQGO_ATTR_CT)]struct{}
	_ [Attr(C.NFQGO_ATTR_CT) - AttrConntrack]struct{}
	_ [AttrConnState - Attr(C.NFQGO_ATTR_CT_INFO)]struct{}
	_ [Attr(C.NFQGO_ATTR_CT_INFO) - AttrConnState]struct{}
	_ [AttrConnID - Attr(C.NFQGO_ATTR_CT_ID)]struct{}
	_ [Attr(C.NFQGO_ATTR_CT_ID) - AttrConnID]struct{}
	_ [AttrConnMark - Attr(C.NFQGO_ATTR_CT_MARK)]struct{}
	_ [Attr(C.NFQGO_ATTR_CT_MARK) - AttrConnMark]struct{}
	_ [AttrConnStatus - Attr(C.NFQGO_ATTR_CT_STATUS)]struct{}
	_ [Attr(C.NFQGO_ATTR_CT_STATUS) - AttrConnStatus]struct{}
	_ [AttrConnZone - Attr(C.NFQGO_ATTR_CT_ZONE)]struct{}
	_ [Attr(C.NFQGO_ATTR_CT_ZONE) - AttrConnZone]struct{}
	_ [AttrVLAN - Attr(C.NFQGO_ATTR_VLAN)]struct{}
	_ [Attr(C.NFQGO_ATTR_VLAN) - AttrVLAN]struct{}
	_ [AttrL2Header - Attr(C.NFQGO_ATTR_L2HDR)]struct{}
	_ [Attr(C.NFQGO_ATTR_L2HDR) - AttrL2Header]struct{}
	_ [AttrPriority - Attr(C.NFQGO_ATTR_PRIORITY)]struct{}
	_ [Attr(C.NFQGO_ATTR_PRIORITY) - AttrPriority]struct{}

	// The same for the kernel's copy modes (CopyMode.kernel).
	_ [kernelCopyNone - C.NFQNL_COPY_NONE]struct{}
	_ [C.NFQNL_COPY_NONE - kernelCopyNone]struct{}
	_ [kernelCopyMeta - C.NFQNL_COPY_META]struct{}
	_ [C.NFQNL_COPY_META - kernelCopyMeta]struct{}
	_ [kernelCopyPacket - C.NFQNL_COPY_PACKET]struct{}
	_ [C.NFQNL_COPY_PACKET - kernelCopyPacket]struct{}
)
