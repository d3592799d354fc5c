package nfq_test

import (
	"encoding/binary"
	"net/netip"
	"testing"

	"github.com/nfq-go/nfq"
	"github.com/nfq-go/nfq/internal/lab"
	"github.com/stretchr/testify/require"
)

// ext6 is an IPv6 extension header for testPacket and ipPacket: its type
// and its bytes (the next-header byte is filled in by ipPacket).
type ext6 struct {
	typ  uint8
	body []byte
}

var (
	// hopByHop has length byte 0, on which libnetfilter_queue 1.0.5's own
	// extension header walk loops forever: MangleTransport must not hang.
	hopByHop = ext6{0, []byte{0, 0, 1, 4, 0, 0, 0, 0}}
	destOpts = ext6{60, []byte{0, 1, 1, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}}
	atomFrag = ext6{44, []byte{0, 0, 0, 0, 0, 0, 0, 7}} // offset 0, M 0: a whole datagram
)

// packetKind is one shape of test packet.
type packetKind struct {
	name    string
	version int
	proto   uint8
	opts    []byte
	ext     []ext6
	l4      int // where the transport header starts
}

func packetKinds() []packetKind {
	var kinds []packetKind
	for _, proto := range []uint8{nfq.ProtoTCP, nfq.ProtoUDP} {
		p := map[uint8]string{nfq.ProtoTCP: "TCP", nfq.ProtoUDP: "UDP"}[proto]
		kinds = append(kinds,
			packetKind{name: "IPv4/" + p, version: 4, proto: proto, l4: 20},
			packetKind{name: "IPv4 options/" + p, version: 4, proto: proto, opts: []byte{1, 1, 1, 0}, l4: 24},
			packetKind{name: "IPv6/" + p, version: 6, proto: proto, l4: 40},
			packetKind{name: "IPv6 hop-by-hop+dest/" + p, version: 6, proto: proto, ext: []ext6{hopByHop, destOpts}, l4: 64},
			packetKind{name: "IPv6 atomic fragment/" + p, version: 6, proto: proto, ext: []ext6{atomFrag}, l4: 48},
		)
	}
	return kinds
}

func (k packetKind) build(payload string) []byte {
	return testPacket(k.version, k.proto, payload, k.opts, k.ext...)
}

// testPacket builds a valid IPv4 or IPv6 packet with a TCP or UDP header
// and payload, checksums included. opts are IPv4 options (a multiple of 4
// bytes); ext are IPv6 extension headers.
func testPacket(version int, proto uint8, payload string, opts []byte, ext ...ext6) []byte {
	var seg []byte
	if proto == nfq.ProtoTCP {
		seg = make([]byte, 20)
		binary.BigEndian.PutUint16(seg[0:], 40000)
		binary.BigEndian.PutUint16(seg[2:], 80)
		binary.BigEndian.PutUint32(seg[4:], 0xfffffff0) // near the wrap
		binary.BigEndian.PutUint32(seg[8:], 1000)
		seg[12], seg[13] = 5<<4, nfq.TCPAck|nfq.TCPPsh
		binary.BigEndian.PutUint16(seg[14:], 65535)
	} else {
		seg = make([]byte, 8)
		binary.BigEndian.PutUint16(seg[0:], 40000)
		binary.BigEndian.PutUint16(seg[2:], 53)
		binary.BigEndian.PutUint16(seg[4:], uint16(8+len(payload)))
	}
	b, l4 := ipPacket(version, proto, opts, append(seg, payload...), ext...)
	at := l4 + 16
	if proto == nfq.ProtoUDP {
		at = l4 + 6
	}
	sum := ^lab.Checksum(b[l4:], pseudoSum(b, proto, len(b)-l4))
	if sum == 0 && proto == nfq.ProtoUDP {
		sum = 0xffff
	}
	binary.BigEndian.PutUint16(b[at:], sum)
	return b
}

