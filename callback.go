//go:build linux && cgo

package nfq

// This file holds only the //export trampolines that carry the C side's
// callbacks into Go: a file with //export may not define C functions in its
// preamble, so the C side lives in the *_cgo.c files.

/*
#include "parse_cgo.h"
*/
import "C"

import (
	"runtime/cgo"
	"unsafe"
)

// nfqgoPackets is called by nfqgo_deliver (parse_cgo.c) with the packets
// parsed from the datagrams of one receive batch: one crossing into Go per
// batch, not per packet. It runs on the goroutine that called nfqgo_drain,
// nfqgo_dispatch or a configuration call. handle is the queue's cgo.Handle;
// pkts points to n packets that are valid only during the call.
//
//export nfqgoPackets
func nfqgoPackets(handle C.uintptr_t, pkts *C.struct_nfqgo_packet, n C.int) {
	q := cgo.Handle(handle).Value().(*Queue)
	ps := unsafe.Slice(pkts, int(n))
	for i := range ps {
		q.onPacket(&ps[i])
	}
}
