//go:build linux && cgo

package nfq_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"testing"

	"github.com/nfq-go/nfq"
	"github.com/nfq-go/nfq/internal/lab"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseHeaders(t *testing.T) {
	for _, k := range packetKinds() {
		t.Run(k.name, func(t *testing.T) {
			pkt := k.build("hello world")
			h := nfq.ParseHeaders(pkt)
			require.NoError(t, h.CheckRewritable())
			assert.Equal(t, k.version, h.Version)
			assert.Equal(t, k.proto, h.Protocol)
			assert.Equal(t, len(pkt), h.Length)
			assert.Equal(t, k.l4, h.TransportOffset)
			if k.version == 4 {
				assert.Equal(t, netip.MustParseAddr("10.1.2.3"), h.Src)
				assert.Equal(t, netip.MustParseAddr("192.168.7.9"), h.Dst)
			} else {
				assert.Equal(t, netip.MustParseAddr("2001:db8::1"), h.Src)
				assert.Equal(t, netip.MustParseAddr("2001:db8:ff::2"), h.Dst)
			}
			assert.Equal(t, uint16(40000), h.SrcPort)
			if k.proto == nfq.ProtoTCP {
				assert.Equal(t, uint16(80), h.DstPort)
				assert.Equal(t, k.l4+20, h.PayloadOffset)
				assert.Equal(t, uint32(0xfffffff0), h.Seq)
				assert.Equal(t, uint32(1000), h.Ack)
				assert.Equal(t, nfq.TCPAck|nfq.TCPPsh, h.TCPFlags)
			} else {
				assert.Equal(t, uint16(53), h.DstPort)
				assert.Equal(t, k.l4+8, h.PayloadOffset)
				assert.Zero(t, h.Seq)
			}
			assert.Equal(t, "hello world", string(h.Payload(pkt)))
		})
	}
}

func TestMangleTransport(t *testing.T) {
	const in = "say hello world"
	cases := []struct {
		name   string
		off, n int
		rep    string
		want   string
	}{
		{"same length", 4, 5, "HOWDY", "say HOWDY world"},
		{"longer", 4, 5, "good morning", "say good morning world"},
		{"shorter", 4, 5, "yo", "say yo world"},
		{"odd growth", 0, 0, "!", "!say hello world"},
		{"delete", 3, 6, "", "say world"},
		{"at the end", 15, 0, " again", "say hello world again"},
		{"all of it", 0, 15, "x", "x"},
		{"to nothing", 0, 15, "", ""},
	}
	for _, k := range packetKinds() {
		for _, c := range cases {
			t.Run(k.name+"/"+c.name, func(t *testing.T) {
				pkt := k.build(in)
				orig := bytes.Clone(pkt)
				out, err := nfq.MangleTransport(pkt, c.off, c.n, []byte(c.rep))
				require.NoError(t, err)
				assert.Equal(t, orig, pkt, "the input is not modified")
				assert.Equal(t, c.want, string(checkPacket(t, out, k.l4)))
				assert.Equal(t, len(orig)-c.n+len(c.rep), len(out))
				assert.Equal(t, orig[:k.l4][12:], out[:k.l4][12:], "addresses and extension headers kept")
				h := nfq.ParseHeaders(out)
				require.NoError(t, h.CheckRewritable())
				assert.Equal(t, c.want, string(h.Payload(out)))
			})
		}
	}
}

// zeroSumPacket returns a UDP packet whose payload is prefix plus two bytes
// chosen so that its correctly computed UDP checksum is 0, and whose
// checksum field holds garbage.
func zeroSumPacket(version int, prefix string) []byte {
	pkt := testPacket(version, nfq.ProtoUDP, prefix+"\x00\x00", nil)
	l4 := 20
	if version == 6 {
		l4 = 40
	}
	seg := pkt[l4:]
	binary.BigEndian.PutUint16(seg[6:], 0)
	s := lab.Checksum(seg, pseudoSum(pkt, nfq.ProtoUDP, len(seg)))
	binary.BigEndian.PutUint16(seg[len(seg)-2:], ^s) // the sum becomes 0xffff, its complement 0
	binary.BigEndian.PutUint16(seg[6:], 0x1234)
	return pkt
}