// ipPacket builds an IPv4 or IPv6 packet of protocol proto around seg (its
// transport header and payload), with its lengths and IPv4 header checksum
// right, and returns it with the offset of seg.
func ipPacket(version int, proto uint8, opts, seg []byte, ext ...ext6) ([]byte, int) {
	var b []byte
	if version == 4 {
		b = make([]byte, 20, 128)
		b[0] = 0x40 | byte(5+len(opts)/4)
		b[8], b[9] = 64, proto
		binary.BigEndian.PutUint16(b[4:], 0x1234)
		binary.BigEndian.PutUint16(b[6:], 0x4000) // DF
		s, d := netip.MustParseAddr("10.1.2.3").As4(), netip.MustParseAddr("192.168.7.9").As4()
		copy(b[12:], s[:])
		copy(b[16:], d[:])
		b = append(b, opts...)
	} else {
		b = make([]byte, 40, 160)
		b[0], b[7] = 0x60, 64
		s, d := netip.MustParseAddr("2001:db8::1").As16(), netip.MustParseAddr("2001:db8:ff::2").As16()
		copy(b[8:], s[:])
		copy(b[24:], d[:])
		next := 6
		for _, e := range ext {
			b[next] = e.typ
			next = len(b)
			b = append(b, e.body...)
		}
		b[next] = proto
	}
	l4 := len(b)
	b = append(b, seg...)
	if version == 4 {
		binary.BigEndian.PutUint16(b[2:], uint16(len(b)))
		binary.BigEndian.PutUint16(b[10:], ^lab.Checksum(b[:l4], 0))
	} else {
		binary.BigEndian.PutUint16(b[4:], uint16(len(b)-40))
	}
	return b, l4
}

// pseudoSum is the ones' complement sum of the pseudo-header of a transport
// segment of length l in IP packet b.
func pseudoSum(b []byte, proto uint8, l int) uint32 {
	var s uint32
	if b[0]>>4 == 4 {
		s = uint32(lab.Checksum(b[12:20], 0))
	} else {
		s = uint32(lab.Checksum(b[8:40], 0))
	}
	return s + uint32(proto) + uint32(l)
}

// checkPacket verifies pkt the way a receiving stack does, without the
// package's code: lengths agree and every checksum sums to 0xffff. It
// returns the transport payload.
func checkPacket(t *testing.T, pkt []byte, l4 int) []byte {
	t.Helper()
	var proto uint8
	if pkt[0]>>4 == 4 {
		require.Equal(t, len(pkt), int(binary.BigEndian.Uint16(pkt[2:])), "IPv4 total length")
		require.Equal(t, uint16(0xffff), lab.Checksum(pkt[:int(pkt[0]&0xf)*4], 0), "IPv4 header checksum")
		proto = pkt[9]
	} else {
		require.Equal(t, len(pkt)-40, int(binary.BigEndian.Uint16(pkt[4:])), "IPv6 payload length")
		proto = transportType(pkt)
	}
	seg := pkt[l4:]
	if proto == nfq.ProtoUDP {
		require.Equal(t, len(seg), int(binary.BigEndian.Uint16(seg[4:])), "UDP length")
		if pkt[0]>>4 == 4 && binary.BigEndian.Uint16(seg[6:]) == 0 {
			return seg[8:] // sent without a checksum
		}
		require.NotZero(t, binary.BigEndian.Uint16(seg[6:]), "a computed UDP checksum is never sent as 0")
		require.Equal(t, uint16(0xffff), lab.Checksum(seg, pseudoSum(pkt, proto, len(seg))), "UDP checksum")
		return seg[8:]
	}
	require.Equal(t, uint16(0xffff), lab.Checksum(seg, pseudoSum(pkt, proto, len(seg))), "TCP checksum")
	return seg[int(seg[12]>>4)*4:]
}

// transportType follows the IPv6 extension header chain of a test packet
// (each built by testPacket with 8-byte-unit lengths, or AH).
func transportType(pkt []byte) uint8 {
	next, off := pkt[6], 40
	for next == 0 || next == 43 || next == 44 || next == 60 || next == 51 {
		l := (int(pkt[off+1]) + 1) * 8
		if next == 51 {
			l = (int(pkt[off+1]) + 2) * 4
		}
		if next == 44 {
			l = 8
		}
		next, off = pkt[off], off+l
	}
	return next
}
