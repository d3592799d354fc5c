package nfq

import (
	"encoding/binary"
	"net/netip"
	"strconv"
)

// IP protocol numbers.
const (
	ProtoICMP   uint8 = 1
	ProtoTCP    uint8 = 6
	ProtoUDP    uint8 = 17
	ProtoICMPv6 uint8 = 58
)

// TCP flag bits of Headers.TCPFlags.
const (
	TCPFin uint8 = 1 << iota
	TCPSyn
	TCPRst
	TCPPsh
	TCPAck
	TCPUrg
	TCPEce
	TCPCwr
)

// HeaderField is a set of Headers fields, for Headers.Has.
type HeaderField uint8

// The groups of Headers fields that ParseHeaders fills in only when their
// bytes are in the packet.
const (
	// HeaderIP: the whole IPv4 header (with its options) or the fixed IPv6
	// header was read: Src, Dst, Length, Protocol and the fragment fields.
	HeaderIP HeaderField = 1 << iota
	// HeaderPorts: SrcPort and DstPort (TCP and UDP).
	HeaderPorts
	// HeaderTCP: Seq, Ack and TCPFlags.
	HeaderTCP
	// HeaderICMP: ICMPType and ICMPCode (ICMP and ICMPv6).
	HeaderICMP
)

// Truncation says where the bytes of a packet end early: before the length
// its IP header gives, usually because the copy range cut it
// (Packet.OrigLen > len(Packet.Payload)).
type Truncation uint8

const (
	// NotTruncated: every byte the IP header counts is there (or the
	// packet is not IP).
	NotTruncated Truncation = iota
	// TruncatedNetwork: the bytes end inside the IPv4 header or the IPv6
	// header and its extension headers.
	TruncatedNetwork
	// TruncatedTransport: they end inside the TCP, UDP, ICMP or ICMPv6
	// header.
	TruncatedTransport
	// TruncatedPayload: they end after the headers ParseHeaders reads (for
	// another protocol or a later fragment: after the network headers).
	TruncatedPayload
)

func (t Truncation) String() string {
	switch t {
	case NotTruncated:
		return "not truncated"
	case TruncatedNetwork:
		return "truncated in the network headers"
	case TruncatedTransport:
		return "truncated in the transport header"
	case TruncatedPayload:
		return "truncated in the payload"
	}
	return "Truncation(" + strconv.Itoa(int(t)) + ")"
}

// Headers is what ParseHeaders read from the network and transport headers
// of an IP packet (Packet.Payload), with offsets into it. It is a plain
// value: making one allocates nothing.
type Headers struct {
	// Version is the IP version from the first byte: 4 or 6 for an IP
	// packet, anything else (0 also for an empty one) when it is not.
	Version int
	// Protocol is the transport protocol (ProtoTCP, ProtoUDP, ...): the
	// one after the IPv4 header, or the last next-header value of the IPv6
	// extension header chain. When the chain is cut or broken, it is the
	// type of the extension header that could not be read.
	Protocol uint8
	Src, Dst netip.Addr // with HeaderIP
	// Length is the packet's length according to its IP header (0 when
	// the packet is too short for one). When that header gives none (IPv4
	// total length 0, IPv6 payload length 0, as for a GSO packet or a
	// jumbogram), it is len(pkt).
	Length int
	// TransportOffset is where the transport header starts: after the
	// IPv4 options or the IPv6 extension headers. It is 0 when there is
	// none to find: not IP, a later fragment, a cut or broken header chain.
	TransportOffset int
	// PayloadOffset is where the transport payload starts, after a whole
	// TCP, UDP, ICMP (8 bytes) or ICMPv6 (4 bytes) header; 0 when that
	// header is not whole in the bytes, or for another protocol.
	PayloadOffset int

	SrcPort, DstPort   uint16 // with HeaderPorts
	Seq, Ack           uint32 // with HeaderTCP
	TCPFlags           uint8  // with HeaderTCP: TCPFin ... TCPCwr
	ICMPType, ICMPCode uint8  // with HeaderICMP

	// FragmentOffset (in bytes) and MoreFragments are the IPv4 header's or
	// the IPv6 fragment header's. A later fragment (FragmentOffset > 0)
	// has no transport header: no ports, no TransportOffset.
	FragmentOffset int
	MoreFragments  bool

	// Truncated says where the bytes end early, if they do.
	Truncated Truncation
	// Malformed: a header contradicts the packet's length or another
	// header (an IPv4 header length under 20, an extension header running
	// past the datagram, a TCP data offset under 20, a wrong UDP length,
	// bytes after the datagram). Decoding stopped where it could not go
	// on; CheckRewritable says what exactly was wrong.
	Malformed bool

	has      HeaderField
	captured int // len(pkt)
	noLength bool
	// routed: an IPv6 routing header with segments left, whose final
	// destination belongs in the checksum instead of Dst.
	routed bool
	// flaw is the first contradiction found, with two numbers to tell it.
	flaw         flaw
	flawA, flawB int
}

