//go:build linux && cgo

package nfq

/*
#cgo pkg-config: libnetfilter_queue libnfnetlink libmnl
#include <stdlib.h>
#include "nfq_cgo.h"
*/
import "C"

import (
	"context"
	"errors"
	"fmt"
	"net"
	"runtime"
	"runtime/cgo"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"
)

// drainBudget is how many messages one cgo call reads before returning to Go
// to hand them out: large enough to amortise the crossing, small enough to
// keep latency and the batch's memory low.
const drainBudget = 64

// channelBuffer is the capacity of the channel returned by Packets.
const channelBuffer = 64

// Queue is an open NFQUEUE queue. Open one with Open, consume its packets
// with Packets or Run, and Close it when done.
type Queue struct {
	cfg    Config
	c      *C.struct_nfqgo_queue
	handle cgo.Handle

	// Lock order: rx, then life.
	//
	// rx is held by whoever reads the socket: the receive loop while it
	// drains, configuration calls (the C library reads their ACK from the
	// same socket) and Close.
	rx      sync.Mutex
	pending []*Packet // packets dispatched by C and not yet handed out; guarded by rx
	lastID  uint32    // id of the latest packet received; guarded by rx
	gotAny  bool      // whether lastID is set; guarded by rx
	// unbinding is set by Close just before it unbinds the queue; packets
	// dispatched after that are dropped by the kernel. Guarded by rx.
	unbinding bool

	// life guards the C state: read-held by every C call, write-held by
	// Close while it tears the state down.
	life   sync.RWMutex
	closed atomic.Bool

	consuming atomic.Bool   // Packets or Run was called
	chanMode  atomic.Bool   // Packets was called
	done      chan struct{} // closed by Close
	loopDone  chan struct{} // closed when the Packets goroutine has exited
	closeOnce sync.Once
	closeErr  error

	stats counters
}

// Open binds queue cfg.Queue and configures it. The queue lives in the
// network namespace of the calling thread. Packets queued by the kernel wait
// until Packets or Run consumes them.
func Open(cfg Config) (*Queue, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, &OpError{Op: "open", Queue: cfg.Queue, Err: err}
	}
	q := &Queue{cfg: cfg, done: make(chan struct{}), loopDone: make(chan struct{})}
	q.handle = cgo.NewHandle(q)

	var cerr C.int
	var stage *C.char
	noENOBUFS := 0
	if cfg.NoENOBUFS {
		noENOBUFS = 1
	}
	// Configuration reads ACKs from the socket and may dispatch packets
	// that arrive meanwhile; they land in q.pending under rx.
	q.rx.Lock()
	q.c = C.nfqgo_open(C.uint16_t(cfg.Queue), C.uintptr_t(q.handle), C.uint8_t(cfg.CopyMode),
		C.uint32_t(cfg.CopyRange), C.uint32_t(cfg.MaxQueueLen), C.int(cfg.ReadBufferSize),
		C.int(noENOBUFS), &cerr, &stage)
	q.rx.Unlock()
	if q.c == nil {
		q.handle.Delete()
		return nil, openError(cfg.Queue, C.GoString(stage), syscall.Errno(cerr))
	}
	// Flags one at a time, so that a refusal names the flag.
	for _, f := range flagNames {
		if cfg.Flags&f.f == 0 {
			continue
		}
		if err := q.configure(func(cerr *C.int) C.int {
			return C.nfqgo_set_flags(q.c, C.uint32_t(f.f), C.uint32_t(f.f), cerr)
		}); err != nil {
			q.Close()
			return nil, flagError(cfg.Queue, f.f, f.name, err)
		}
	}
	return q, nil
}

// Num returns the queue number.
func (q *Queue) Num() uint16 { return q.cfg.Queue }

// Stats returns the queue's counters.
func (q *Queue) Stats() Stats { return q.stats.snapshot() }

