package nfq_test

import (
	"encoding/binary"
	"strings"
	"testing"

	"github.com/nfq-go/nfq"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var (
	// ah is an authentication header of 24 bytes: its length byte counts
	// 4-byte units less two.
	ah = ext6{51, []byte{0, 4, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}}
	// routing0 is a routing header with no segments left.
	routing0 = ext6{43, []byte{0, 0, 4, 0, 0, 0, 0, 0}}
)

// icmpPacket builds an ICMP (version 4) or ICMPv6 echo request.
func icmpPacket(version int) []byte {
	proto, typ := nfq.ProtoICMP, byte(8)
	if version == 6 {
		proto, typ = nfq.ProtoICMPv6, 128
	}
	b, _ := ipPacket(version, proto, nil, []byte{typ, 0, 0, 0, 0x12, 0x34, 0, 1, 'p', 'i', 'n', 'g'})
	return b
}

// otherPacket builds a packet of protocol proto with 4 bytes after the
// network headers.
func otherPacket(version int, proto uint8, ext ...ext6) []byte {
	b, _ := ipPacket(version, proto, nil, []byte{0, 0, 8, 0}, ext...)
	return b
}

// fragment makes pkt, an IPv4 packet, a fragment at offset off (bytes).
func fragment(pkt []byte, off int, more bool) []byte {
	v := uint16(off / 8)
	if more {
		v |= 0x2000
	}
	binary.BigEndian.PutUint16(pkt[6:], v)
	return pkt
}

func TestParseHeadersFollowsTheChain(t *testing.T) {
	laterFrag6 := ext6{44, []byte{0, 0, 0x05, 0xa8, 0, 0, 0, 7}} // offset 1448
	firstFrag6 := ext6{44, []byte{0, 0, 0, 1, 0, 0, 0, 7}}       // offset 0, more
	cases := []struct {
		name      string
		pkt       []byte
		has       nfq.HeaderField
		proto     uint8
		transport int // TransportOffset
		payload   int // PayloadOffset
		fragOff   int
		more      bool
	}{
		{"IPv4 UDP", testPacket(4, nfq.ProtoUDP, "dns", nil), nfq.HeaderIP | nfq.HeaderPorts, nfq.ProtoUDP, 20, 28, 0, false},
		{"IPv4 options TCP", testPacket(4, nfq.ProtoTCP, "web", []byte{1, 1, 1, 0}),
			nfq.HeaderIP | nfq.HeaderPorts | nfq.HeaderTCP, nfq.ProtoTCP, 24, 44, 0, false},
		{"IPv4 first fragment", fragment(testPacket(4, nfq.ProtoUDP, "x", nil), 0, true),
			nfq.HeaderIP | nfq.HeaderPorts, nfq.ProtoUDP, 20, 28, 0, true},
		{"IPv4 later fragment", fragment(testPacket(4, nfq.ProtoUDP, "x", nil), 1480, false),
			nfq.HeaderIP, nfq.ProtoUDP, 0, 0, 1480, false},
		{"IPv4 ICMP", icmpPacket(4), nfq.HeaderIP | nfq.HeaderICMP, nfq.ProtoICMP, 20, 28, 0, false},
		{"IPv4 GRE", otherPacket(4, 47), nfq.HeaderIP, 47, 20, 0, 0, false},
		{"IPv6 ICMPv6", icmpPacket(6), nfq.HeaderIP | nfq.HeaderICMP, nfq.ProtoICMPv6, 40, 44, 0, false},
		{"IPv6 hop-by-hop, destination options", testPacket(6, nfq.ProtoUDP, "x", nil, hopByHop, destOpts),
			nfq.HeaderIP | nfq.HeaderPorts, nfq.ProtoUDP, 64, 72, 0, false},
		{"IPv6 AH", testPacket(6, nfq.ProtoTCP, "x", nil, ah), nfq.HeaderIP | nfq.HeaderPorts | nfq.HeaderTCP, nfq.ProtoTCP, 64, 84, 0, false},
		{"IPv6 routing, AH, destination options", testPacket(6, nfq.ProtoUDP, "x", nil, routing0, ah, destOpts),
			nfq.HeaderIP | nfq.HeaderPorts, nfq.ProtoUDP, 88, 96, 0, false},
		{"IPv6 atomic fragment", testPacket(6, nfq.ProtoUDP, "x", nil, atomFrag), nfq.HeaderIP | nfq.HeaderPorts, nfq.ProtoUDP, 48, 56, 0, false},
		{"IPv6 first fragment", testPacket(6, nfq.ProtoTCP, "x", nil, firstFrag6),
			nfq.HeaderIP | nfq.HeaderPorts | nfq.HeaderTCP, nfq.ProtoTCP, 48, 68, 0, true},
		{"IPv6 later fragment", testPacket(6, nfq.ProtoUDP, "x", nil, laterFrag6), nfq.HeaderIP, nfq.ProtoUDP, 0, 0, 1448, false},
		{"IPv6 later fragment of a chain", testPacket(6, nfq.ProtoUDP, "x", nil, laterFrag6, destOpts), nfq.HeaderIP, 60, 0, 0, 1448, false},
		{"IPv6 ESP", otherPacket(6, 50), nfq.HeaderIP, 50, 40, 0, 0, false},
		{"IPv6 no next header after destination options", otherPacket(6, 59, destOpts), nfq.HeaderIP, 59, 56, 0, 0, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := nfq.ParseHeaders(c.pkt)
			for _, f := range []nfq.HeaderField{nfq.HeaderIP, nfq.HeaderPorts, nfq.HeaderTCP, nfq.HeaderICMP} {
				assert.Equal(t, c.has&f != 0, h.Has(f), "Has(%d)", f)
			}
			assert.Equal(t, c.proto, h.Protocol)
			assert.Equal(t, c.transport, h.TransportOffset)
			assert.Equal(t, c.payload, h.PayloadOffset)
			assert.Equal(t, len(c.pkt), h.Length)
			assert.Equal(t, c.fragOff, h.FragmentOffset)
			assert.Equal(t, c.more, h.MoreFragments)
			assert.Equal(t, c.fragOff != 0 || c.more, h.IsFragment())
			assert.Equal(t, nfq.NotTruncated, h.Truncated)
			assert.False(t, h.Malformed)
			if h.Has(nfq.HeaderPorts) {
				assert.Equal(t, uint16(40000), h.SrcPort)
			}
			if h.Has(nfq.HeaderICMP) {
				assert.Contains(t, []uint8{8, 128}, h.ICMPType)
				assert.True(t, strings.HasSuffix(string(h.Payload(c.pkt)), "ping"))
			}
			if c.payload == 0 {
				assert.Nil(t, h.Payload(c.pkt))
			}
		})
	}
}

