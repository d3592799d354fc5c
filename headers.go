package nfq

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"strings"
)

// Errors of the packet rewrite helpers (ParseHeaders, MangleTransport,
// FixChecksums, AdjustTCPSeq). They come wrapped in a *PacketError.
var (
	// ErrNotIP: the bytes are not an IPv4 or IPv6 packet.
	ErrNotIP = errors.New("nfq: not an IPv4 or IPv6 packet")
	// ErrTruncated: the packet is shorter than its IP header says, usually
	// because the copy range cut it (Packet.OrigLen > len(Packet.Payload)).
	ErrTruncated = errors.New("nfq: packet truncated")
	// ErrFragment: the packet is an IP fragment; only a whole datagram has
	// a transport header and checksum to rewrite.
	ErrFragment = errors.New("nfq: packet is an IP fragment")
	// ErrUnsupportedProtocol: the transport protocol is not TCP or UDP, or
	// it cannot be reached (ESP, IPv6 "no next header").
	ErrUnsupportedProtocol = errors.New("nfq: transport protocol not supported")
	// ErrMalformedPacket: header fields contradict each other or the
	// packet's length.
	ErrMalformedPacket = errors.New("nfq: malformed packet")
	// ErrOutOfRange: an offset or length lies outside the transport payload.
	ErrOutOfRange = errors.New("nfq: offset out of range")
)

// PacketError describes why a packet could not be parsed or rewritten. It
// unwraps to one of the sentinels above (or ErrPayloadTooLarge).
type PacketError struct {
	Op     string // "parse headers", "mangle transport payload", ...
	Err    error  // the sentinel
	Detail string // what exactly was wrong
	Hint   string // what to do about it, or ""
}

func (e *PacketError) Error() string {
	msg := "nfq: " + e.Op + ": " + strings.TrimPrefix(e.Err.Error(), "nfq: ")
	if e.Detail != "" {
		msg += ": " + e.Detail
	}
	if e.Hint != "" {
		msg += " (" + e.Hint + ")"
	}
	return msg
}

func (e *PacketError) Unwrap() error { return e.Err }

func rewriteError(op string, kind error, detail, hint string) error {
	return &PacketError{Op: op, Err: kind, Detail: detail, Hint: hint}
}

// IP protocol numbers.
const (
	ProtoTCP uint8 = 6
	ProtoUDP uint8 = 17
)

// TCP flag bits of Headers.TCPFlags.
const (
	TCPFin uint8 = 1 << iota
	TCPSyn
	TCPRst
	TCPPsh
	TCPAck
	TCPUrg
)

// Headers describes the network and transport headers of an IP packet
// (Packet.Payload), with offsets into it, so that a program can find the
// bytes it wants to rewrite.
type Headers struct {
	Version  int   // 4 or 6
	Protocol uint8 // transport protocol: ProtoTCP or ProtoUDP
	Src, Dst netip.Addr
	// Length is the packet's length according to its IP header; it equals
	// len(pkt) for a packet that ParseHeaders accepts.
	Length           int
	SrcPort, DstPort uint16
	// TransportOffset is where the TCP or UDP header starts: after the
	// IPv4 options or the IPv6 extension headers.
	TransportOffset int
	// PayloadOffset is where the TCP or UDP payload starts.
	PayloadOffset int
	// Seq, Ack and TCPFlags are the TCP header's; zero for UDP.
	Seq, Ack uint32
	TCPFlags uint8

	// routed: an IPv6 routing header with segments left, whose final
	// destination belongs in the checksum instead of Dst.
	routed bool
}

// checkRewritable refuses packets whose checksum the C library would get
// wrong.
func (h Headers) checkRewritable(op string) error {
	if h.routed {
		return rewriteError(op, ErrUnsupportedProtocol,
			"IPv6 routing header with segments left",
			"its checksum covers the final destination, which libnetfilter_queue does not use")
	}
	return nil
}

// Payload returns the transport payload of pkt, the packet h describes.
func (h Headers) Payload(pkt []byte) []byte { return pkt[h.PayloadOffset:h.Length] }

func (h Headers) protoName() string {
	if h.Protocol == ProtoTCP {
		return "TCP"
	}
	return "UDP"
}

// ParseHeaders reads the IP and TCP/UDP headers of pkt, an IPv4 or IPv6
// packet from its IP header on, and checks that the packet can be rewritten:
// whole (not cut by the copy range), not a fragment, TCP or UDP, with
// consistent lengths. IPv6 extension headers (hop-by-hop, routing,
// destination options, AH, an unfragmented fragment header, ...) are
// skipped. On error, the fields parsed so far are filled in.
func ParseHeaders(pkt []byte) (Headers, error) { return parseHeaders("parse headers", pkt) }

func parseHeaders(op string, pkt []byte) (Headers, error) {
	var h Headers
	if len(pkt) == 0 {
		return h, rewriteError(op, ErrNotIP, "empty packet", "")
	}
	var err error
	switch pkt[0] >> 4 {
	case 4:
		err = parseIPv4(op, pkt, &h)
	case 6:
		err = parseIPv6(op, pkt, &h)
	default:
		return h, rewriteError(op, ErrNotIP, fmt.Sprintf("IP version %d", pkt[0]>>4), "")
	}
	if err != nil {
		return h, err
	}
	return h, parseTransport(op, pkt, &h)
}

