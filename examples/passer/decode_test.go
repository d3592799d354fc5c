package main

import (
	"encoding/binary"
	"net/netip"
	"testing"

	"github.com/nfq-go/nfq"
)

// ipv4 builds an IPv4 header (no options) followed by l4.
func ipv4(proto uint8, src, dst string, fragOff uint16, l4 []byte) []byte {
	b := make([]byte, 20, 20+len(l4))
	b[0] = 0x45
	binary.BigEndian.PutUint16(b[2:], uint16(20+len(l4)))
	binary.BigEndian.PutUint16(b[6:], fragOff)
	b[8] = 64
	b[9] = proto
	s, d := netip.MustParseAddr(src).As4(), netip.MustParseAddr(dst).As4()
	copy(b[12:], s[:])
	copy(b[16:], d[:])
	return append(b, l4...)
}

// ipv6 builds an IPv6 header followed by rest (extension headers and l4).
func ipv6(next uint8, src, dst string, rest []byte) []byte {
	b := make([]byte, 40, 40+len(rest))
	b[0] = 0x60
	binary.BigEndian.PutUint16(b[4:], uint16(len(rest)))
	b[6] = next
	b[7] = 64
	s, d := netip.MustParseAddr(src).As16(), netip.MustParseAddr(dst).As16()
	copy(b[8:], s[:])
	copy(b[24:], d[:])
	return append(b, rest...)
}

func ports(src, dst uint16, n int) []byte {
	b := make([]byte, n)
	binary.BigEndian.PutUint16(b[0:], src)
	binary.BigEndian.PutUint16(b[2:], dst)
	return b
}

// IP protocol numbers, for building test packets.
const (
	protoHopByHop = 0
	protoICMP     = 1
	protoTCP      = 6
	protoUDP      = 17
	protoFragment = 44
	protoICMPv6   = 58
	protoDestOpts = 60
)

func TestDescribe(t *testing.T) {
	hopByHop := append([]byte{protoUDP, 0, 0, 0, 0, 0, 0, 0}, ports(5353, 53, 8)...)
	destOpts := append([]byte{protoUDP, 0, 1, 4, 0, 0, 0, 0}, ports(40000, 53, 8)...)
	fragment := append([]byte{protoTCP, 0, 0, 0, 0, 0, 0, 1}, ports(1, 2, 20)...)
	laterFragment := []byte{protoUDP, 0, 0x05, 0xa8, 0, 0, 0, 1, 0xff, 0xff, 0xff, 0xff}
	badIHL := ipv4(protoUDP, "1.2.3.4", "5.6.7.8", 0, nil)
	badIHL[0] = 0x44

	tests := []struct {
		name string
		in   []byte
		want string
	}{
		{"icmp echo", ipv4(protoICMP, "127.0.0.1", "127.0.0.1", 0, []byte{8, 0, 0, 0, 0, 1, 0, 1}),
			"ICMP 127.0.0.1 -> 127.0.0.1 type 8 code 0"},
		{"udp", ipv4(protoUDP, "127.0.0.1", "127.0.0.2", 0, ports(40000, 9999, 8)),
			"UDP 127.0.0.1:40000 -> 127.0.0.2:9999"},
		{"tcp", ipv4(protoTCP, "10.0.0.1", "10.0.0.2", 0x4000, ports(443, 51000, 20)),
			"TCP 10.0.0.1:443 -> 10.0.0.2:51000"},
		{"ipv4 later fragment has no ports", ipv4(protoUDP, "1.2.3.4", "5.6.7.8", 185, []byte{1, 2, 3, 4}),
			"UDP 1.2.3.4 -> 5.6.7.8"},
		{"ipv4 transport cut by the copy range", ipv4(protoTCP, "1.2.3.4", "5.6.7.8", 0, ports(1, 2, 20))[:22],
			"TCP 1.2.3.4 -> 5.6.7.8"},
		{"other protocol", ipv4(47, "1.2.3.4", "5.6.7.8", 0, []byte{0, 0, 8, 0}),
			"other(47) 1.2.3.4 -> 5.6.7.8"},
		{"ipv6 udp", ipv6(protoUDP, "::1", "::1", ports(1234, 9999, 8)),
			"UDP [::1]:1234 -> [::1]:9999"},
		{"icmpv6 echo", ipv6(protoICMPv6, "fe80::1", "ff02::1", []byte{128, 0, 0, 0}),
			"ICMPv6 fe80::1 -> ff02::1 type 128 code 0"},
		{"ipv6 after hop-by-hop", ipv6(protoHopByHop, "2001:db8::1", "2001:db8::2", hopByHop),
			"UDP [2001:db8::1]:5353 -> [2001:db8::2]:53"},
		{"ipv6 after destination options", ipv6(protoDestOpts, "2001:db8::1", "2001:db8::2", destOpts),
			"UDP [2001:db8::1]:40000 -> [2001:db8::2]:53"},
		{"ipv6 first fragment", ipv6(protoFragment, "2001:db8::1", "2001:db8::2", fragment),
			"TCP [2001:db8::1]:1 -> [2001:db8::2]:2"},
		{"ipv6 later fragment has no ports", ipv6(protoFragment, "2001:db8::1", "2001:db8::2", laterFragment),
			"UDP 2001:db8::1 -> 2001:db8::2"},
		{"empty (copy mode meta)", nil, "(no payload)"},
		{"short ipv4", []byte{0x45, 0, 0, 20}, "(no IPv4 or IPv6 header: 4 bytes of version 4)"},
		{"ipv4 header length under 20", badIHL, "(no IPv4 or IPv6 header: 20 bytes of version 4)"},
		{"short ipv6", ipv6(protoUDP, "::1", "::1", nil)[:39], "(no IPv4 or IPv6 header: 39 bytes of version 6)"},
		{"not ip", []byte{0x20, 1, 2, 3}, "(no IPv4 or IPv6 header: 4 bytes of version 2)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := describe(tt.in); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestIfNames(t *testing.T) {
	m := ifNames{}
	if got := m.name(0); got != "-" {
		t.Errorf("index 0: got %q, want -", got)
	}
	m[7] = "veth0"
	if got := m.name(7); got != "veth0" {
		t.Errorf("cached index: got %q, want veth0", got)
	}
	// An index that no interface has is shown as the number.
	if got := m.name(1 << 30); got != "1073741824" {
		t.Errorf("unknown index: got %q", got)
	}
}

func TestLine(t *testing.T) {
	payload := ipv4(protoUDP, "127.0.0.1", "127.0.0.1", 0, ports(40000, 9999, 11))
	p := &nfq.Packet{ID: 42, Hook: nfq.HookOutput, OutDev: 1, Payload: payload, OrigLen: uint32(len(payload))}
	want := "id=42 hook=OUTPUT in=- out=lo UDP 127.0.0.1:40000 -> 127.0.0.1:9999 len=31"
	if got := line(p, ifNames{1: "lo"}); got != want {
		t.Errorf("got  %q\nwant %q", got, want)
	}
	p = &nfq.Packet{ID: 1, Hook: nfq.HookPrerouting, InDev: 3, OrigLen: 60}
	want = "id=1 hook=PREROUTING in=eth0 out=- (no payload) len=60"
	if got := line(p, ifNames{3: "eth0"}); got != want {
		t.Errorf("got  %q\nwant %q", got, want)
	}
}