// flaw names a contradiction between headers, for CheckRewritable's error.
type flaw uint8

const (
	flawNone      flaw = iota
	flawIHL            // IPv4 header length A, total length B
	flawExtension      // IPv6 extension header of type A at offset B
	flawTrailing       // A bytes after the B the IP header gives
	flawTransport      // from here on: flaws of the transport header
	flawTCPShort       // A bytes for a TCP header
	flawTCPOffset      // TCP data offset A in a B-byte segment
	flawUDPShort       // A bytes for a UDP header
	flawUDPLength      // UDP length A, the IP header leaves B
	flawICMPShort      // A bytes for a B-byte ICMP header
)

// Has reports whether ParseHeaders filled in all the fields of f.
func (h Headers) Has(f HeaderField) bool { return h.has&f == f }

// IsFragment reports whether the packet is an IP fragment, the first one
// included; an IPv6 "atomic" fragment header (offset 0, no more fragments)
// does not make one.
func (h Headers) IsFragment() bool { return h.FragmentOffset != 0 || h.MoreFragments }

// Payload returns the part of the transport payload that is in pkt, the
// packet h describes; nil when PayloadOffset is 0.
func (h Headers) Payload(pkt []byte) []byte {
	if h.PayloadOffset == 0 {
		return nil
	}
	return pkt[h.PayloadOffset:h.end()]
}

// end is where the packet's bytes stop: its IP length, or the end of pkt
// when the copy range cut it.
func (h Headers) end() int { return min(h.Length, h.captured) }

// ParseHeaders decodes the IP header, the IPv6 extension headers and the
// TCP, UDP, ICMP or ICMPv6 header of pkt, an IPv4 or IPv6 packet from its
// IP header on (such as Packet.Payload), as far as its bytes go. It never
// fails: what it could read is filled in (see Has), Truncated says where the
// bytes end early and Malformed whether a header contradicts another.
// Ports, TCP flags and the ICMP type come from as many bytes as they need,
// even when the rest of their header is cut.
//
// The IPv6 hop-by-hop, routing, fragment, destination options and
// authentication (AH) headers are followed, as the kernel does; ESP, "no
// next header" and any other value end the chain (that is the Protocol).
// A later fragment ends it too: its transport header is in the first one.
//
// A program that rewrites the packet checks it with CheckRewritable first
// (MangleTransport, FixChecksums and AdjustTCPSeq do). ParseHeaders
// allocates nothing.
func ParseHeaders(pkt []byte) Headers {
	h := Headers{captured: len(pkt)}
	if len(pkt) == 0 {
		return h
	}
	h.Version = int(pkt[0] >> 4)
	switch h.Version {
	case 4:
		h.parseIPv4(pkt)
	case 6:
		h.parseIPv6(pkt)
	default:
		return h
	}
	if h.TransportOffset != 0 {
		h.parseTransport(pkt)
	}
	if h.Truncated == NotTruncated && h.has&HeaderIP != 0 && h.captured < h.Length {
		h.Truncated = TruncatedPayload
	}
	return h
}

// fits reports whether the n bytes from off are in the packet. When they
// are not, it says why: the copy range cut them (Truncated = cut) or the
// header runs past the datagram's own length (flaw f).
func (h *Headers) fits(off, n int, cut Truncation, f flaw, a, b int) bool {
	switch {
	case off+n <= h.end():
		return true
	case off+n > h.Length:
		h.malformed(f, a, b)
	case h.Truncated == NotTruncated:
		h.Truncated = cut
	}
	return false
}

// malformed records a contradiction; the first one is the one told.
func (h *Headers) malformed(f flaw, a, b int) {
	if !h.Malformed {
		h.Malformed, h.flaw, h.flawA, h.flawB = true, f, a, b
	}
}

