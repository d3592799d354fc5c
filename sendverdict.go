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
	if q.caughtUp() {
		flush = 1
	}
	var payload unsafe.Pointer
	if r.hasPayload {
		payload = unsafe.Pointer(&r.payload[0])
	}
	q.vmu.Lock()
	rc := C.nfqgo_verdict_ct(q.c, C.uint32_t(p.ID), C.uint32_t(r.verdict), setMark, C.uint32_t(r.mark),
		setConnMark, C.uint32_t(r.connMark), payload, C.uint32_t(len(r.payload)), flush, q.allDecided(1))
	q.vmu.Unlock()
	runtime.KeepAlive(r.payload)
	if err := errnoErr(rc); err != nil {
		q.stats.verdictErrors.Add(1)
		return &OpError{Op: op(), Queue: q.cfg.Queue, Err: err,
			Hint: "the verdicts sent with this one were lost; their packets get the default verdict on Close"}
	}
	q.stats.verdicts.Add(1)
	return nil
}

// allDecided reports (as a C boolean) whether every packet received so far
// has a verdict, counting extra verdicts being given right now. Packets
// received after the check have later ids than any pending verdict, so a
// batch verdict up to the latest pending id cannot touch them. Called with
// vmu held, so no other verdict is half counted.
func (q *Queue) allDecided(extra uint64) C.int {
	if q.stats.received.Load() == q.stats.verdicts.Load()+extra {
		return 1
	}
	return 0
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
	rc := C.nfqgo_flush(q.c, q.allDecided(0))
	q.vmu.Unlock()
	if err := errnoErr(rc); err != nil {
		q.stats.verdictErrors.Add(1)
		q.report(&OpError{Op: "send verdicts", Queue: q.cfg.Queue, Err: err,
			Hint: "their packets get the default verdict on Close"})
	}
}
