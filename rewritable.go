package nfq

import (
	"errors"
	"fmt"
	"strings"
)

// Errors of the packet rewrite helpers (Headers.CheckRewritable,
// MangleTransport, FixChecksums, AdjustTCPSeq). They come wrapped in a
// *PacketError.
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

// PacketError describes why a packet could not be rewritten. It unwraps to
// one of the sentinels above (or ErrPayloadTooLarge).
type PacketError struct {
	Op     string // "check headers", "mangle transport payload", ...
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

// CheckRewritable returns nil when the packet h describes can be rewritten
// by MangleTransport and FixChecksums: a whole IPv4 or IPv6 datagram (not
// cut by the copy range, not a fragment) carrying TCP or UDP, whose lengths
// agree, and whose checksum libnetfilter_queue computes right (no IPv6
// routing header with segments left). Otherwise the *PacketError says what
// is wrong; it wraps ErrNotIP, ErrTruncated, ErrFragment,
// ErrUnsupportedProtocol or ErrMalformedPacket.
func (h Headers) CheckRewritable() error { return h.checkRewritable("check headers") }

// checkRewritable is CheckRewritable for the helper op. Its checks follow
// the headers in order, so the error names the first thing wrong.
func (h Headers) checkRewritable(op string) error {
	const copyRangeHint = "a rewrite needs the whole packet: raise Config.CopyRange to MaxCopyRange"
	fixed := 0 // the fixed IP header's length
	switch h.Version {
	case 4:
		fixed = 20
	case 6:
		fixed = 40
	}
	switch {
	case h.captured == 0:
		return rewriteError(op, ErrNotIP, "empty packet", "")
	case fixed == 0:
		return rewriteError(op, ErrNotIP, fmt.Sprintf("IP version %d", h.Version), "")
	case h.captured < fixed:
		return rewriteError(op, ErrTruncated,
			fmt.Sprintf("%d bytes, an IPv%d header needs %d", h.captured, h.Version, fixed), "")
	case h.Malformed && h.flaw < flawTransport:
		return h.flawError(op)
	case h.Truncated != NotTruncated:
		return rewriteError(op, ErrTruncated,
			fmt.Sprintf("have %d of the %d bytes the IP header gives", h.captured, h.Length), copyRangeHint)
	case h.noLength && h.Version == 4:
		return rewriteError(op, ErrUnsupportedProtocol, "IPv4 total length 0 (a GSO packet)", "")
	case h.noLength:
		return rewriteError(op, ErrUnsupportedProtocol, "IPv6 jumbogram (payload length 0)", "")
	case h.IsFragment():
		return rewriteError(op, ErrFragment, fmt.Sprintf("IPv%d fragment offset %d, more fragments %t",
			h.Version, h.FragmentOffset, h.MoreFragments), "")
	case h.Protocol != ProtoTCP && h.Protocol != ProtoUDP:
		return rewriteError(op, ErrUnsupportedProtocol,
			fmt.Sprintf("IP protocol %d", h.Protocol), "only TCP and UDP payloads can be rewritten")
	case h.Malformed:
		return h.flawError(op)
	case h.routed:
		return rewriteError(op, ErrUnsupportedProtocol,
			"IPv6 routing header with segments left",
			"its checksum covers the final destination, which libnetfilter_queue does not use")
	}
	return nil
}

// flawError tells the contradiction ParseHeaders found first.
func (h Headers) flawError(op string) error {
	a, b := h.flawA, h.flawB
	var d string
	switch h.flaw {
	case flawIHL:
		d = fmt.Sprintf("IPv4 header length %d, total length %d", a, b)
	case flawExtension:
		d = fmt.Sprintf("IPv6 extension header %d at offset %d runs past the packet", a, b)
	case flawTrailing:
		d = fmt.Sprintf("%d bytes after the %d the IP header gives", a, b)
	case flawTCPShort:
		d = fmt.Sprintf("%d bytes for a 20-byte TCP header", a)
	case flawTCPOffset:
		d = fmt.Sprintf("TCP data offset %d in a %d-byte segment", a, b)
	case flawUDPShort:
		d = fmt.Sprintf("%d bytes for an 8-byte UDP header", a)
	case flawUDPLength:
		d = fmt.Sprintf("UDP length %d, the IP header leaves %d", a, b)
	case flawICMPShort:
		d = fmt.Sprintf("%d bytes for a %d-byte ICMP header", a, b)
	}
	return rewriteError(op, ErrMalformedPacket, d, "")
}

func (h Headers) protoName() string {
	if h.Protocol == ProtoTCP {
		return "TCP"
	}
	return "UDP"
}
