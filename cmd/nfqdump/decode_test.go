package main

import (
	"encoding/binary"
	"net/netip"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// ip4 builds an IPv4 packet: a 20-byte header and l4.
func ip4(proto uint8, src, dst string, frag uint16, l4 []byte) []byte {
	b := make([]byte, 20, 20+len(l4))
	b[0] = 0x45
	binary.BigEndian.PutUint16(b[2:], uint16(20+len(l4)))
	binary.BigEndian.PutUint16(b[6:], frag)
	b[8], b[9] = 64, proto
	s, d := netip.MustParseAddr(src).As4(), netip.MustParseAddr(dst).As4()
	copy(b[12:], s[:])
	copy(b[16:], d[:])
	return append(b, l4...)
}

// ip6 builds an IPv6 packet: the fixed header and rest.
func ip6(next uint8, src, dst string, rest []byte) []byte {
	b := make([]byte, 40, 40+len(rest))
	b[0] = 0x60
	binary.BigEndian.PutUint16(b[4:], uint16(len(rest)))
	b[6], b[7] = next, 64
	s, d := netip.MustParseAddr(src).As16(), netip.MustParseAddr(dst).As16()
	copy(b[8:], s[:])
	copy(b[24:], d[:])
	return append(b, rest...)
}

// tcp builds a 20-byte TCP header.
func tcp(sport, dport uint16, flags uint8) []byte {
	b := make([]byte, 20)
	binary.BigEndian.PutUint16(b[0:], sport)
	binary.BigEndian.PutUint16(b[2:], dport)
	b[12], b[13] = 5<<4, flags
	return b
}

func udp(sport, dport uint16) []byte {
	b := make([]byte, 8)
	binary.BigEndian.PutUint16(b[0:], sport)
	binary.BigEndian.PutUint16(b[2:], dport)
	return b
}

func TestDecode(t *testing.T) {
	hopByHop := append([]byte{ipprotoUDP, 0, 0, 0, 0, 0, 0, 0}, udp(5353, 53)...)
	firstFragment := append([]byte{ipprotoTCP, 0, 0, 0, 0, 0, 0, 7}, tcp(1, 2, 0x02)...)
	laterFragment := []byte{ipprotoUDP, 0, 0x05, 0xa8, 0, 0, 0, 7, 1, 2, 3, 4}
	tests := []struct {
		name string
		in   []byte
		want headers
	}{
		{"tcp syn+ack", ip4(ipprotoTCP, "10.0.0.1", "10.0.0.2", 0x4000, tcp(443, 50000, 0x12)), headers{
			Proto: "TCP", Src: netip.MustParseAddr("10.0.0.1"), Dst: netip.MustParseAddr("10.0.0.2"),
			HasPorts: true, SrcPort: 443, DstPort: 50000, HasFlags: true, TCPFlags: 0x12}},
		{"udp", ip4(ipprotoUDP, "127.0.0.1", "127.0.0.2", 0, udp(40000, 9999)), headers{
			Proto: "UDP", Src: netip.MustParseAddr("127.0.0.1"), Dst: netip.MustParseAddr("127.0.0.2"),
			HasPorts: true, SrcPort: 40000, DstPort: 9999}},
		{"icmp echo", ip4(ipprotoICMP, "1.1.1.1", "2.2.2.2", 0, []byte{8, 0, 0, 0}), headers{
			Proto: "ICMP", Src: netip.MustParseAddr("1.1.1.1"), Dst: netip.MustParseAddr("2.2.2.2"),
			HasICMP: true, ICMPType: 8}},
		{"tcp cut before the flags keeps the ports", ip4(ipprotoTCP, "1.1.1.1", "2.2.2.2", 0, tcp(1, 2, 0x10)[:8]), headers{
			Proto: "TCP", Src: netip.MustParseAddr("1.1.1.1"), Dst: netip.MustParseAddr("2.2.2.2"),
			HasPorts: true, SrcPort: 1, DstPort: 2}},
		{"ipv4 later fragment", ip4(ipprotoUDP, "1.1.1.1", "2.2.2.2", 185, []byte{1, 2, 3, 4}), headers{
			Proto: "UDP", Src: netip.MustParseAddr("1.1.1.1"), Dst: netip.MustParseAddr("2.2.2.2")}},
		{"other protocol", ip4(47, "1.1.1.1", "2.2.2.2", 0, nil), headers{
			Proto: "proto(47)", Src: netip.MustParseAddr("1.1.1.1"), Dst: netip.MustParseAddr("2.2.2.2")}},
		{"icmpv6", ip6(ipprotoICMPv6, "fe80::1", "ff02::1", []byte{128, 0, 0, 0}), headers{
			Proto: "ICMPv6", Src: netip.MustParseAddr("fe80::1"), Dst: netip.MustParseAddr("ff02::1"),
			HasICMP: true, ICMPType: 128}},
		{"ipv6 after hop-by-hop", ip6(ipprotoHopOpts, "::1", "::1", hopByHop), headers{
			Proto: "UDP", Src: netip.MustParseAddr("::1"), Dst: netip.MustParseAddr("::1"),
			HasPorts: true, SrcPort: 5353, DstPort: 53}},
		{"ipv6 first fragment", ip6(ipprotoFragment, "::1", "::2", firstFragment), headers{
			Proto: "TCP", Src: netip.MustParseAddr("::1"), Dst: netip.MustParseAddr("::2"),
			HasPorts: true, SrcPort: 1, DstPort: 2, HasFlags: true, TCPFlags: 0x02}},
		{"ipv6 later fragment", ip6(ipprotoFragment, "::1", "::2", laterFragment), headers{
			Proto: "UDP", Src: netip.MustParseAddr("::1"), Dst: netip.MustParseAddr("::2")}},
		{"ipv6 extension header cut", ip6(ipprotoDstOpts, "::1", "::2", []byte{ipprotoUDP, 1, 0, 0}), headers{
			Proto: "proto(60)", Src: netip.MustParseAddr("::1"), Dst: netip.MustParseAddr("::2")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := decode(tt.in)
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestDecodeRefusesWhatIsNotIP(t *testing.T) {
	shortIHL := ip4(ipprotoUDP, "1.1.1.1", "2.2.2.2", 0, nil)
	shortIHL[0] = 0x44
	longIHL := ip4(ipprotoUDP, "1.1.1.1", "2.2.2.2", 0, nil)
	longIHL[0] = 0x4f
	for name, in := range map[string][]byte{
		"empty":                 nil,
		"ipv4 cut":              {0x45, 0, 0, 20},
		"ipv4 ihl under 20":     shortIHL,
		"ipv4 ihl past the end": longIHL,
		"ipv6 cut":              ip6(ipprotoUDP, "::1", "::1", nil)[:39],
		"version 2":             {0x20, 0, 0, 0},
	} {
		_, err := decode(in)
		assert.Error(t, err, name)
	}
}

func TestTCPFlags(t *testing.T) {
	assert.Equal(t, "S", tcpFlags(0x02))
	assert.Equal(t, "SA", tcpFlags(0x12))
	assert.Equal(t, "FPA", tcpFlags(0x19))
	assert.Equal(t, "FSRPAUEC", tcpFlags(0xff))
	assert.Equal(t, "none", tcpFlags(0))
}
