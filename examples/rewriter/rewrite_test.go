//go:build linux && cgo

// The rewrite itself is libnetfilter_queue's (nfq.MangleTransport): these
// tests need a build with cgo.

package main

import (
	"encoding/binary"
	"net/netip"
	"testing"

	"github.com/nfq-go/nfq"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const protoUDP = 17

// udpChecksum computes the UDP checksum of the datagram at b[l3:], with the
// pseudo-header of its IP version, independently of the code under test;
// the checksum field must be zero or is ignored.
func udpChecksum(b []byte, l3 int) uint16 {
	udp := b[l3:]
	var pseudo uint32
	if b[0]>>4 == 4 {
		pseudo = uint32(sum(b[12:20], 0))
	} else {
		pseudo = uint32(sum(b[8:40], 0))
	}
	pseudo += protoUDP + uint32(len(udp))
	s := sum(udp[:6], pseudo)
	s = ^sum(udp[8:], uint32(s))
	if s == 0 {
		return 0xffff // 0 means "no checksum" in UDP
	}
	return s
}

// sum is the Internet checksum's ones' complement sum of b, added to acc.
func sum(b []byte, acc uint32) uint16 {
	for ; len(b) >= 2; b = b[2:] {
		acc += uint32(binary.BigEndian.Uint16(b))
	}
	if len(b) == 1 {
		acc += uint32(b[0]) << 8
	}
	for acc>>16 != 0 {
		acc = acc&0xffff + acc>>16
	}
	return uint16(acc)
}

// udp4 builds a valid IPv4/UDP datagram, checksums included.
func udp4(src, dst string, payload string) []byte {
	b := make([]byte, 28, 28+len(payload))
	b[0], b[8], b[9] = 0x45, 64, protoUDP
	binary.BigEndian.PutUint16(b[2:], uint16(28+len(payload)))
	binary.BigEndian.PutUint16(b[6:], 0x4000) // DF: not a fragment
	s, d := netip.MustParseAddr(src).As4(), netip.MustParseAddr(dst).As4()
	copy(b[12:], s[:])
	copy(b[16:], d[:])
	binary.BigEndian.PutUint16(b[20:], 40000)
	binary.BigEndian.PutUint16(b[22:], 9999)
	binary.BigEndian.PutUint16(b[24:], uint16(8+len(payload)))
	b = append(b, payload...)
	binary.BigEndian.PutUint16(b[10:], ^sum(b[:20], 0))
	binary.BigEndian.PutUint16(b[26:], udpChecksum(b, 20))
	return b
}

func udp6(src, dst string, payload string) []byte {
	b := make([]byte, 48, 48+len(payload))
	b[0], b[6], b[7] = 0x60, protoUDP, 64
	binary.BigEndian.PutUint16(b[4:], uint16(8+len(payload)))
	s, d := netip.MustParseAddr(src).As16(), netip.MustParseAddr(dst).As16()
	copy(b[8:], s[:])
	copy(b[24:], d[:])
	binary.BigEndian.PutUint16(b[40:], 40000)
	binary.BigEndian.PutUint16(b[42:], 9999)
	binary.BigEndian.PutUint16(b[44:], uint16(8+len(payload)))
	b = append(b, payload...)
	binary.BigEndian.PutUint16(b[46:], udpChecksum(b, 40))
	return b
}

// verify checks a datagram the way a receiver does: every checksum sums to
// 0xffff over its data including the checksum field, and lengths agree.
func verify(t *testing.T, b []byte) (payload string) {
	t.Helper()
	l3 := 40
	var pseudo uint32
	if b[0]>>4 == 4 {
		l3 = int(b[0]&0x0f) * 4
		require.Equal(t, len(b), int(binary.BigEndian.Uint16(b[2:])), "IPv4 total length")
		require.Equal(t, uint16(0xffff), sum(b[:l3], 0), "IPv4 header checksum")
		pseudo = uint32(sum(b[12:20], 0))
	} else {
		require.Equal(t, len(b)-40, int(binary.BigEndian.Uint16(b[4:])), "IPv6 payload length")
		pseudo = uint32(sum(b[8:40], 0))
	}
	udp := b[l3:]
	require.Equal(t, len(udp), int(binary.BigEndian.Uint16(udp[4:])), "UDP length")
	pseudo += protoUDP + uint32(len(udp))
	require.Equal(t, uint16(0xffff), sum(udp, pseudo), "UDP checksum")
	return string(udp[8:])
}

func TestRewriteFixesLengthsAndChecksums(t *testing.T) {
	tests := []struct {
		name, in, from, to, want string
		n                        int
	}{
		{"same length", "say hello world", "hello", "HOWDY", "say HOWDY world", 1},
		{"longer", "hello hello", "hello", "good morning", "good morning good morning", 2},
		{"shorter", "a hello!", "hello", "yo", "a yo!", 1},
		{"to nothing", "hellohello", "hello", "", "", 2},
		{"odd length", "hello", "hello", "hey", "hey", 1},
	}
	for _, tt := range tests {
		for _, family := range []string{"IPv4", "IPv6"} {
			t.Run(tt.name+" "+family, func(t *testing.T) {
				in := udp4("127.0.0.1", "10.1.2.3", tt.in)
				if family == "IPv6" {
					in = udp6("::1", "2001:db8::5", tt.in)
				}
				verify(t, in)
				out, n, err := rewriteUDP(in, []byte(tt.from), []byte(tt.to))
				require.NoError(t, err)
				assert.Equal(t, tt.n, n)
				assert.Equal(t, tt.want, verify(t, out))
			})
		}
	}
}

func TestRewriteLeavesOtherPacketsAlone(t *testing.T) {
	whole := udp4("1.1.1.1", "2.2.2.2", "hello")
	fragment := append([]byte(nil), whole...)
	binary.BigEndian.PutUint16(fragment[6:], 0x2000) // more fragments
	tcp := append([]byte(nil), whole...)
	tcp[9] = 6
	withExtension := udp6("::1", "::2", "hello")
	withExtension[6] = 60 // destination options first
	for name, b := range map[string][]byte{
		"no match":                 udp4("1.1.1.1", "2.2.2.2", "goodbye"),
		"fragment":                 fragment,
		"cut by the copy range":    whole[:len(whole)-2],
		"not UDP":                  tcp,
		"IPv6 extension header":    withExtension,
		"not IP":                   {0x10, 0, 0, 0},
		"UDP header cut":           whole[:24],
		"IPv4 header length wrong": append([]byte{0x44}, whole[1:]...),
	} {
		out, n, err := rewriteUDP(b, []byte("hello"), []byte("HELLO"))
		assert.NoError(t, err, name)
		assert.Zero(t, n, name)
		assert.Nil(t, out, name)
	}
}

func TestRewriteRefusesOversizedResult(t *testing.T) {
	in := udp4("1.1.1.1", "2.2.2.2", "xx")
	big := make([]byte, 0xffff)
	_, _, err := rewriteUDP(in, []byte("x"), big)
	assert.ErrorIs(t, err, nfq.ErrPayloadTooLarge)
}

func TestRewriteKeepsAbsentIPv4Checksum(t *testing.T) {
	in := udp4("1.1.1.1", "2.2.2.2", "hello")
	binary.BigEndian.PutUint16(in[26:], 0) // sender sent none
	out, _, err := rewriteUDP(in, []byte("hello"), []byte("bye"))
	require.NoError(t, err)
	assert.Zero(t, binary.BigEndian.Uint16(out[26:]))
	assert.Equal(t, "bye", string(out[28:]))
}
