package main

/*
#cgo CFLAGS: -I${SRCDIR}/../include -I${SRCDIR}/../include/libipq
#include <stdlib.h>
#include "shim.h"
*/
import "C"

import (
	"math"
	"runtime/cgo"
	"sync"
	"syscall"
	"time"
	"unsafe"

	"github.com/nfq-go/nfq"
	"github.com/nfq-go/nfq/internal/ipqhook"
)

// The Go side of each libipq symbol (shim.c holds the symbols). Handles
// cross as cgo.Handle values; each call reports its errno in *errp and, if
// it failed, the new error code in *codep (&ipq_errno).

//export libipq_go_create
func libipq_go_create(flags, protocol C.uint32_t, fdp, errp, codep *C.int) C.uintptr_t {
	defer track(codep)()
	h, fd, errno := ipqhook.Create(uint32(flags), uint32(protocol))
	*errp = C.int(errno)
	if h == nil {
		return 0
	}
	*fdp = C.int(fd)
	return C.uintptr_t(cgo.NewHandle(h))
}

//export libipq_go_destroy
func libipq_go_destroy(h C.uintptr_t) {
	if h == 0 {
		return
	}
	ipqhook.Destroy(cgo.Handle(h).Value())
	cgo.Handle(h).Delete()
}

//export libipq_go_read
func libipq_go_read(h C.uintptr_t, buf *C.uchar, n C.size_t, timeout C.int, errp, codep *C.int) C.ssize_t {
	defer track(codep)()
	r, errno := ipqhook.Read(value(h), bytes(buf, n), int(timeout), wait)
	*errp = C.int(errno)
	return C.ssize_t(r)
}

//export libipq_go_set_mode
func libipq_go_set_mode(h C.uintptr_t, mode C.uint8_t, rng C.size_t, errp, codep *C.int) C.int {
	defer track(codep)()
	r, errno := ipqhook.SetMode(value(h), uint8(mode), uint64(rng))
	*errp = C.int(errno)
	return C.int(r)
}

//export libipq_go_set_verdict
func libipq_go_set_verdict(h C.uintptr_t, id C.ulong, verdict C.uint, dataLen C.size_t, buf *C.uchar, errp, codep *C.int) C.int {
	defer track(codep)()
	// never more than a verdict can carry: the layer refuses larger ones
	payload := bytes(buf, min(dataLen, nfq.MaxPayloadLen+1))
	r, errno := ipqhook.SetVerdict(value(h), uint64(id), uint32(verdict), uint64(dataLen), payload)
	*errp = C.int(errno)
	return C.int(r)
}

//export libipq_go_ctl
func libipq_go_ctl(h C.uintptr_t, request C.int) C.int {
	ih, _ := value(h).(*nfq.IPQHandle)
	return C.int(nfq.IPQCtl(ih, int(request)))
}

//export libipq_go_message_type
func libipq_go_message_type(buf *C.uchar) C.int {
	return C.int(nfq.IPQMessageType(bytes(buf, C.sizeof_struct_nlmsghdr)))
}

//export libipq_go_get_msgerr
func libipq_go_get_msgerr(buf *C.uchar) C.int {
	return C.int(nfq.IPQGetMsgErr(bytes(buf, C.sizeof_struct_nlmsghdr+C.sizeof_struct_nlmsgerr)))
}

//export libipq_go_get_packet
func libipq_go_get_packet(buf *C.uchar) *C.ipq_packet_msg_t {
	return (*C.ipq_packet_msg_t)(unsafe.Add(unsafe.Pointer(buf), C.sizeof_struct_nlmsghdr)) // NLMSG_DATA
}

// errstrs are the texts as C strings, made once: ipq_errstr returns them
// and callers never free them.
var errstrs = sync.OnceValue(func() []*C.char {
	var s []*C.char
	for code := 0; code <= C.IPQ_MAXERR; code++ {
		s = append(s, C.CString(nfq.IPQErrString(code)))
	}
	return s
})

//export libipq_go_errstr
func libipq_go_errstr(code C.int) *C.char {
	s := errstrs()
	if code < 0 || int(code) >= len(s) {
		return s[C.IPQ_ERR_IMPL]
	}
	return s[code]
}

//export libipq_go_perror_line
func libipq_go_perror_line(s *C.char, code C.int, errnoText *C.char) *C.char {
	line := ipqhook.PerrorLine(C.GoString(s), s == nil, int(code), C.GoString(errnoText))
	return C.CString(line) // freed by ipq_perror
}

// track notes the failure count before a call; the returned func copies the
// error code to *codep if the call failed.
func track(codep *C.int) func() {
	_, before := ipqhook.Errno()
	return func() {
		if code, after := ipqhook.Errno(); after != before {
			*codep = C.int(code)
		}
	}
}

func value(h C.uintptr_t) any {
	if h == 0 {
		return nil
	}
	return cgo.Handle(h).Value()
}

// bytes views C memory as a slice (nil for NULL).
func bytes(p *C.uchar, n C.size_t) []byte {
	if p == nil || n == 0 {
		return nil
	}
	return unsafe.Slice((*byte)(unsafe.Pointer(p)), min(n, math.MaxInt32))
}

// wait blocks in C, where a signal interrupts it (EINTR) as it interrupted
// libipq's select(): programs that stop on a signal rely on that.
func wait(fd int, d time.Duration) (ipqhook.WaitResult, syscall.Errno) {
	ns := int64(-1)
	if d >= 0 {
		ns = int64(d)
	}
	r, err := C.libipq_wait(C.int(fd), C.longlong(ns))
	switch {
	case r > 0:
		return ipqhook.Ready, 0
	case r == 0:
		return ipqhook.TimedOut, 0
	}
	errno, _ := err.(syscall.Errno)
	if errno == syscall.EINTR {
		return ipqhook.Interrupted, errno
	}
	return ipqhook.Failed, errno
}
