package main

import (
	"encoding/binary"
	"net/netip"
	"testing"

	"github.com/nfq-go/nfq"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// ipv4 builds an IPv4 packet with a transport header holding the ports.
func ipv4(proto uint8, src, dst string, sport, dport uint16) []byte {
	b := make([]byte, 28)
	b[0], b[9] = 0x45, proto
	binary.BigEndian.PutUint16(b[2:], 28)
	s, d := netip.MustParseAddr(src).As4(), netip.MustParseAddr(dst).As4()
	copy(b[12:], s[:])
	copy(b[16:], d[:])
	binary.BigEndian.PutUint16(b[20:], sport)
	binary.BigEndian.PutUint16(b[22:], dport)
	return b
}

// ipv6 builds an IPv6 packet with the extension headers ext (each with its
// next-header byte to be filled in) and a transport header holding the
// ports.
func ipv6(proto uint8, src, dst string, sport, dport uint16, ext ...[]byte) []byte {
	b := make([]byte, 40, 128)
	b[0] = 0x60
	s, d := netip.MustParseAddr(src).As16(), netip.MustParseAddr(dst).As16()
	copy(b[8:], s[:])
	copy(b[24:], d[:])
	next := 6
	for _, e := range ext {
		b[next] = e[0]
		next = len(b)
		b = append(b, e[1:]...)
	}
	b[next] = proto
	b = binary.BigEndian.AppendUint16(b, sport)
	b = binary.BigEndian.AppendUint16(b, dport)
	b = append(b, 0, 8, 0, 0)
	binary.BigEndian.PutUint16(b[4:], uint16(len(b)-40))
	return b
}

// IPv6 extension headers for ipv6: the type, then the header.
var (
	hopByHop      = []byte{0, 0, 0, 1, 4, 0, 0, 0, 0}
	destOpts      = []byte{60, 0, 1, 0x1e, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}
	laterFragment = []byte{44, 0, 0, 0x05, 0xa8, 0, 0, 0, 9}
)

func mustRule(t *testing.T, s string) rule {
	t.Helper()
	r, err := parseRule(s)
	require.NoError(t, err)
	return r
}

func TestRulesMatch(t *testing.T) {
	udpIn := nfq.ParseHeaders(ipv4(17, "10.9.1.5", "10.9.0.1", 4000, 9002))
	tcpIn := nfq.ParseHeaders(ipv4(6, "192.0.2.1", "10.9.0.1", 5555, 22))
	icmpIn := nfq.ParseHeaders(ipv4(1, "10.9.1.5", "10.9.0.1", 0x0800, 0))
	v6 := nfq.ParseHeaders(ipv6(17, "2001:db8::1", "2001:db8::2", 1, 53))
	v6DestOpts := nfq.ParseHeaders(ipv6(17, "2001:db8::1", "2001:db8::2", 1, 53, destOpts))
	v6HopDest := nfq.ParseHeaders(ipv6(17, "2001:db8::1", "2001:db8::2", 1, 53, hopByHop, destOpts))
	v6LaterFragment := nfq.ParseHeaders(ipv6(17, "2001:db8::1", "2001:db8::2", 1, 53, laterFragment))
	tests := []struct {
		rule string
		p    nfq.Headers
		want bool
	}{
		{"udp", udpIn, true},
		{"tcp", udpIn, false},
		{"udp,dport=9002", udpIn, true},
		{"udp,dport=9000-9010", udpIn, true},
		{"udp,dport=9003-9010", udpIn, false},
		{"sport=4000", udpIn, true},
		{"src=10.9.1.0/24", udpIn, true},
		{"src=10.9.1.0/24", tcpIn, false},
		{"src=10.9.1.5", udpIn, true},
		{"dst=10.9.0.0/16,tcp,dport=22", tcpIn, true},
		{"dport=22", icmpIn, false}, // no ports: a port rule cannot match
		{"icmp,src=10.9.0.0/16", icmpIn, true},
		{"src=10.0.0.0/8", v6, false}, // another family
		{"udp,src=2001:db8::/64,dport=53", v6, true},
		{"udp,dport=53", v6DestOpts, true},
		{"udp,dport=53", v6HopDest, true},
		{"udp,dport=54", v6HopDest, false},
		{"udp,dport=53", v6LaterFragment, false}, // its UDP header is in the first fragment
		{"udp", v6LaterFragment, true},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, mustRule(t, tt.rule).matches(tt.p), "%s", tt.rule)
	}
	assert.False(t, mustRule(t, "src=0.0.0.0/0").matches(nfq.ParseHeaders([]byte{0x20, 1, 2})), "not IP")
}

func TestFirstMatchWins(t *testing.T) {
	rules := []rule{mustRule(t, "tcp"), mustRule(t, "udp,dport=53"), mustRule(t, "udp")}
	assert.Equal(t, 1, firstMatch(rules, nfq.ParseHeaders(ipv4(17, "1.1.1.1", "2.2.2.2", 1, 53))))
	assert.Equal(t, 2, firstMatch(rules, nfq.ParseHeaders(ipv4(17, "1.1.1.1", "2.2.2.2", 1, 54))))
	assert.Equal(t, -1, firstMatch(rules, nfq.ParseHeaders(ipv4(1, "1.1.1.1", "2.2.2.2", 0, 0))))
}

func TestLaterFragmentHasNoPorts(t *testing.T) {
	b := ipv4(17, "1.1.1.1", "2.2.2.2", 1, 53)
	binary.BigEndian.PutUint16(b[6:], 100) // fragment offset 800 bytes
	h := nfq.ParseHeaders(b)
	assert.True(t, h.Has(nfq.HeaderIP))
	assert.False(t, h.Has(nfq.HeaderPorts))
	assert.False(t, mustRule(t, "udp,dport=53").matches(h))
}

func TestParseRuleErrors(t *testing.T) {
	for rule, want := range map[string]string{
		"":                     "empty rule",
		"udp,tcp":              "more than one protocol",
		"src=10.0.0.0/33":      "src",
		"dport=0":              "bad port",
		"dport=9-1":            "bad port range",
		"icmp,dport=1":         "ports need tcp or udp",
		"port=22":              "unknown condition",
		"dst=not-an-address":   "dst",
		"sport=65536":          "bad port",
		"udp,dport=1,dport=x!": "bad port",
	} {
		_, err := parseRule(rule)
		assert.ErrorContains(t, err, want, "%q", rule)
	}
}

func TestDescribe(t *testing.T) {
	assert.Equal(t, "udp 10.9.1.5:4000 > 10.9.0.1:9002", describe(nfq.ParseHeaders(ipv4(17, "10.9.1.5", "10.9.0.1", 4000, 9002))))
	assert.Equal(t, "udp [2001:db8::1]:1 > [2001:db8::2]:53", describe(nfq.ParseHeaders(ipv6(17, "2001:db8::1", "2001:db8::2", 1, 53))))
	assert.Equal(t, "icmp 1.1.1.1 > 2.2.2.2", describe(nfq.ParseHeaders(ipv4(1, "1.1.1.1", "2.2.2.2", 0, 0)[:21])))
	assert.Equal(t, "(not IP)", describe(nfq.ParseHeaders(nil)))
}
