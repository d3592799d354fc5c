//go:build linux && cgo

package nfq

/*
#include <stdlib.h>
#include "nfq_cgo.h"
*/
import "C"

import (
	"syscall"
	"unsafe"
)

// newSocketlessQueue returns a Queue with its C side but no socket
// (nfqgo_new): the parser, the receive batch and the verdict buffer, with no
// kernel queue behind them and no privileges needed. dispatch, takePending,
// the verdict methods of the packets it yields and takePendingVerdicts work
// as on an open queue; whatever would reach the kernel fails with EBADF
// instead (a flush, Close's default verdicts), and no receive loop runs.
func newSocketlessQueue(cfg Config) (*Queue, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	q := newQueue(cfg)
	q.c = C.nfqgo_new(C.uint16_t(cfg.Queue), C.uintptr_t(q.handle), C.uint8_t(cfg.CopyMode.kernel()),
		C.uint32_t(cfg.CopyRange), C.uint32_t(cfg.DefaultVerdict))
	if q.c == nil {
		q.handle.Delete()
		return nil, syscall.ENOMEM
	}
	return q, nil
}

// dispatch feeds one netlink datagram, as the kernel would send it, through
// the same parse and dispatch path as received ones. Tests use it for
// attributes this kernel cannot produce; the packets it yields are handed
// out by the receive loop like any other.
func (q *Queue) dispatch(msg []byte) error {
	q.rx.Lock()
	defer q.rx.Unlock()
	q.life.RLock()
	defer q.life.RUnlock()
	if q.closed.Load() {
		return ErrClosed
	}
	return errnoErr(C.nfqgo_dispatch(q.c, unsafe.Pointer(&msg[0]), C.int(len(msg))))
}

// takePending returns the packets dispatched so far and not handed out;
// buf is reused for the next ones.
func (q *Queue) takePending(buf []*Packet) []*Packet {
	q.rx.Lock()
	defer q.rx.Unlock()
	p := q.pending
	q.pending = buf[:0]
	q.handOut(p)
	return p
}

// holdVerdicts makes verdicts wait in the buffer instead of leaving at once:
// the queue believes the consumer still has a packet to take. Only for a
// queue whose receive loop is not running (nothing else resets the count,
// and nothing else keeps the deadline).
func (q *Queue) holdVerdicts() { q.undelivered.Store(1) }

// takePendingVerdicts returns the bytes that flushing the pending verdicts
// would send now (one datagram), and forgets them without sending. As in a
// real flush, several identical plain verdicts become one batch message when
// no packet among their ids still waits for a verdict.
func (q *Queue) takePendingVerdicts() ([]byte, error) {
	q.life.RLock()
	defer q.life.RUnlock()
	if q.closed.Load() {
		return nil, ErrClosed
	}
	buf := C.malloc(C.size_t(verdictBufSize))
	defer C.free(buf)
	q.vmu.Lock()
	undecided, lowest := q.lowestUndecided()
	n := C.nfqgo_take_pending(q.c, undecided, lowest, buf, C.int(verdictBufSize))
	q.vmu.Unlock()
	if n < 0 {
		return nil, errnoErr(n)
	}
	return C.GoBytes(buf, n), nil
}

// everyPacketDecided reports whether every packet handed out has its verdict.
func (q *Queue) everyPacketDecided() bool {
	q.vmu.Lock()
	defer q.vmu.Unlock()
	undecided, _ := q.lowestUndecided()
	return undecided == 0
}

// verdictBufSize is the C side's verdict buffer size.
const verdictBufSize = C.NFQGO_VERDICT_BUF