// checkLength compares the IP header's length with the bytes there are.
func checkLength(op string, pkt []byte, h *Headers) error {
	switch {
	case h.Length > len(pkt):
		return rewriteError(op, ErrTruncated,
			fmt.Sprintf("have %d of the %d bytes the IP header gives", len(pkt), h.Length),
			"a rewrite needs the whole packet: raise Config.CopyRange to MaxCopyRange")
	case h.Length < len(pkt):
		return rewriteError(op, ErrMalformedPacket,
			fmt.Sprintf("%d bytes after the %d the IP header gives", len(pkt)-h.Length, h.Length), "")
	}
	return nil
}

func parseIPv4(op string, pkt []byte, h *Headers) error {
	h.Version = 4
	if len(pkt) < 20 {
		return rewriteError(op, ErrTruncated, fmt.Sprintf("%d bytes, an IPv4 header needs 20", len(pkt)), "")
	}
	h.Src = netip.AddrFrom4([4]byte(pkt[12:16]))
	h.Dst = netip.AddrFrom4([4]byte(pkt[16:20]))
	h.Protocol = pkt[9]
	h.Length = int(binary.BigEndian.Uint16(pkt[2:]))
	h.TransportOffset = int(pkt[0]&0x0f) * 4
	if h.TransportOffset < 20 || h.TransportOffset > h.Length {
		return rewriteError(op, ErrMalformedPacket,
			fmt.Sprintf("IPv4 header length %d, total length %d", h.TransportOffset, h.Length), "")
	}
	if err := checkLength(op, pkt, h); err != nil {
		return err
	}
	if frag := binary.BigEndian.Uint16(pkt[6:]); frag&0x3fff != 0 {
		return rewriteError(op, ErrFragment,
			fmt.Sprintf("IPv4 fragment offset %d, more fragments %t", (frag&0x1fff)*8, frag&0x2000 != 0), "")
	}
	return nil
}

func parseIPv6(op string, pkt []byte, h *Headers) error {
	h.Version = 6
	if len(pkt) < 40 {
		return rewriteError(op, ErrTruncated, fmt.Sprintf("%d bytes, an IPv6 header needs 40", len(pkt)), "")
	}
	h.Src = netip.AddrFrom16([16]byte(pkt[8:24]))
	h.Dst = netip.AddrFrom16([16]byte(pkt[24:40]))
	h.Length = 40 + int(binary.BigEndian.Uint16(pkt[4:]))
	if h.Length == 40 && len(pkt) > 40 {
		return rewriteError(op, ErrUnsupportedProtocol, "IPv6 jumbogram (payload length 0)", "")
	}
	if err := checkLength(op, pkt, h); err != nil {
		return err
	}
	next, off := pkt[6], 40
	for {
		var hdrLen int
		switch next {
		case 0, 43, 60, 135, 139, 140: // hop-by-hop, routing, destination, mobility, HIP, shim6
			if off+8 > h.Length {
				break
			}
			hdrLen = (int(pkt[off+1]) + 1) * 8
			h.routed = h.routed || next == 43 && pkt[off+3] != 0
		case 51: // AH counts in 4-byte units, minus 2
			if off+8 > h.Length {
				break
			}
			hdrLen = (int(pkt[off+1]) + 2) * 4
		case 44: // fragment
			if off+8 > h.Length {
				break
			}
			if frag := binary.BigEndian.Uint16(pkt[off+2:]); frag&0xfff9 != 0 {
				h.Protocol = pkt[off]
				return rewriteError(op, ErrFragment,
					fmt.Sprintf("IPv6 fragment offset %d, more fragments %t", frag&0xfff8, frag&1 != 0), "")
			}
			hdrLen = 8
		default:
			h.Protocol, h.TransportOffset = next, off
			return nil
		}
		if hdrLen == 0 || off+hdrLen > h.Length {
			return rewriteError(op, ErrMalformedPacket,
				fmt.Sprintf("IPv6 extension header %d at offset %d runs past the packet", next, off), "")
		}
		next, off = pkt[off], off+hdrLen
	}
}

func parseTransport(op string, pkt []byte, h *Headers) error {
	t := pkt[h.TransportOffset:h.Length]
	switch h.Protocol {
	case ProtoTCP:
		if len(t) < 20 {
			return rewriteError(op, ErrMalformedPacket, fmt.Sprintf("%d bytes for a 20-byte TCP header", len(t)), "")
		}
		dataOff := int(t[12]>>4) * 4
		if dataOff < 20 || dataOff > len(t) {
			return rewriteError(op, ErrMalformedPacket,
				fmt.Sprintf("TCP data offset %d in a %d-byte segment", dataOff, len(t)), "")
		}
		h.Seq = binary.BigEndian.Uint32(t[4:])
		h.Ack = binary.BigEndian.Uint32(t[8:])
		h.TCPFlags = t[13] & 0x3f
		h.PayloadOffset = h.TransportOffset + dataOff
	case ProtoUDP:
		if len(t) < 8 {
			return rewriteError(op, ErrMalformedPacket, fmt.Sprintf("%d bytes for an 8-byte UDP header", len(t)), "")
		}
		if l := int(binary.BigEndian.Uint16(t[4:])); l != len(t) {
			return rewriteError(op, ErrMalformedPacket,
				fmt.Sprintf("UDP length %d, the IP header leaves %d", l, len(t)), "")
		}
		h.PayloadOffset = h.TransportOffset + 8
	default:
		return rewriteError(op, ErrUnsupportedProtocol,
			fmt.Sprintf("IP protocol %d", h.Protocol), "only TCP and UDP payloads can be rewritten")
	}
	h.SrcPort = binary.BigEndian.Uint16(t[0:])
	h.DstPort = binary.BigEndian.Uint16(t[2:])
	return nil
}