// SetCopyMode changes how much of each packet the kernel copies; rng 0
// means the whole packet. It may be called at any time, also while packets
// are consumed.
func (q *Queue) SetCopyMode(mode CopyMode, rng uint32) error {
	cfg := q.cfg
	cfg.CopyMode, cfg.CopyRange = mode, rng
	if mode == CopyNone {
		return &OpError{Op: "set copy mode", Queue: q.cfg.Queue, Err: fmt.Errorf("%w: copy mode none makes the kernel drop every packet", ErrInvalidConfig)}
	}
	cfg, err := cfg.withDefaults()
	if err != nil {
		return &OpError{Op: "set copy mode", Queue: q.cfg.Queue, Err: err}
	}
	err = q.configure(func(cerr *C.int) C.int {
		return C.nfqgo_set_mode(q.c, C.uint8_t(cfg.CopyMode), C.uint32_t(cfg.CopyRange), cerr)
	})
	if err != nil {
		return &OpError{Op: "set copy mode", Queue: q.cfg.Queue, Err: err}
	}
	return nil
}

// configure runs a configuration call with the socket to itself.
func (q *Queue) configure(call func(cerr *C.int) C.int) error {
	q.rx.Lock()
	defer q.rx.Unlock()
	q.life.RLock()
	defer q.life.RUnlock()
	if q.closed.Load() {
		return ErrClosed
	}
	var cerr C.int
	if call(&cerr) < 0 {
		return syscall.Errno(cerr)
	}
	return nil
}

// Packets starts delivering the queue's packets on the returned channel. The
// channel is closed when the queue is closed; ctx ending closes the queue.
// A queue has one consumer: a second call to Packets or Run fails with
// ErrBusy.
func (q *Queue) Packets(ctx context.Context) (<-chan *Packet, error) {
	if err := q.startConsuming("packets"); err != nil {
		return nil, err
	}
	ch := make(chan *Packet, channelBuffer)
	q.chanMode.Store(true)
	stop := context.AfterFunc(ctx, func() { q.Close() })
	go func() {
		defer close(q.loopDone)
		defer close(ch)
		defer stop()
		q.loop(func(p *Packet) bool {
			select {
			case ch <- p:
				return true
			case <-q.done:
				return false
			}
		})
		// Packets still buffered got the default verdict; do not hand them
		// out any more.
		for {
			select {
			case <-ch:
			default:
				return
			}
		}
	}()
	return ch, nil
}

// Run calls fn for each packet, on the calling goroutine, until ctx ends or
// the queue is closed; ctx ending closes the queue. fn should give the packet
// its verdict or hand it to something that will. Run returns nil when the
// queue was closed, or the error that stopped it. If fn panics, the queue is
// closed (every packet without a verdict, the current one included, gets the
// default verdict) and the panic continues.
func (q *Queue) Run(ctx context.Context, fn func(*Packet)) error {
	if fn == nil {
		return &OpError{Op: "run", Queue: q.cfg.Queue, Err: errors.New("nil callback")}
	}
	if err := q.startConsuming("run"); err != nil {
		return err
	}
	stop := context.AfterFunc(ctx, func() { q.Close() })
	defer stop()
	defer func() {
		if r := recover(); r != nil {
			q.Close()
			panic(r)
		}
	}()
	q.loop(func(p *Packet) bool {
		fn(p)
		return true
	})
	return nil
}

func (q *Queue) startConsuming(op string) error {
	if q.closed.Load() {
		return &OpError{Op: op, Queue: q.cfg.Queue, Err: ErrClosed}
	}
	if !q.consuming.CompareAndSwap(false, true) {
		return &OpError{Op: op, Queue: q.cfg.Queue, Err: ErrBusy, Hint: "a queue has one consumer; use Packets or Run once"}
	}
	return nil
}

// loop receives packets and hands each to deliver until the queue closes or
// deliver returns false.
func (q *Queue) loop(deliver func(*Packet) bool) {
	var spare []*Packet
	for {
		batch, err := q.receive(spare)
		for i, p := range batch {
			batch[i] = nil // do not keep delivered packets alive
			if !deliver(p) {
				return
			}
		}
		spare = batch
		switch {
		case err == nil:
		case errors.Is(err, ErrClosed):
			return
		default:
			q.report(err)
		}
	}
}

// receive waits for messages and returns the packets they carried. buf is
// reused for the next batch.
func (q *Queue) receive(buf []*Packet) ([]*Packet, error) {
	if err := q.wait(); err != nil {
		return nil, err
	}
	q.rx.Lock()
	defer q.rx.Unlock()
	var err error
	if len(q.pending) == 0 {
		err = q.drain()
	}
	batch := q.pending
	q.pending = buf[:0]
	return batch, err
}