func (h *Headers) parseIPv4(pkt []byte) {
	if len(pkt) < 20 {
		h.Truncated = TruncatedNetwork
		return
	}
	ihl := int(pkt[0]&0x0f) * 4
	h.Length = int(binary.BigEndian.Uint16(pkt[2:]))
	if h.Length == 0 { // a GSO packet may leave it to the skb
		h.Length, h.noLength = len(pkt), true
	}
	if ihl < 20 {
		h.malformed(flawIHL, ihl, h.Length)
		return
	}
	if ihl > len(pkt) { // options cut, or past the datagram
		h.fits(0, ihl, TruncatedNetwork, flawIHL, ihl, h.Length)
		return
	}
	h.has |= HeaderIP
	h.Src = netip.AddrFrom4([4]byte(pkt[12:16]))
	h.Dst = netip.AddrFrom4([4]byte(pkt[16:20]))
	h.Protocol = pkt[9]
	frag := binary.BigEndian.Uint16(pkt[6:])
	h.FragmentOffset, h.MoreFragments = int(frag&0x1fff)*8, frag&0x2000 != 0
	if ihl > h.Length {
		h.malformed(flawIHL, ihl, h.Length)
		return
	}
	if len(pkt) > h.Length {
		h.malformed(flawTrailing, len(pkt)-h.Length, h.Length)
	}
	if h.FragmentOffset == 0 {
		h.TransportOffset = ihl
	}
}

func (h *Headers) parseIPv6(pkt []byte) {
	if len(pkt) < 40 {
		h.Truncated = TruncatedNetwork
		return
	}
	h.has |= HeaderIP
	h.Src = netip.AddrFrom16([16]byte(pkt[8:24]))
	h.Dst = netip.AddrFrom16([16]byte(pkt[24:40]))
	h.Length = 40 + int(binary.BigEndian.Uint16(pkt[4:]))
	if h.Length == 40 && len(pkt) > 40 { // jumbogram or GSO packet
		h.Length, h.noLength = len(pkt), true
	}
	if len(pkt) > h.Length {
		h.malformed(flawTrailing, len(pkt)-h.Length, h.Length)
	}
	next, off := pkt[6], 40
	for {
		h.Protocol = next
		switch next {
		case 0, 43, 44, 51, 60: // hop-by-hop, routing, fragment, AH, destination options
		default:
			h.TransportOffset = off
			return
		}
		if !h.fits(off, 8, TruncatedNetwork, flawExtension, int(next), off) {
			return
		}
		n := (int(pkt[off+1]) + 1) * 8 // in 8-byte units, less the first
		switch next {
		case 51:
			n = (int(pkt[off+1]) + 2) * 4 // AH: in 4-byte units, less two
		case 44:
			n = 8
			frag := binary.BigEndian.Uint16(pkt[off+2:])
			h.FragmentOffset, h.MoreFragments = int(frag&0xfff8), frag&1 != 0
		case 43:
			h.routed = h.routed || pkt[off+3] != 0
		}
		if !h.fits(off, n, TruncatedNetwork, flawExtension, int(next), off) {
			return
		}
		next, off = pkt[off], off+n
		if h.FragmentOffset != 0 {
			h.Protocol = next
			return
		}
	}
}

func (h *Headers) parseTransport(pkt []byte) {
	off := h.TransportOffset
	t := pkt[off:h.end()]
	seg := h.Length - off // what the IP header leaves the transport
	switch h.Protocol {
	case ProtoTCP, ProtoUDP:
		if len(t) >= 4 {
			h.has |= HeaderPorts
			h.SrcPort = binary.BigEndian.Uint16(t[0:])
			h.DstPort = binary.BigEndian.Uint16(t[2:])
		}
	case ProtoICMP, ProtoICMPv6:
		if len(t) >= 2 {
			h.has |= HeaderICMP
			h.ICMPType, h.ICMPCode = t[0], t[1]
		}
	}
	switch h.Protocol {
	case ProtoTCP:
		if len(t) >= 14 {
			h.has |= HeaderTCP
			h.Seq = binary.BigEndian.Uint32(t[4:])
			h.Ack = binary.BigEndian.Uint32(t[8:])
			h.TCPFlags = t[13]
		}
		if !h.fits(off, 20, TruncatedTransport, flawTCPShort, seg, 0) {
			return
		}
		dataOff := int(t[12]>>4) * 4
		if dataOff < 20 {
			h.malformed(flawTCPOffset, dataOff, seg)
			return
		}
		if h.fits(off, dataOff, TruncatedTransport, flawTCPOffset, dataOff, seg) {
			h.PayloadOffset = off + dataOff
		}
	case ProtoUDP:
		if !h.fits(off, 8, TruncatedTransport, flawUDPShort, seg, 0) {
			return
		}
		h.PayloadOffset = off + 8
		if l := int(binary.BigEndian.Uint16(t[4:])); l != seg && !h.noLength {
			h.malformed(flawUDPLength, l, seg)
		}
	case ProtoICMP, ProtoICMPv6:
		n := 8 // type, code, checksum and 4 bytes that every ICMP message has
		if h.Protocol == ProtoICMPv6 {
			n = 4 // type, code, checksum
		}
		if h.fits(off, n, TruncatedTransport, flawICMPShort, seg, n) {
			h.PayloadOffset = off + n
		}
	}
}
