//go:build linux && cgo

package nfq

/*
#include "nfq_cgo.h"
*/
import "C"

import (
	"fmt"
	"runtime"
	"time"
	"unsafe"
)

// When a verdict leaves
//
// Verdict messages collect in one buffer on the C side (nfqgo_verdict in
// nfq_cgo.c) and leave together, in one sendto, so that a busy queue pays one
// system call per batch of packets instead of one per packet. A verdict waits
// there only while company is sure to come soon. It leaves:
//
//  1. At once, with the verdict that finds the consumer caught up: every
//     packet received has reached it (none of the receive batch is still to
//     be handed out, none waits in the Packets channel). No packet is coming
//     that could keep it company. With a QueueSet's shared channel, every
//     queue's buffer leaves then (afterVerdict).
//  2. At once, when the buffer holds NFQGO_VERDICT_FLUSH bytes (C side).
//  3. When the receive loop is about to wait: for the socket (in its thread
//     or in the poller) or for room in a full Packets channel.
//  4. At the latest flushDelay after the oldest verdict in the buffer was
//     given, by a timer armed when the buffer stops being empty.
//  5. On Close, before the default verdicts.
//
// Rule 4 is the guarantee: a verdict is on its way to the kernel within
// flushDelay of being given, whatever the other packets and the consumer do
// (a packet held for long, a consumer that stops reading, a slow Run
// callback, a slow OnError), plus the time the Go runtime takes to run a due
// timer: it needs a P, and a goroutine that keeps every P busy without a
// pause hands one over only when the scheduler preempts it. A timer, rather
// than the loop's own waits, keeps the bound because the loop may be where
// no deadline reaches it: in the consumer's callback, in OnError, or blocked
// on the channel. Rules 1 to 3 make verdicts leave sooner, and rule 1 keeps
// the busy case cheap: the consumer's last verdict of a batch sends the
// batch's verdicts. The timer costs a clock read when the buffer stops being
// empty and at most one run per flushDelay while verdicts keep waiting.
//
// A send that fails loses the verdicts it carried (their packets get the
// default verdict on Close): the verdict that sent them returns the error;
// a send by the loop, the timer or another queue's verdict counts it in
// Stats.VerdictErrors and leaves it for the loop to report to OnError.

// flushDelay is the longest a verdict waits in the buffer (rule 4).
const flushDelay = time.Millisecond

// sendVerdict gives p its checked verdict.
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
		flush = 1 // rule 1
	}
	q.undecided.decide(p)
	undecided, lowest := q.lowestUndecided()
	rc := C.nfqgo_verdict(q.c, C.uint32_t(p.ID), C.uint32_t(r.verdict), setMark, C.uint32_t(r.mark),
		setConnMark, C.uint32_t(r.connMark), payload, C.uint32_t(len(r.payload)), flush, undecided, lowest)
	q.buffered(max(int(rc), 0))
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

// The receive loop tells the rule where the consumer stands: batchReceived
// with each receive batch, handedOut with each packet it hands over.
func (q *Queue) batchReceived(n int) { q.undelivered.Store(int32(n)) }
func (q *Queue) handedOut()          { q.undelivered.Add(-1) }

// caughtUp reports whether every received packet has reached the consumer.
func (q *Queue) caughtUp() bool {
	return q.undelivered.Load() == 0 && len(q.ch) == 0
}

// buffered records that n verdict messages wait in the C side's buffer, and
// arms the deadline (rule 4) when the buffer stops being empty. Called with
// vmu held.
func (q *Queue) buffered(n int) {
	wasEmpty := q.vpending == 0
	q.vpending = n
	if n == 0 || !wasEmpty {
		return
	}
	q.vsince = time.Since(monoEpoch)
	if q.flushArmed {
		return // flushDue runs soon and arms itself again for these
	}
	q.flushArmed = true
	if q.flushTimer == nil {
		q.flushTimer = time.AfterFunc(q.flushAfter, q.flushDue)
	} else {
		q.flushTimer.Reset(q.flushAfter)
	}
}

// flushDue runs on the timer's goroutine: it sends the buffered verdicts if
// the oldest has waited flushDelay, or waits for the rest of that time.
func (q *Queue) flushDue() {
	q.life.RLock()
	defer q.life.RUnlock()
	if q.closed.Load() {
		return // Close sent them
	}
	q.vmu.Lock()
	defer q.vmu.Unlock()
	if q.vpending == 0 {
		q.flushArmed = false
		return
	}
	if left := q.vsince + q.flushAfter - time.Since(monoEpoch); left > 0 {
		q.flushTimer.Reset(left)
		return
	}
	q.flushArmed = false
	q.flushLocked()
}

// flushVerdicts sends the verdicts waiting in the buffer: rule 3 for the
// receive loop, rule 1 for the other queues of a set.
func (q *Queue) flushVerdicts() {
	q.life.RLock()
	defer q.life.RUnlock()
	if q.closed.Load() {
		return // Close sends them
	}
	q.vmu.Lock()
	q.flushLocked()
	q.vmu.Unlock()
}

// flushLocked sends the buffer, with life read-held and vmu held. A failure
// waits for the loop to report it (sendError), so that OnError is only ever
// called from the loop.
func (q *Queue) flushLocked() {
	if q.vpending == 0 {
		return // nothing to send: spare the crossing
	}
	undecided, lowest := q.lowestUndecided()
	rc := C.nfqgo_flush(q.c, undecided, lowest)
	q.vpending = 0
	if err := errnoErr(rc); err != nil {
		q.stats.verdictErrors.Add(1)
		q.sendErr.CompareAndSwap(nil, &OpError{Op: "send verdicts", Queue: q.cfg.Queue, Err: err,
			Hint: "their packets get the default verdict on Close"})
	}
}

// sendError returns, once, the first failed send of buffered verdicts since
// the loop last asked, or nil.
func (q *Queue) sendError() error {
	if err := q.sendErr.Swap(nil); err != nil {
		return err
	}
	return nil
}

// flushOnClose sends the buffered verdicts, then gives verdict to every
// waiting packet with an id up to lastID if any is undecided (rule 5). It
// runs in Close, with life held for writing.
func (q *Queue) flushOnClose(undecided bool, verdict Verdict) error {
	q.vmu.Lock()
	defer q.vmu.Unlock()
	if q.flushTimer != nil {
		q.flushTimer.Stop()
	}
	q.vpending = 0
	if undecided {
		// One message gives the verdict to every waiting packet with an id
		// up to the latest received one; verdicts given earlier leave first.
		if e := errnoErr(C.nfqgo_verdict_batch(q.c, C.uint32_t(q.lastID), C.uint32_t(verdict))); e != nil {
			return &OpError{Op: "default verdict on close", Queue: q.cfg.Queue, Err: e}
		}
		return nil
	}
	if e := errnoErr(C.nfqgo_flush(q.c, -1, 0)); e != nil {
		return &OpError{Op: "send verdicts on close", Queue: q.cfg.Queue, Err: e}
	}
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

// afterVerdict runs after q gave a verdict, with no lock held. With a shared
// channel, q's verdict waits for company while the channel holds packets,
// even other queues' packets, whose verdicts flush only their own queue. So
// when the consumer has caught up, every queue's waiting verdicts leave
// (rule 1): none waits for a packet that is not coming.
func (s *QueueSet) afterVerdict(q *Queue) {
	if s.merged == nil || !q.caughtUp() {
		return
	}
	for _, other := range s.queues {
		if other != q {
			other.flushVerdicts()
		}
	}
}