// wait blocks until the socket is readable or the queue closes. It holds
// neither rx (configuration may go on meanwhile) nor, for long, life:
// Close wakes it first.
func (q *Queue) wait() error {
	q.rx.Lock()
	ready := len(q.pending) > 0 // configuration calls dispatched some
	q.rx.Unlock()
	if ready {
		return nil
	}
	q.life.RLock()
	defer q.life.RUnlock()
	if q.closed.Load() {
		return ErrClosed
	}
	var cerr C.int
	switch C.nfqgo_wait(q.c, &cerr) {
	case C.NFQGO_RECV_WOKEN:
		return ErrClosed
	case C.NFQGO_RECV_ERRNO:
		return &OpError{Op: "poll", Queue: q.cfg.Queue, Err: syscall.Errno(cerr)}
	}
	return nil
}

// drain reads what the socket holds; the caller holds rx.
func (q *Queue) drain() error {
	q.life.RLock()
	defer q.life.RUnlock()
	if q.closed.Load() {
		return ErrClosed
	}
	var handled, cerr C.int
	if C.nfqgo_drain(q.c, drainBudget, &handled, &cerr) == C.NFQGO_RECV_ERRNO {
		return q.receiveError(syscall.Errno(cerr))
	}
	return nil
}

func (q *Queue) receiveError(errno syscall.Errno) error {
	if errno == syscall.ENOBUFS {
		q.stats.overruns.Add(1)
		return &OpError{Op: "receive", Queue: q.cfg.Queue, Err: errno, Kind: ErrOverrun,
			Hint: "the consumer fell behind; raise Config.ReadBufferSize or consume faster"}
	}
	q.stats.verdictErrors.Add(1)
	return &OpError{Op: "verdict (reported by the kernel)", Queue: q.cfg.Queue, Err: errno,
		Hint: verdictErrnoHint(errno)}
}

func verdictErrnoHint(errno syscall.Errno) string {
	switch errno {
	case syscall.ENOENT:
		return "no packet with that id is waiting: it already had a verdict or the queue was flushed"
	case syscall.EINVAL:
		return "the kernel refused the verdict's value or payload"
	}
	return ""
}

// report hands an error that does not stop the loop to Config.OnError.
func (q *Queue) report(err error) {
	if q.cfg.OnError != nil {
		q.cfg.OnError(err)
	}
}

// onPacket turns a parsed C packet into a Packet and queues it for delivery.
// It runs inside nfqgo_drain or a configuration call, with rx held.
func (q *Queue) onPacket(cp *C.struct_nfqgo_packet) {
	if q.unbinding {
		return // the kernel drops what it still held when the queue goes
	}
	p := &Packet{
		Queue:      q.cfg.Queue,
		ID:         uint32(cp.id),
		HWProtocol: uint16(cp.hw_protocol),
		Hook:       Hook(cp.hook),
		Mark:       uint32(cp.mark),
		InDev:      uint32(cp.indev),
		OutDev:     uint32(cp.outdev),
		PhysInDev:  uint32(cp.physindev),
		PhysOutDev: uint32(cp.physoutdev),
		SkbInfo:    SkbInfo(cp.skbinfo),
		UID:        uint32(cp.uid),
		GID:        uint32(cp.gid),
		attrs:      Attr(cp.attrs),
		q:          q,
	}
	if p.attrs&AttrTimestamp != 0 {
		p.Timestamp = time.Unix(int64(cp.ts_sec), int64(cp.ts_usec)*1000)
	}
	if p.attrs&AttrHWAddr != 0 {
		p.HWAddr = net.HardwareAddr(C.GoBytes(unsafe.Pointer(&cp.hwaddr[0]), C.int(cp.hwaddr_len)))
	}
	if p.attrs&AttrPayload != 0 {
		p.Payload = C.GoBytes(unsafe.Pointer(cp.payload), C.int(cp.payload_len))
		p.OrigLen = uint32(cp.payload_len)
	}
	if p.attrs&AttrCapLen != 0 {
		p.OrigLen = uint32(cp.cap_len)
	}
	if p.attrs&AttrSecCtx != 0 {
		p.SecCtx = C.GoStringN(cp.secctx, C.int(cp.secctx_len))
	}
	q.lastID, q.gotAny = p.ID, true
	q.pending = append(q.pending, p)
	q.stats.received.Add(1)
}

