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
// sendverdict_cgo.c) and leave together, in one sendto, so that a busy queue
// pays one system call per batch of packets instead of one per packet. A
// verdict waits there only while company is sure to come soon, and not
// longer than flushDelay. It leaves:
//
//  1. At once, with the verdict that finds the consumer caught up: every
//     packet received has reached it (none of the receive batch is still to
//     be handed out, none waits in the Packets channel). No packet is coming
//     that could keep it company. With a QueueSet's shared channel, every
//     queue's buffer leaves then (afterVerdict).
//  2. At once, when the buffer holds NFQGO_VERDICT_FLUSH bytes (C side).
//  3. When the receive loop is about to wait for room in a full Packets
//     channel, and every flushDelay while it waits (waitForRoom); at once
//     while it is inside OnError, after sending the buffer (stepAway).
//  4. When the receive loop is about to wait for the socket. While it waits
//     with the consumer behind (packets of this queue without a verdict,
//     and packets in the channel or a channel shared with other queues), it
//     wakes every flushDelay to send what came meanwhile: its wait in its
//     own thread goes in slices of flushDelay, at least one slice even with
//     ThreadWait off, and a park in the poller has a read deadline
//     (threadwait.go, receive.go).
//  5. When the receive loop, between receive batches and between Run
//     callbacks, finds the oldest verdict flushDelay old (flushDue).
//  6. On Close, before the default verdicts.
//
// So a verdict is on its way to the kernel within flushDelay of being given,
// plus the loop's way to its next check (draining one receive batch:
// microseconds), whatever the other packets and the consumer do: a packet
// held for long, a consumer that stops reading, verdicts from any goroutine.
// One thing holds verdicts longer: a Run callback that blocks keeps the
// verdicts given before it in its receive batch until it returns (it keeps
// the whole queue waiting anyway). Add the time the Go runtime takes to run
// the loop's goroutine or its deadline timer.
//
// The loop keeps the deadline in waits it makes anyway, not with a runtime
// timer armed per batch: starting or stopping a timer wakes an idle thread
// of the runtime, which in a busy Run loop measured six times the context
// switches and 40% more CPU per packet. A busy queue starts a timer only
// when its channel stays full while the loop yields twice (a timer per
// block cost a Packets consumer 5% CPU); a consumer that stays behind for
// longer than ThreadWait costs the loop a wakeup per flushDelay.
//
// A send that fails loses the verdicts it carried (their packets get the
// default verdict on Close): the verdict that sent them returns the error;
// a send by the loop or by another queue's verdict counts it in
// Stats.VerdictErrors and leaves it for the loop to report to OnError.

// flushDelay is the longest a verdict waits in the buffer.
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
	if q.caughtUp() || q.away.Load() > 0 {
		flush = 1 // rules 1 and 3
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
// since when the oldest has. Called with vmu held.
func (q *Queue) buffered(n int) {
	switch {
	case n == 0:
		q.oldest.Store(0)
	case q.vpending == 0:
		q.oldest.Store(int64(time.Since(monoEpoch)))
	}
	q.vpending = n
}

// behind reports whether a verdict given while the loop waits may have to
// wait for it (rule 4): packets of this queue wait for their verdict while
// the Packets channel has packets, or is shared with other queues, whose
// packets may fill it meanwhile.
func (q *Queue) behind() bool {
	if q.ch == nil || (len(q.ch) == 0 && q.set == nil) {
		return false
	}
	q.vmu.Lock()
	defer q.vmu.Unlock()
	_, any, _ := q.undecided.lowest()
	return any
}

// flushDue sends the buffer if its oldest verdict has waited flushDelay
// (rule 5): an atomic load, and a clock read while verdicts wait.
func (q *Queue) flushDue() {
	if since := q.oldest.Load(); since != 0 && time.Since(monoEpoch)-time.Duration(since) >= flushDelay {
		q.flushVerdicts()
	}
}

// waitForRoom hands p to the full channel ch once the consumer makes room,
// sending the buffered verdicts first and every flushDelay meanwhile (rule
// 3). The consumer's verdicts keep collecting meanwhile: if they left at
// once instead, a consumer that fell behind would pay a send per verdict and
// fall further behind. It reports false if the queue closed meanwhile.
func (q *Queue) waitForRoom(ch chan *Packet, p *Packet) bool {
	q.flushVerdicts()
	// A consumer at work makes room within microseconds: give it the time
	// before starting a timer, whose start wakes an idle runtime thread.
	for range 2 {
		runtime.Gosched()
		select {
		case ch <- p:
			return true
		default:
		}
	}
	if q.roomTimer == nil {
		q.roomTimer = time.NewTimer(flushDelay)
	} else {
		q.roomTimer.Reset(flushDelay)
	}
	defer q.roomTimer.Stop()
	for {
		select {
		case ch <- p:
			return true
		case <-q.done:
			return false
		case <-q.roomTimer.C:
			q.flushVerdicts()
			q.roomTimer.Reset(flushDelay)
		}
	}
}

// stepAway and stepBack bracket OnError, where the loop cannot send
// verdicts (rule 3): verdicts given meanwhile leave at once, and those in
// the buffer leave first. The mark goes up before the flush, so a verdict
// that missed it is in the buffer by then.
func (q *Queue) stepAway() {
	q.away.Add(1)
	q.flushVerdicts()
}

func (q *Queue) stepBack() { q.away.Add(-1) }

// flushVerdicts sends the verdicts waiting in the buffer: rules 3 to 5 for
// the receive loop, rule 1 for the other queues of a set.
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
// waits for the loop to report it (sendError), so that OnError is called
// only from the loop, and not from inside a flush.
func (q *Queue) flushLocked() {
	if q.vpending == 0 {
		return // nothing to send: spare the crossing
	}
	undecided, lowest := q.lowestUndecided()
	rc := C.nfqgo_flush(q.c, undecided, lowest)
	q.buffered(0)
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
// waiting packet with an id up to lastID if undecided (rule 6). It runs in
// Close, with life held for writing.
func (q *Queue) flushOnClose(undecided bool, verdict Verdict) error {
	q.vmu.Lock()
	defer q.vmu.Unlock()
	q.buffered(0)
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
