//go:build linux && cgo

package nfq

/*
#include "nfq_cgo.h"
*/
import "C"

import (
	"fmt"
	"runtime"
	"unsafe"
)

// sendVerdict gives p its checked verdict. Verdict messages collect in one
// buffer and leave together, in one system call, once the consumer has
// caught up with the packets handed out, or when the receive loop is about
// to wait, or when the buffer is full: a lone packet is never held back, and
// a busy queue pays one send per batch instead of one per packet.
func (q *Queue) sendVerdict(p *Packet, r verdictRequest) error {
	if q.set != nil {
		// Runs after the lock below is released: see QueueSet.afterVerdict.
		defer q.set.afterVerdict(q)
	}
	q.life.RLock()
	defer q.life.RUnlock()
	op := func() string { return fmt.Sprintf("verdict %s for packet %d", r.verdict, p.ID) }
	if q.closed.Load() {
		return &OpError{Op: op(), Queue: q.cfg.Queue, Err: ErrClosed,
			Hint: "the packet had the default verdict (" + q.cfg.DefaultVerdict.String() + ") when the queue closed"}
	}
	if !p.state.CompareAndSwap(packetPending, packetDone) {
		return &OpError{Op: op(), Queue: q.cfg.Queue, Err: ErrVerdictGiven,
			Hint: "each packet takes exactly one verdict; nothing was sent"}
	}
	var setMark, setConnMark, flush C.int
	if r.setMark {
		setMark = 1
	}
	if r.setConnMark {
		setConnMark = 1
	}
	var payload unsafe.Pointer
	if r.hasPayload {
		payload = unsafe.Pointer(&r.payload[0])
	}
	q.vmu.Lock()
	// Decide under vmu: a verdict that sees the consumer behind leaves its
	// message for a later one to send, and that later one may be given at
	// this very moment on another goroutine; with the check and the message
	// in one critical section, whichever comes second sends both.
	if q.caughtUp() {
		flush = 1
	}
	q.undecided.decide(p)
	undecided, lowest := q.lowestUndecided()
	rc := C.nfqgo_verdict(q.c, C.uint32_t(p.ID), C.uint32_t(r.verdict), setMark, C.uint32_t(r.mark),
		setConnMark, C.uint32_t(r.connMark), payload, C.uint32_t(len(r.payload)), flush, undecided, lowest)
	q.vpending = max(int(rc), 0)
	q.vmu.Unlock()
	runtime.KeepAlive(r.payload)
	if err := errnoErr(rc); err != nil {
		q.stats.verdictErrors.Add(1)
		return &OpError{Op: op(), Queue: q.cfg.Queue, Err: err,
			Hint: "the verdicts sent with this one were lost; their packets get the default verdict on Close"}
	}
	q.stats.countVerdict(r.verdict)
	return nil
}

// lowestUndecided tells the C side (see nfqgo_verdict) which handed-out
// packets still wait for a verdict. Packets received but not handed out yet
// came after every packet with a verdict, so a batch message up to the
// latest verdict's id cannot touch them. Called with vmu held.
func (q *Queue) lowestUndecided() (C.int, C.uint32_t) {
	id, any, known := q.undecided.lowest()
	switch {
	case !known:
		return -1, 0
	case !any:
		return 0, 0
	}
	return 1, C.uint32_t(id)
}

// caughtUp reports whether every received packet has reached the consumer.
func (q *Queue) caughtUp() bool {
	return q.undelivered.Load() == 0 && len(q.ch) == 0
}

// flushVerdicts sends the verdicts that wait in the buffer.
func (q *Queue) flushVerdicts() {
	q.life.RLock()
	defer q.life.RUnlock()
	if q.closed.Load() {
		return // Close sends them
	}
	q.vmu.Lock()
	if q.vpending == 0 {
		q.vmu.Unlock()
		return // nothing to send: spare the crossing
	}
	undecided, lowest := q.lowestUndecided()
	rc := C.nfqgo_flush(q.c, undecided, lowest)
	q.vpending = 0
	q.vmu.Unlock()
	if err := errnoErr(rc); err != nil {
		q.stats.verdictErrors.Add(1)
		q.report(&OpError{Op: "send verdicts", Queue: q.cfg.Queue, Err: err,
			Hint: "their packets get the default verdict on Close"})
	}
}