func TestUDPChecksumZeroRules(t *testing.T) {
	for _, version := range []int{4, 6} {
		l4 := map[int]int{4: 20, 6: 40}[version]
		t.Run(fmt.Sprintf("IPv%d computed 0 is sent as 0xffff", version), func(t *testing.T) {
			pkt := zeroSumPacket(version, "even")
			require.NoError(t, nfq.FixChecksums(pkt))
			assert.Equal(t, uint16(0xffff), binary.BigEndian.Uint16(pkt[l4+6:]))
			checkPacket(t, pkt, l4)

			want := zeroSumPacket(version, "EVEN")
			from := bytes.Clone(want)
			copy(from[l4+8:], "even")
			out, err := nfq.MangleTransport(from, 0, 4, []byte("EVEN"))
			require.NoError(t, err)
			assert.Equal(t, uint16(0xffff), binary.BigEndian.Uint16(out[l4+6:]))
			checkPacket(t, out, l4)
		})
	}
	t.Run("IPv4 datagram without checksum keeps none", func(t *testing.T) {
		pkt := testPacket(4, nfq.ProtoUDP, "hello", nil)
		binary.BigEndian.PutUint16(pkt[26:], 0)
		out, err := nfq.MangleTransport(pkt, 0, 5, []byte("bye"))
		require.NoError(t, err)
		assert.Zero(t, binary.BigEndian.Uint16(out[26:]))
		assert.Equal(t, "bye", string(checkPacket(t, out, 20)))
		require.NoError(t, nfq.FixChecksums(pkt))
		assert.Zero(t, binary.BigEndian.Uint16(pkt[26:]))
	})
	t.Run("IPv6 datagram with checksum 0 gets one", func(t *testing.T) {
		pkt := testPacket(6, nfq.ProtoUDP, "hello", nil)
		binary.BigEndian.PutUint16(pkt[46:], 0)
		out, err := nfq.MangleTransport(pkt, 0, 5, []byte("bye"))
		require.NoError(t, err)
		assert.Equal(t, "bye", string(checkPacket(t, out, 40)))
	})
}

func TestFixChecksums(t *testing.T) {
	for _, k := range packetKinds() {
		t.Run(k.name, func(t *testing.T) {
			pkt := k.build("hello world")
			pkt[8] = 17                                  // IPv4 TTL / IPv6 source address
			copy(pkt[len(pkt)-5:], "WORLD")              // payload
			binary.BigEndian.PutUint16(pkt[k.l4:], 4242) // source port
			require.NoError(t, nfq.FixChecksums(pkt))
			assert.Equal(t, "hello WORLD", string(checkPacket(t, pkt, k.l4)))
		})
	}
}

func TestAdjustTCPSeq(t *testing.T) {
	for _, k := range packetKinds() {
		if k.proto != nfq.ProtoTCP {
			continue
		}
		t.Run(k.name, func(t *testing.T) {
			pkt := k.build("data")
			require.NoError(t, nfq.AdjustTCPSeq(pkt, 0x20, -7))
			h := nfq.ParseHeaders(pkt)
			require.NoError(t, h.CheckRewritable())
			assert.Equal(t, uint32(0x10), h.Seq, "wraps modulo 2^32")
			assert.Equal(t, uint32(993), h.Ack)
			checkPacket(t, pkt, k.l4)

			pkt[k.l4+13] &^= nfq.TCPAck
			require.NoError(t, nfq.FixChecksums(pkt))
			require.NoError(t, nfq.AdjustTCPSeq(pkt, -0x20, -7))
			h = nfq.ParseHeaders(pkt)
			require.NoError(t, h.CheckRewritable())
			assert.Equal(t, uint32(0xfffffff0), h.Seq)
			assert.Equal(t, uint32(993), h.Ack, "no ACK flag: the ack field means nothing and stays")
			checkPacket(t, pkt, k.l4)
		})
	}
	err := nfq.AdjustTCPSeq(testPacket(4, nfq.ProtoUDP, "x", nil), 1, 1)
	assert.ErrorIs(t, err, nfq.ErrUnsupportedProtocol)
}