// Cutting a packet at every length gives the layer the cut is in, the
// fields whose bytes are left, and never a malformed packet.
func TestParseHeadersAtEveryCut(t *testing.T) {
	for _, k := range packetKinds() {
		t.Run(k.name, func(t *testing.T) {
			pkt := k.build("hello world")
			hdrEnd := k.l4 + 8
			if k.proto == nfq.ProtoTCP {
				hdrEnd = k.l4 + 20
			}
			fixed := map[int]int{4: 20, 6: 40}[k.version]
			for n := 0; n <= len(pkt); n++ {
				h := nfq.ParseHeaders(pkt[:n])
				assert.False(t, h.Malformed, "cut at %d", n)
				want := nfq.NotTruncated
				switch {
				case n == 0:
				case n < k.l4:
					want = nfq.TruncatedNetwork
				case n < hdrEnd:
					want = nfq.TruncatedTransport
				case n < len(pkt):
					want = nfq.TruncatedPayload
				}
				assert.Equal(t, want, h.Truncated, "cut at %d", n)
				assert.Equal(t, n >= fixed && (k.version == 6 || n >= k.l4), h.Has(nfq.HeaderIP), "cut at %d", n)
				assert.Equal(t, n >= k.l4+4, h.Has(nfq.HeaderPorts), "cut at %d", n)
				assert.Equal(t, k.proto == nfq.ProtoTCP && n >= k.l4+14, h.Has(nfq.HeaderTCP), "cut at %d", n)
				if n >= k.l4 {
					assert.Equal(t, k.l4, h.TransportOffset, "cut at %d", n)
					assert.Equal(t, k.proto, h.Protocol, "cut at %d", n)
				} else {
					assert.Zero(t, h.TransportOffset, "cut at %d", n)
				}
				if n >= hdrEnd {
					assert.Equal(t, "hello world"[:n-hdrEnd], string(h.Payload(pkt[:n])), "cut at %d", n)
				} else {
					assert.Zero(t, h.PayloadOffset, "cut at %d", n)
				}
				if n > 0 && n < len(pkt) {
					assert.ErrorIs(t, h.CheckRewritable(), nfq.ErrTruncated, "cut at %d", n)
				}
			}
		})
	}
}

