//go:build linux && cgo

package nfq

// This file holds only the //export trampolines that carry libnetfilter_queue's
// C callbacks into Go: a file with //export may not define C functions in its
// preamble, so the C side lives in nfq_cgo.c.

/*
#include "nfq_cgo.h"
*/
import "C"

import "runtime/cgo"

// nfqgoPacket is called by on_packet (nfq_cgo.c) for every packet message,
// on the goroutine that called nfqgo_drain or a configuration call. handle is
// the queue's cgo.Handle; p is valid only during the call.
//
//export nfqgoPacket
func nfqgoPacket(handle C.uintptr_t, p *C.struct_nfqgo_packet) {
	cgo.Handle(handle).Value().(*Queue).onPacket(p)
}