func TestRewriteErrors(t *testing.T) {
	v4 := func(edit func(b []byte) []byte) []byte { return edit(testPacket(4, nfq.ProtoUDP, "hello", nil)) }
	tcp4 := func(edit func(b []byte) []byte) []byte { return edit(testPacket(4, nfq.ProtoTCP, "hello", nil)) }
	v6 := func(edit func(b []byte) []byte, ext ...ext6) []byte {
		return edit(testPacket(6, nfq.ProtoTCP, "hello", nil, ext...))
	}
	same := func(b []byte) []byte { return b }
	set := func(at int, v ...byte) func(b []byte) []byte {
		return func(b []byte) []byte { copy(b[at:], v); return b }
	}
	bad := []struct {
		name string
		pkt  []byte
		want error
		text string
	}{
		{"empty", nil, nfq.ErrNotIP, "empty packet"},
		{"version 5", v4(set(0, 0x55)), nfq.ErrNotIP, "IP version 5"},
		{"IPv4 cut by the copy range", v4(func(b []byte) []byte { return b[:30] }), nfq.ErrTruncated, "Config.CopyRange"},
		{"IPv6 cut by the copy range", v6(func(b []byte) []byte { return b[:50] }), nfq.ErrTruncated, "have 50 of the 65 bytes"},
		{"IPv4 header cut", v4(func(b []byte) []byte { return b[:12] }), nfq.ErrTruncated, "IPv4 header needs 20"},
		{"IPv4 more fragments", v4(set(6, 0x20, 0)), nfq.ErrFragment, "more fragments true"},
		{"IPv4 later fragment", v4(set(6, 0, 3)), nfq.ErrFragment, "offset 24"},
		{"IPv6 fragment", v6(same, ext6{44, []byte{0, 0, 0, 1, 0, 0, 0, 9}}), nfq.ErrFragment, "IPv6 fragment"},
		{"ICMP", v4(set(9, 1)), nfq.ErrUnsupportedProtocol, "IP protocol 1"},
		{"IPv6 no next header", v6(set(6, 59)), nfq.ErrUnsupportedProtocol, "IP protocol 59"},
		{"IPv6 routing with segments left", v6(same, ext6{43, []byte{0, 0, 0, 1, 0, 0, 0, 0}}), nfq.ErrUnsupportedProtocol, "routing header"},
		{"IPv6 extension past the end", v6(set(6, 60)), nfq.ErrMalformedPacket, "runs past the packet"},
		{"IPv4 header length 4", v4(set(0, 0x44)), nfq.ErrMalformedPacket, "IPv4 header length 16"},
		{"trailing bytes", v4(func(b []byte) []byte { return append(b, 0, 0) }), nfq.ErrMalformedPacket, "2 bytes after"},
		{"UDP length wrong", v4(set(24, 0, 9)), nfq.ErrMalformedPacket, "UDP length 9"},
		{"TCP data offset too big", tcp4(set(32, 0xf0)), nfq.ErrMalformedPacket, "TCP data offset 60"},
	}
	for _, c := range bad {
		t.Run(c.name, func(t *testing.T) {
			_, err := nfq.MangleTransport(c.pkt, 0, 0, []byte("x"))
			require.ErrorIs(t, err, c.want)
			var pe *nfq.PacketError
			require.True(t, errors.As(err, &pe))
			assert.Equal(t, "mangle transport payload", pe.Op)
			assert.Contains(t, err.Error(), c.text)
			assert.ErrorIs(t, nfq.FixChecksums(bytes.Clone(c.pkt)), c.want)
			assert.ErrorIs(t, nfq.AdjustTCPSeq(bytes.Clone(c.pkt), 1, 1), c.want)
			err = nfq.ParseHeaders(c.pkt).CheckRewritable()
			require.ErrorIs(t, err, c.want)
			require.True(t, errors.As(err, &pe))
			assert.Equal(t, "check headers", pe.Op)
			assert.Contains(t, err.Error(), c.text)
		})
	}

	pkt := testPacket(4, nfq.ProtoUDP, "hello", nil)
	for _, r := range [][2]int{{-1, 0}, {0, -1}, {6, 0}, {3, 3}, {0, 6}} {
		_, err := nfq.MangleTransport(pkt, r[0], r[1], nil)
		assert.ErrorIs(t, err, nfq.ErrOutOfRange, "off %d n %d", r[0], r[1])
	}
	_, err := nfq.MangleTransport(pkt, 0, 5, make([]byte, nfq.MaxPayloadLen-28+1))
	assert.ErrorIs(t, err, nfq.ErrPayloadTooLarge)
	out, err := nfq.MangleTransport(pkt, 0, 5, make([]byte, nfq.MaxPayloadLen-28))
	require.NoError(t, err, "the largest payload the kernel takes")
	assert.Len(t, out, nfq.MaxPayloadLen)
	checkPacket(t, out, 20)
}