// sendVerdict sends a checked verdict for p.
func (q *Queue) sendVerdict(p *Packet, r verdictRequest) error {
	q.life.RLock()
	defer q.life.RUnlock()
	if q.closed.Load() {
		return &OpError{Op: fmt.Sprintf("verdict %s for packet %d", r.verdict, p.ID), Queue: q.cfg.Queue, Err: ErrClosed,
			Hint: "the packet had the default verdict (" + q.cfg.DefaultVerdict.String() + ") when the queue closed"}
	}
	if !p.state.CompareAndSwap(packetPending, packetDone) {
		return &OpError{Op: fmt.Sprintf("verdict %s for packet %d", r.verdict, p.ID), Queue: q.cfg.Queue, Err: ErrVerdictGiven,
			Hint: "each packet takes exactly one verdict; nothing was sent"}
	}
	var setMark C.int
	if r.setMark {
		setMark = 1
	}
	var payload unsafe.Pointer
	if r.hasPayload {
		payload = unsafe.Pointer(&r.payload[0])
	}
	var cerr C.int
	rc := C.nfqgo_verdict(q.c, C.uint32_t(p.ID), C.uint32_t(r.verdict), setMark, C.uint32_t(r.mark),
		payload, C.uint32_t(len(r.payload)), &cerr)
	runtime.KeepAlive(r.payload)
	if rc < 0 {
		p.state.Store(packetPending) // nothing reached the kernel: the caller may retry
		return &OpError{Op: fmt.Sprintf("verdict %s for packet %d", r.verdict, p.ID), Queue: q.cfg.Queue, Err: syscall.Errno(cerr)}
	}
	q.stats.verdicts.Add(1)
	return nil
}

// Close stops the queue: it stops receiving, gives Config.DefaultVerdict to
// every received packet that has no verdict yet, unbinds the queue and
// releases its resources. It is idempotent and safe to call from any
// goroutine, also while packets flow and from inside a Run callback.
func (q *Queue) Close() error {
	q.closeOnce.Do(func() {
		q.closed.Store(true)
		close(q.done)
		C.nfqgo_wake(q.c) // C state stays valid until we hold life
		q.rx.Lock()
		q.life.Lock()
		q.closeErr = q.teardown()
		q.life.Unlock()
		q.rx.Unlock()
		q.handle.Delete()
	})
	if q.chanMode.Load() {
		<-q.loopDone // the Packets goroutine has closed its channel
	}
	return q.closeErr
}

// teardown runs with rx and life held and the queue marked closed.
func (q *Queue) teardown() error {
	var err error
	accepting := q.cfg.DefaultVerdict == Accept || q.cfg.DefaultVerdict == Stop
	if accepting {
		// Let the kernel accept new packets itself while we finish, rather
		// than queue them for the unbind to drop: fail-open with no room.
		// Best effort; kernels before 3.6 lack fail-open.
		var cerr C.int
		if C.nfqgo_set_flags(q.c, C.uint32_t(FlagFailOpen), C.uint32_t(FlagFailOpen), &cerr) == 0 {
			C.nfqgo_set_maxlen(q.c, 0, &cerr)
		}
		// Read what was already queued to us, so it gets the verdict too.
		var handled C.int
		for C.nfqgo_drain(q.c, drainBudget, &handled, &cerr) != C.NFQGO_RECV_ERRNO && handled > 0 {
		}
	}
	// Every packet without a verdict: the pending ones never handed out
	// and those handed out but not answered.
	var undecided uint64
	for _, p := range q.pending {
		p.state.Store(packetDone)
	}
	q.pending = nil
	received, verdicts := q.stats.received.Load(), q.stats.verdicts.Load()
	if received > verdicts {
		undecided = received - verdicts
	}
	if q.gotAny && undecided > 0 {
		// One message gives the verdict to every waiting packet with an id
		// up to the latest received one.
		var cerr C.int
		if C.nfqgo_verdict_batch(q.c, C.uint32_t(q.lastID), C.uint32_t(q.cfg.DefaultVerdict), &cerr) < 0 {
			err = &OpError{Op: "default verdict on close", Queue: q.cfg.Queue, Err: syscall.Errno(cerr)}
		} else {
			q.stats.defaultVerdicts.Add(undecided)
		}
	}
	q.unbinding = true
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
)
