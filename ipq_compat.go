//go:build linux && cgo

package nfq

// The libipq compatibility layer: iptables' libipq API (ip_queue, removed in
// Linux 3.5) on NFQUEUE. One function per C function, with the same
// semantics: a process-wide error code, buffer-based reads that produce the
// legacy message layout, timeouts in microseconds. Each is a thin wrapper
// over the C libipq (libipq_*.c, the same code libipq/Makefile builds into
// libipq.so for C programs), so Go and C programs behave alike. New code
// should use Open, Queue.Packets and Packet.SetVerdict instead.
//
// A handle binds NFQUEUE queue 0, where `iptables -j QUEUE` sends packets;
// the environment variable LIBIPQ_QUEUE (or LIBIPQ_QUEUE_IPV4 /
// LIBIPQ_QUEUE_IPV6 for one family) or IPQCreateHandleQueue choose another
// number. NFQUEUE queues carry both families, so the IPv4 and the IPv6
// handle of a process share the queue and each gets its family's packets;
// packets of a family without a handle are dropped, as ip_queue dropped
// packets that had no listener. libipq/README.md lists every difference to
// ip_queue.

/*
#cgo CFLAGS: -I${SRCDIR}/libipq/include -DNFQ_LIBIPQ_GO
#include "libipq_impl.h"
*/
import "C"

import (
	"math"
	"sync"
	"sync/atomic"
	"syscall"
	"unsafe"
)

// IPQHandle is a libipq handle (struct ipq_handle): a netlink socket bound
// to one protocol family of an NFQUEUE queue.
type IPQHandle struct {
	// mu is read-held by every call on the handle and write-held by
	// IPQDestroyHandle, which frees c.
	mu      sync.RWMutex
	c       *C.struct_ipq_handle
	wake    int // eventfd: IPQDestroyHandle ends a read in progress
	closing atomic.Bool
}

// IPQCreateHandle opens a handle for protocol NFProtoIPv4 or NFProtoIPv6
// on queue 0 (or the one LIBIPQ_QUEUE names), in the network namespace of
// the calling thread; flags are unused. It returns nil on failure, with
// IPQErrno set (IPQErrProtocol for another protocol). The queue drops
// packets until IPQSetMode chooses a copy mode.
//
// It stands for ipq_create_handle(3). Modern API: Open.
func IPQCreateHandle(flags, protocol uint32) *IPQHandle { return ipqCreate(protocol, -1) }

// IPQCreateHandleQueue is IPQCreateHandle on queue number queue (as in
// iptables -j NFQUEUE --queue-num). It has no C counterpart.
func IPQCreateHandleQueue(flags, protocol uint32, queue uint16) *IPQHandle {
	return ipqCreate(protocol, int(queue))
}

func ipqCreate(protocol uint32, queue int) *IPQHandle {
	wake, err := newEventFD()
	if err != nil {
		errno, _ := err.(syscall.Errno)
		C.nfqgo_libipq_fail(C.IPQ_ERR_HANDLE, C.int(errno))
		return nil
	}
	c := C.nfqgo_libipq_create(C.u_int32_t(protocol), C.int(queue))
	if c == nil {
		efdClose(wake)
		return nil
	}
	return &IPQHandle{c: c, wake: wake}
}

// use returns the C handle (nil once destroyed) and holds it until release
// is called.
func (h *IPQHandle) use() (c *C.struct_ipq_handle, wake C.int, release func()) {
	if h == nil {
		return nil, -1, func() {}
	}
	h.mu.RLock()
	return h.c, C.int(h.wake), h.mu.RUnlock
}

// Fd returns the handle's netlink socket, which polls readable while a
// message waits: the h->fd of C programs. It is -1 once the handle is
// destroyed.
func (h *IPQHandle) Fd() int {
	c, _, release := h.use()
	defer release()
	if c == nil {
		return -1
	}
	return int(c.fd)
}

