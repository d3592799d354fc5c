//go:build linux && cgo

package nfq

/*
#include "nfq_cgo.h"
*/
import "C"

import (
	"runtime"
	"sync/atomic"
	"time"
)

// Waiting for the next packet on the loop's own thread.
//
// When every P is idle, the runtime's sysmon thread sleeps deeply, and the
// first goroutine to enter a syscall or cgo call afterwards must wake it
// (entersyscall). A loop parked in the poller pays that, plus the poller's
// own thread wakeups, on the first packet after every quiet spell: tens of
// microseconds on a virtual machine, three times what the C loop needs for
// the whole round trip. A thread blocked in a C call keeps its P while the P
// has no other work and another P is idle, for up to 10ms per call, as long
// as its goroutine passed through the scheduler within the last 10ms (see
// yield); sysmon stays out of deep sleep meanwhile, and a packet arriving
// then takes the same path as in a C program.

// yieldEvery bounds the time between the loop's passes through the
// scheduler, waits included, below sysmon's 10ms; a wait slice shorter than
// minWaitSlice yields first.
const (
	yieldEvery   = 9 * time.Millisecond
	minWaitSlice = time.Millisecond
)

// monoEpoch anchors monotonic times kept as durations.
var monoEpoch = time.Now()

// threadWaiters counts loops waiting in nfqgo_wait across all queues. Each
// holds a P, so at most GOMAXPROCS-1 wait at once: the rest of the program
// always keeps one.
var threadWaiters atomic.Int32

// waitInThread waits up to Config.ThreadWait for the socket (fd, the
// poller's duplicate) to become readable. It reports whether the loop should
// read again: false sends it to park in the poller. While verdicts may wait
// for the loop (the consumer is behind), it waits in slices of flushDelay,
// sending the verdicts given meanwhile after each, and waits at least one
// slice even with ThreadWait off (sendverdict.go, rule 4).
func (q *Queue) waitInThread(fd uintptr) bool {
	wait, behind := q.cfg.ThreadWait, q.behind()
	if behind {
		wait = max(wait, flushDelay)
	}
	if wait <= 0 || q.closed.Load() {
		return false
	}
	if n := threadWaiters.Add(1); int(n) >= runtime.GOMAXPROCS(0) {
		threadWaiters.Add(-1)
		return false
	}
	defer threadWaiters.Add(-1)

	// With Packets, a consumer handed packets since the last wait may be
	// queued on this P, where it would wait for sysmon: let it run here.
	received := q.stats.received.Load()
	if q.ch != nil && received != q.receivedAtWait {
		q.yield()
	}
	q.receivedAtWait = received

	for left := wait; left > 0; {
		now := time.Since(monoEpoch)
		budget := q.lastYield + yieldEvery - now
		if budget < minWaitSlice {
			q.yield()
			budget = yieldEvery
		}
		slice := min(left, budget)
		if behind {
			slice = min(slice, flushDelay)
		}
		switch rc := C.nfqgo_wait(C.int(fd), C.int(q.wakeFD), C.int64_t(slice)); {
		case rc > 0: // readable, or woken by configure or Close
			if rc == 1 {
				q.stats.waitsInThread.Add(1)
			}
			return !q.closed.Load()
		case rc < 0:
			return false // the poller's read will meet the error
		}
		left -= time.Since(monoEpoch) - now
		if behind {
			q.flushVerdicts()
			behind = q.behind()
		}
	}
	return false
}

// yield passes through the scheduler. sysmon takes the P from a goroutine
// that has run for 10ms without doing so, whether it waits in a syscall or
// not. A yield is not free (it wakes another thread to look for work), so
// the loop yields once per yieldEvery, not once per wait.
func (q *Queue) yield() {
	runtime.Gosched()
	q.lastYield = time.Since(monoEpoch)
}
