//go:build linux && cgo

package nfq

/*
#include "nfq_cgo.h"
#include "parse_cgo.h"
*/
import "C"

import (
	"context"
	"errors"
	"net"
	"os"
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

// Packets starts delivering the queue's packets on the returned channel. The
// channel is closed when the queue is closed; ctx ending closes the queue.
// A queue has one consumer: a second call to Packets or Run fails with
// ErrBusy.
func (q *Queue) Packets(ctx context.Context) (<-chan *Packet, error) {
	if ctx == nil {
		return nil, nilContext("packets", q.cfg.Queue)
	}
	if err := q.startConsuming("packets"); err != nil {
		return nil, err
	}
	ch := make(chan *Packet, channelBuffer)
	q.deliverTo(ctx, ch, func() {
		// Packets still buffered got the default verdict; do not hand them
		// out any more.
		drainPackets(ch)
		close(ch)
	})
	return ch, nil
}

// deliverTo starts the receive loop on its own goroutine, sending packets to
// ch, which it may share with other queues (see QueueSet.Packets). ended runs
// once the loop has stopped, before Close stops waiting for it.
func (q *Queue) deliverTo(ctx context.Context, ch chan *Packet, ended func()) {
	q.ch = ch
	q.chanMode.Store(true)
	stop := context.AfterFunc(ctx, func() { q.Close() })
	go func() {
		defer close(q.loopDone)
		defer ended()
		defer stop()
		q.loop(func(p *Packet) bool {
			select {
			case ch <- p:
				return true
			default:
			}
			return q.waitForRoom(ch, p) // the consumer is behind
		})
	}()
}

// drainPackets empties ch without blocking.
func drainPackets(ch chan *Packet) {
	for {
		select {
		case <-ch:
		default:
			return
		}
	}
}

// Run calls fn for each packet, on the calling goroutine, until ctx ends or
// the queue is closed; ctx ending closes the queue. fn should give the packet
// its verdict or hand it to something that will. Run returns ctx.Err()
// (context.Canceled or context.DeadlineExceeded) when ctx ended, nil when
// Close ended it (from any goroutine, fn included), and otherwise the error
// that stopped it (the socket failed; the queue is closed then too). If fn
// panics, the queue is closed (every packet without a verdict, the current
// one included, gets the default verdict) and the panic continues.
func (q *Queue) Run(ctx context.Context, fn func(*Packet)) error {
	if fn == nil {
		return &OpError{Op: "run", Queue: q.cfg.Queue, Err: errors.New("nil callback")}
	}
	if ctx == nil {
		return nilContext("run", q.cfg.Queue)
	}
	if err := q.startConsuming("run"); err != nil {
		return err
	}
	return q.run(ctx, fn)
}

// nilContext is the error for a nil context, refused before anything starts.
func nilContext(op string, queue uint16) error {
	return &OpError{Op: op, Queue: queue, Err: errors.New("nil context"),
		Hint: "pass a context; context.Background() consumes until Close"}
}

// run is Run once the queue is marked as consumed.
func (q *Queue) run(ctx context.Context, fn func(*Packet)) error {
	stop := context.AfterFunc(ctx, func() { q.Close() })
	defer stop()
	defer func() {
		if r := recover(); r != nil {
			q.Close()
			panic(r)
		}
	}()
	err := q.loop(func(p *Packet) bool {
		fn(p)
		return true
	})
	if err == nil && !stop() {
		return ctx.Err() // ctx ended, and closed the queue
	}
	return err
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
// deliver returns false. It returns nil when the queue was closed, or the
// error that stopped it (after closing the queue).
func (q *Queue) loop(deliver func(*Packet) bool) error {
	var spare []*Packet
	for {
		batch, err := q.receive(spare)
		q.batchReceived(len(batch))
		for i, p := range batch {
			batch[i] = nil // do not keep delivered packets alive
			q.handedOut()
			if q.closed.Load() {
				continue // it had the default verdict; hand out nothing more
			}
			if !deliver(p) {
				return nil
			}
			if q.ch == nil {
				q.flushDue() // between Run callbacks (sendverdict.go, rule 5)
			}
		}
		spare = batch
		if sendErr := q.sendError(); sendErr != nil && !q.closed.Load() {
			q.report(sendErr)
		}
		switch {
		case err == nil:
		case q.closed.Load():
			return nil
		case errors.Is(err, ErrOverrun), errors.Is(err, errVerdictRefused):
			q.report(err)
		default:
			// The socket itself failed: nothing more will arrive.
			q.report(err)
			q.Close()
			return err
		}
	}
}

// errVerdictRefused marks errors the kernel sent back for earlier verdicts.
var errVerdictRefused = errors.New("verdict refused by the kernel")

// receive returns the next packets, parking in the Go poller until the
// socket is readable. buf is reused for the batch.
func (q *Queue) receive(buf []*Packet) ([]*Packet, error) {
	r := &q.reader
	r.buf, r.batch, r.err = buf, nil, nil
	if r.fn == nil {
		r.fn = q.readReady // one closure per queue, not one per batch
	}
	for {
		err := q.pollRaw.Read(r.fn)
		switch {
		case err == nil:
			return r.batch, r.err
		case q.closed.Load():
			return nil, ErrClosed
		case errors.Is(err, os.ErrDeadlineExceeded):
			// configure woke us for packets it dispatched, or a park
			// behind the consumer ended (sendverdict.go, rule 4).
			q.wakeRequested.Store(false)
			q.poll.SetReadDeadline(time.Time{})
			q.flushVerdicts()
		default:
			return nil, &OpError{Op: "wait for packets", Queue: q.cfg.Queue, Err: err}
		}
	}
}

// reader is the receive loop's state between receive and readReady.
type reader struct {
	fn    func(uintptr) bool
	buf   []*Packet
	batch []*Packet
	err   error
	// parkedBehind is set while the loop parks with a deadline behind the
	// consumer: while the consumer stays behind and nothing arrives, it
	// parks again after the deadline, without the wait in its thread.
	parkedBehind bool
}

// readReady is called by the poller with the socket possibly readable (fd
// is the poller's duplicate). It reports whether it got anything; false
// parks the loop until readable.
func (q *Queue) readReady(fd uintptr) bool {
	r := &q.reader
	for {
		q.flushDue() // between receive batches (sendverdict.go, rule 5)
		handled := 0
		q.rx.Lock()
		if len(q.pending) == 0 {
			handled, r.err = q.drain()
		}
		if len(q.pending) > 0 {
			r.batch, q.pending = q.pending, r.buf[:0]
			q.handOut(r.batch)
		}
		q.rx.Unlock()
		if r.batch != nil || handled > 0 || r.err != nil {
			if r.parkedBehind {
				r.parkedBehind = false
				q.poll.SetReadDeadline(time.Time{})
			}
			return true
		}
		q.flushVerdicts() // about to wait (sendverdict.go, rule 4)
		again := r.parkedBehind && q.behind()
		if !again && q.waitInThread(fd) {
			continue
		}
		if r.parkedBehind = q.parkBehind(); !again {
			q.stats.parked.Add(1) // a park again after its deadline is the same wait
		}
		return false
	}
}

// parkBehind gives the park the loop is about to make a deadline of
// flushDelay if verdicts may wait for the loop meanwhile (sendverdict.go,
// rule 4), and reports whether it did.
func (q *Queue) parkBehind() bool {
	if !q.behind() {
		return false
	}
	q.poll.SetReadDeadline(time.Now().Add(flushDelay))
	if q.wakeRequested.Load() {
		// configure's wake-up, which the deadline just replaced.
		q.poll.SetReadDeadline(time.Unix(1, 0))
	}
	return true
}

// handOut registers packets about to be handed to the consumer as waiting
// for a verdict.
func (q *Queue) handOut(batch []*Packet) {
	q.vmu.Lock()
	for _, p := range batch {
		q.undecided.add(p)
	}
	q.vmu.Unlock()
}

// drain reads what the socket holds; the caller holds rx.
func (q *Queue) drain() (int, error) {
	q.life.RLock()
	defer q.life.RUnlock()
	if q.closed.Load() {
		return 0, ErrClosed
	}
	rc := C.nfqgo_drain(q.c, drainBudget)
	if rc < 0 {
		return 0, q.receiveError(syscall.Errno(-rc))
	}
	return int(rc), nil
}

func (q *Queue) receiveError(errno syscall.Errno) error {
	if errno == syscall.ENOBUFS {
		q.stats.overruns.Add(1)
		return &OpError{Op: "receive", Queue: q.cfg.Queue, Err: errno, Kind: ErrOverrun,
			Hint: "the consumer fell behind; raise Config.ReadBufferSize or consume faster"}
	}
	q.stats.verdictErrors.Add(1)
	return &OpError{Op: "verdict", Queue: q.cfg.Queue, Err: errno, Kind: errVerdictRefused,
		Hint: verdictErrnoHint(errno)}
}

func verdictErrnoHint(errno syscall.Errno) string {
	switch errno {
	case syscall.ENOENT:
		return "the kernel has no packet waiting with that id: it already had a verdict or the queue was flushed"
	case syscall.EINVAL:
		return "the kernel refused the verdict's value or payload"
	}
	return "reported by the kernel for an earlier verdict"
}

// report hands an error that does not stop the loop to Config.OnError.
func (q *Queue) report(err error) {
	if q.cfg.OnError != nil {
		q.inReport.Add(1) // Close called from OnError must not wait for this loop
		defer q.inReport.Add(-1)
		if q.closed.Load() {
			// A Close that saw inReport at 0 waits for this loop: do not
			// keep it waiting for a report about a closed queue.
			return
		}
		q.stepAway() // no verdict waits for OnError (sendverdict.go, rule 3)
		defer q.stepBack()
		q.cfg.OnError(err)
	}
}

// onPacket turns a parsed C packet into a Packet and queues it for delivery.
// It runs inside nfqgo_drain, nfqgo_drain_rest, nfqgo_dispatch or a
// configuration call, with rx held.
func (q *Queue) onPacket(cp *C.struct_nfqgo_packet) {
	if q.unbinding {
		return // the kernel drops what it still held when the queue goes
	}
	p := q.alloc.packet()
	*p = Packet{
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
		ConnState:  ConnState(cp.ct_info),
		ConnID:     uint32(cp.ct_id),
		ConnMark:   uint32(cp.ct_mark),
		ConnStatus: uint32(cp.ct_status),
		ConnZone:   uint16(cp.ct_zone),
		VLANProto:  uint16(cp.vlan_proto),
		VLANTCI:    uint16(cp.vlan_tci),
		Priority:   uint32(cp.priority),
		attrs:      Attr(cp.attrs),
		q:          q,
	}
	if p.attrs&AttrTimestamp != 0 {
		p.Timestamp = time.Unix(int64(cp.ts_sec), int64(cp.ts_usec)*1000)
	}
	if p.attrs&AttrHWAddr != 0 {
		p.HWAddr = net.HardwareAddr(q.alloc.bytes(unsafe.Pointer(&cp.hwaddr[0]), int(cp.hwaddr_len)))
	}
	if p.attrs&AttrPayload != 0 {
		p.Payload = q.alloc.bytes(unsafe.Pointer(cp.payload), int(cp.payload_len))
		p.OrigLen = uint32(cp.payload_len)
	}
	if p.attrs&AttrCapLen != 0 {
		p.OrigLen = uint32(cp.cap_len)
	}
	if p.attrs&AttrL2Header != 0 {
		p.L2Header = q.alloc.bytes(unsafe.Pointer(cp.l2hdr), int(cp.l2hdr_len))
	}
	if p.attrs&AttrSecCtx != 0 {
		p.SecCtx = C.GoStringN(cp.secctx, C.int(cp.secctx_len))
	}
	q.lastID, q.gotAny = p.ID, true
	q.pending = append(q.pending, p)
	q.stats.received.Add(1)
}