// IPQDestroyHandle closes the handle; a read in progress on it returns -1.
// Packets it holds without a verdict are dropped, as ip_queue dropped them
// when its peer went away. nil and a handle destroyed before are allowed.
// It returns 0.
//
// It stands for ipq_destroy_handle(3). Modern API: Queue.Close.
func IPQDestroyHandle(h *IPQHandle) int {
	if h == nil || !h.closing.CompareAndSwap(false, true) {
		return 0
	}
	efdPost(h.wake)
	h.mu.Lock()
	c := h.c
	h.c = nil
	h.mu.Unlock()
	r := C.nfqgo_ipq_destroy_handle(c)
	efdClose(h.wake)
	return int(r)
}

// IPQSetMode sets the copy mode: IPQCopyMeta (metadata only) or
// IPQCopyPacket with rng payload bytes (0 or more than the kernel allows:
// the whole packet). It returns the size of the request it stands for
// (> 0) or -1 with IPQErrSend. An unknown mode is refused as ip_queue
// refused it: by an NLMsgError message (EINVAL) that IPQRead returns.
//
// It stands for ipq_set_mode(3). Modern API: Config.CopyMode and
// Queue.SetCopyMode.
func IPQSetMode(h *IPQHandle, mode uint8, rng uint) int {
	c, _, release := h.use()
	defer release()
	return int(C.nfqgo_ipq_set_mode(c, C.u_int8_t(mode), C.size_t(rng)))
}

// IPQRead reads the next message into buf and returns its size. timeout
// is in microseconds: 0 waits for a message, a negative value only looks,
// a positive one waits at most that long. On timeout it returns 0 with
// IPQErrTimeout. It returns -1 with IPQErrRecvBuf when len(buf) is under
// IPQMinReadLen, and with IPQErrRTrunc when the message did not fit: buf
// then holds its beginning, with the packet id when 24 bytes fit, so that
// the packet can still be dropped. It waits in C, holding the calling
// goroutine's thread; IPQDestroyHandle ends the wait (-1, IPQErrRecv).
//
// It stands for ipq_read(3). Modern API: Queue.Packets.
func IPQRead(h *IPQHandle, buf []byte, timeout int) int {
	c, wake, release := h.use()
	defer release()
	timeout = max(min(timeout, math.MaxInt32), math.MinInt32)
	return int(C.nfqgo_libipq_read_wake(c, bytesPtr(buf), C.size_t(len(buf)), C.int(timeout), wake))
}

// IPQSetVerdict gives packet id its verdict (NF_ACCEPT = Accept, NF_DROP =
// Drop, NF_QUEUE, NF_REPEAT = Repeat, NF_STOP = Stop). When dataLen and buf
// are both non-zero, buf[:dataLen] replaces the packet from its IP header
// on; the caller must fix the checksums. A replacement shorter than an IP
// header is ignored and the verdict applies to the original packet, as on
// ip_queue. It returns the size of the request it stands for (> 0), or -1
// with IPQErrSend. As on ip_queue, an unknown id (ENOENT) or verdict
// (EINVAL) comes back later as an NLMsgError message from IPQRead.
//
// It stands for ipq_set_verdict(3). Modern API: Packet.SetVerdict,
// Packet.AcceptWithPayload.
func IPQSetVerdict(h *IPQHandle, id IPQID, verdict Verdict, dataLen uint, buf []byte) int {
	c, _, release := h.use()
	defer release()
	var p *C.uchar
	if dataLen != 0 && buf != nil {
		if dataLen > uint(len(buf)) {
			C.nfqgo_libipq_fail(C.IPQ_ERR_SEND, C.EINVAL)
			return -1
		}
		p = bytesPtr(buf)
	}
	return int(C.nfqgo_ipq_set_verdict(c, C.ipq_id_t(id), C.uint(verdict), C.size_t(dataLen), p))
}

// IPQCtl is a no-op that returns 1, as libipq's was.
//
// It stands for ipq_ctl(3). Modern API: Config and Queue methods.
func IPQCtl(h *IPQHandle, request int, args ...any) int {
	c, _, release := h.use()
	defer release()
	return int(C.nfqgo_libipq_ctl(c, C.int(request)))
}

// bytesPtr points at buf's first byte, nil for an empty buf.
func bytesPtr(buf []byte) *C.uchar {
	if len(buf) == 0 {
		return nil
	}
	return (*C.uchar)(unsafe.Pointer(unsafe.SliceData(buf)))
}
