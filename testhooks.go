//go:build linux && cgo

package nfq

/*
#include "nfq_cgo.h"
*/
import "C"

import "unsafe"

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
