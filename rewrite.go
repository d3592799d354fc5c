//go:build linux && cgo

package nfq

/*
#cgo pkg-config: libnetfilter_queue libmnl
#include "rewrite_cgo.h"
*/
import "C"

import (
	"fmt"
	"unsafe"
)

// MangleTransport returns a new packet: pkt (an IPv4 or IPv6 packet from its
// IP header on, such as Packet.Payload) with the n bytes at offset off of its
// TCP or UDP payload replaced by rep, which may be of any length. The IP and
// UDP lengths and the IPv4, TCP and UDP checksums of the result are correct,
// so it can go back to the kernel as it is with WithPayload. The work is done
// by libnetfilter_queue's nfq_tcp_mangle_ipv4/6 and nfq_udp_mangle_ipv4/6;
// pkt itself is not modified.
//
// A UDP/IPv4 datagram sent without a checksum (0) keeps none. When a TCP
// payload changes length, the sequence numbers of the connection no longer
// match: see AdjustTCPSeq for what the caller must do.
//
// Errors wrap ErrNotIP, ErrTruncated, ErrFragment, ErrUnsupportedProtocol,
// ErrMalformedPacket, ErrOutOfRange or ErrPayloadTooLarge (result over
// MaxPayloadLen).
func MangleTransport(pkt []byte, off, n int, rep []byte) ([]byte, error) {
	const op = "mangle transport payload"
	h := ParseHeaders(pkt)
	if err := h.checkRewritable(op); err != nil {
		return nil, err
	}
	payloadLen := h.Length - h.PayloadOffset
	if off < 0 || n < 0 || off > payloadLen || n > payloadLen-off {
		return nil, rewriteError(op, ErrOutOfRange,
			fmt.Sprintf("bytes [%d, %d+%d) of a %d-byte %s payload", off, off, n, payloadLen, h.protoName()),
			"off and n count from the start of the TCP/UDP payload (Headers.PayloadOffset)")
	}
	newLen := h.Length - n + len(rep)
	if newLen > MaxPayloadLen {
		return nil, rewriteError(op, ErrPayloadTooLarge,
			fmt.Sprintf("the result would be %d bytes, the kernel takes at most %d", newLen, MaxPayloadLen),
			"replace fewer bytes")
	}
	out := make([]byte, newLen)
	repPtr := unsafe.Pointer(unsafe.SliceData(rep))
	if len(rep) == 0 {
		repPtr = unsafe.Pointer(&pkt[0]) // any valid pointer; nothing is read
	}
	r := C.nfqgo_rw_mangle(C.uint8_t(h.Version), C.uint8_t(h.Protocol),
		unsafe.Pointer(&pkt[0]), C.uint32_t(h.Length), C.uint32_t(h.TransportOffset),
		C.uint32_t(off), C.uint32_t(n), repPtr, C.uint32_t(len(rep)),
		unsafe.Pointer(&out[0]), C.uint32_t(len(out)))
	if r < 0 {
		return nil, libraryError(op, r)
	}
	if int(r) != newLen {
		return nil, rewriteError(op, ErrMalformedPacket,
			fmt.Sprintf("the library made a %d-byte packet, expected %d", int(r), newLen), "")
	}
	return out, nil
}

// FixChecksums recomputes, in place, the IPv4 header checksum and the TCP or
// UDP checksum of pkt, for a caller that edited header fields or payload
// bytes itself (libnetfilter_queue's nfq_ip_set_checksum and
// nfq_{tcp,udp}_compute_checksum_ipv4/6 do the sums). The kernel does not
// fix checksums of a replaced payload. The lengths in the headers must
// still describe pkt exactly: to change the length, use MangleTransport.
//
// A UDP/IPv4 checksum field of 0 means "no checksum" and stays 0; a computed
// UDP checksum of 0 is written as 0xffff.
func FixChecksums(pkt []byte) error {
	const op = "fix checksums"
	h := ParseHeaders(pkt)
	if err := h.checkRewritable(op); err != nil {
		return err
	}
	C.nfqgo_rw_fix(C.uint8_t(h.Version), C.uint8_t(h.Protocol),
		unsafe.Pointer(&pkt[0]), C.uint32_t(h.Length), C.uint32_t(h.TransportOffset))
	return nil
}

// libraryError turns a NFQGO_RW_* failure into an error.
func libraryError(op string, r C.int) error {
	switch r {
	case C.NFQGO_RW_NOMEM:
		return rewriteError(op, ErrMalformedPacket, "out of C memory for the packet buffer", "")
	case C.NFQGO_RW_BADHDR:
		return rewriteError(op, ErrMalformedPacket, "libnetfilter_queue refused the IP header", "")
	case C.NFQGO_RW_NOTRANS:
		return rewriteError(op, ErrMalformedPacket, "libnetfilter_queue found no transport header", "")
	case C.NFQGO_RW_DISAGREE:
		return rewriteError(op, ErrMalformedPacket,
			"libnetfilter_queue found the transport header elsewhere than the parser", "")
	}
	return rewriteError(op, ErrMalformedPacket, fmt.Sprintf("libnetfilter_queue mangle failed (%d)", int(r)), "")
}
