package main

import (
	"encoding/binary"
	"net/netip"
	"testing"

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

func ipv6(proto uint8, src, dst string, sport, dport uint16) []byte {
	b := make([]byte, 48)
	b[0], b[6] = 0x60, proto
	s, d := netip.MustParseAddr(src).As16(), netip.MustParseAddr(dst).As16()
	copy(b[8:], s[:])
	copy(b[24:], d[:])
	binary.BigEndian.PutUint16(b[40:], sport)
	binary.BigEndian.PutUint16(b[42:], dport)
	return b
}

func mustRule(t *testing.T, s string) rule {
	t.Helper()
	r, err := parseRule(s)
	require.NoError(t, err)
	return r
}

func TestRulesMatch(t *testing.T) {
	udpIn := inspect(ipv4(17, "10.9.1.5", "10.9.0.1", 4000, 9002))
	tcpIn := inspect(ipv4(6, "192.0.2.1", "10.9.0.1", 5555, 22))
	icmpIn := inspect(ipv4(1, "10.9.1.5", "10.9.0.1", 0x0800, 0))
	v6 := inspect(ipv6(17, "2001:db8::1", "2001:db8::2", 1, 53))
	tests := []struct {
		rule string
		p    packetInfo
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
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, mustRule(t, tt.rule).matches(tt.p), "%s", tt.rule)
	}
	assert.False(t, mustRule(t, "src=0.0.0.0/0").matches(inspect([]byte{0x20, 1, 2})), "not IP")
}

func TestFirstMatchWins(t *testing.T) {
	rules := []rule{mustRule(t, "tcp"), mustRule(t, "udp,dport=53"), mustRule(t, "udp")}
	assert.Equal(t, 1, firstMatch(rules, inspect(ipv4(17, "1.1.1.1", "2.2.2.2", 1, 53))))
	assert.Equal(t, 2, firstMatch(rules, inspect(ipv4(17, "1.1.1.1", "2.2.2.2", 1, 54))))
	assert.Equal(t, -1, firstMatch(rules, inspect(ipv4(1, "1.1.1.1", "2.2.2.2", 0, 0))))
}

func TestLaterFragmentHasNoPorts(t *testing.T) {
	b := ipv4(17, "1.1.1.1", "2.2.2.2", 1, 53)
	binary.BigEndian.PutUint16(b[6:], 100) // fragment offset 800 bytes
	p := inspect(b)
	assert.True(t, p.ok)
	assert.False(t, p.hasPorts)
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
	assert.Equal(t, "udp 10.9.1.5:4000 > 10.9.0.1:9002", describe(inspect(ipv4(17, "10.9.1.5", "10.9.0.1", 4000, 9002))))
	assert.Equal(t, "udp [2001:db8::1]:1 > [2001:db8::2]:53", describe(inspect(ipv6(17, "2001:db8::1", "2001:db8::2", 1, 53))))
	assert.Equal(t, "icmp 1.1.1.1 > 2.2.2.2", describe(inspect(ipv4(1, "1.1.1.1", "2.2.2.2", 0, 0)[:21])))
	assert.Equal(t, "(not IP)", describe(inspect(nil)))
}