func TestParseHeadersSaysWhatIsMalformed(t *testing.T) {
	set := func(b []byte, at int, v ...byte) []byte { copy(b[at:], v); return b }
	gso4 := set(testPacket(4, nfq.ProtoTCP, "big", nil), 2, 0, 0)
	cases := []struct {
		name      string
		pkt       []byte
		malformed bool
		has       nfq.HeaderField
		text      string // of CheckRewritable's error
	}{
		{"IPv4 header length 16", set(testPacket(4, nfq.ProtoUDP, "x", nil), 0, 0x44), true, 0, "IPv4 header length 16"},
		{"IPv4 total length short of the bytes", set(testPacket(4, nfq.ProtoUDP, "x", nil), 2, 0, 22), true,
			nfq.HeaderIP, "7 bytes after the 22 the IP header gives"},
		{"IPv4 header longer than the datagram", set(testPacket(4, nfq.ProtoUDP, "x", nil), 0, 0x46, 0, 0, 22), true,
			nfq.HeaderIP, "IPv4 header length 24, total length 22"},
		{"IPv4 options past the datagram", set(testPacket(4, nfq.ProtoUDP, "", nil), 0, 0x4f), true, 0, "IPv4 header length 60, total length 28"},
		{"extension header past the datagram", set(testPacket(6, nfq.ProtoTCP, "hello", nil), 6, 60), true, nfq.HeaderIP,
			"IPv6 extension header 60 at offset 40 runs past the packet"},
		{"TCP data offset 16", set(testPacket(4, nfq.ProtoTCP, "hello", nil), 32, 0x40), true,
			nfq.HeaderIP | nfq.HeaderPorts | nfq.HeaderTCP, "TCP data offset 16"},
		{"TCP header longer than the datagram", set(testPacket(4, nfq.ProtoTCP, "", nil), 2, 0, 30), true,
			nfq.HeaderIP | nfq.HeaderPorts, "bytes after"},
		{"UDP length wrong", set(testPacket(6, nfq.ProtoUDP, "hello", nil, destOpts), 60, 0, 99), true,
			nfq.HeaderIP | nfq.HeaderPorts, "UDP length 99, the IP header leaves 13"},
		{"bytes after the datagram", append(testPacket(6, nfq.ProtoUDP, "x", nil), 0, 0), true,
			nfq.HeaderIP | nfq.HeaderPorts, "2 bytes after the 49"},
		{"GSO: IPv4 total length 0", gso4, false, nfq.HeaderIP | nfq.HeaderPorts | nfq.HeaderTCP, "IPv4 total length 0"},
		{"version 5", set(testPacket(4, nfq.ProtoUDP, "x", nil), 0, 0x55), false, 0, "IP version 5"},
		{"empty", nil, false, 0, "empty packet"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := nfq.ParseHeaders(c.pkt)
			assert.Equal(t, c.malformed, h.Malformed)
			for _, f := range []nfq.HeaderField{nfq.HeaderIP, nfq.HeaderPorts, nfq.HeaderTCP, nfq.HeaderICMP} {
				assert.Equal(t, c.has&f != 0, h.Has(f), "Has(%d)", f)
			}
			assert.Equal(t, nfq.NotTruncated, h.Truncated)
			err := h.CheckRewritable()
			require.Error(t, err)
			assert.Contains(t, err.Error(), c.text)
			if c.malformed {
				assert.ErrorIs(t, err, nfq.ErrMalformedPacket)
			}
		})
	}
	h := nfq.ParseHeaders(gso4)
	assert.Equal(t, len(gso4), h.Length, "a GSO packet's length is its own")
	assert.Equal(t, "big", string(h.Payload(gso4)))
}

func TestParseHeadersFields(t *testing.T) {
	pkt := testPacket(6, nfq.ProtoTCP, "x", nil, hopByHop)
	pkt[48+13] = nfq.TCPSyn | nfq.TCPEce | nfq.TCPCwr
	h := nfq.ParseHeaders(pkt)
	assert.Equal(t, nfq.TCPSyn|nfq.TCPEce|nfq.TCPCwr, h.TCPFlags, "all eight flag bits")
	assert.Equal(t, uint16(80), h.DstPort)
	assert.Equal(t, "2001:db8::1", h.Src.String())
	assert.Equal(t, "2001:db8:ff::2", h.Dst.String())
	assert.Equal(t, 6, h.Version)
}

// headersSink keeps the compiler from dropping a ParseHeaders call.
var headersSink nfq.Headers

func TestParseHeadersAllocatesNothing(t *testing.T) {
	pkts := [][]byte{
		testPacket(4, nfq.ProtoTCP, "hello", []byte{1, 1, 1, 0}),
		testPacket(6, nfq.ProtoUDP, "hello", nil, hopByHop, ah, destOpts),
		testPacket(6, nfq.ProtoUDP, "hello", nil, hopByHop)[:50],
		icmpPacket(6),
		{0x45, 0, 0},
		nil,
	}
	for i, pkt := range pkts {
		allocs := testing.AllocsPerRun(100, func() { headersSink = nfq.ParseHeaders(pkt) })
		require.Zero(t, allocs, "packet %d: ParseHeaders allocated", i)
	}
	good := testPacket(6, nfq.ProtoTCP, "hello", nil, destOpts)
	allocs := testing.AllocsPerRun(100, func() {
		if nfq.ParseHeaders(good).CheckRewritable() != nil {
			panic("not rewritable")
		}
	})
	require.Zero(t, allocs, "CheckRewritable of a good packet allocated")
}

func TestTruncationString(t *testing.T) {
	assert.Equal(t, "truncated in the transport header", nfq.TruncatedTransport.String())
	assert.Equal(t, "Truncation(9)", nfq.Truncation(9).String())
}

func BenchmarkParseHeaders(b *testing.B) {
	pkt := testPacket(6, nfq.ProtoUDP, "hello", nil, hopByHop, destOpts)
	b.ReportAllocs()
	for b.Loop() {
		if h := nfq.ParseHeaders(pkt); !h.Has(nfq.HeaderPorts) {
			b.Fatal("no ports")
		}
	}
}
