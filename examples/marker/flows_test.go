package main

import (
	"encoding/binary"
	"net/netip"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// udp4 builds an IPv4/UDP packet of n bytes in all.
func udp4(src string, sport uint16, dst string, dport uint16, n int) []byte {
	b := make([]byte, n)
	b[0], b[9] = 0x45, 17
	binary.BigEndian.PutUint16(b[2:], uint16(n))
	s, d := netip.MustParseAddr(src).As4(), netip.MustParseAddr(dst).As4()
	copy(b[12:], s[:])
	copy(b[16:], d[:])
	binary.BigEndian.PutUint16(b[20:], sport)
	binary.BigEndian.PutUint16(b[22:], dport)
	return b
}

func TestClassifyByServicePortBothWays(t *testing.T) {
	c := newClassifier(map[uint16]uint32{53: 0x2}, 0, 0, time.Minute)
	now := time.Unix(1000, 0)
	f, ev, ok := c.classify(udp4("10.0.0.1", 40000, "10.0.0.2", 53, 60), now)
	require.True(t, ok)
	assert.Equal(t, eventNew, ev)
	assert.Equal(t, uint32(0x2), f.mark)
	reply, ev, _ := c.classify(udp4("10.0.0.2", 53, "10.0.0.1", 40000, 100), now)
	assert.Same(t, f, reply, "the reply belongs to the same flow")
	assert.Equal(t, eventNone, ev)
	assert.Equal(t, uint64(160), f.bytes)
	assert.Equal(t, uint64(2), f.packets)
	assert.Equal(t, "udp 10.0.0.1:40000 <-> 10.0.0.2:53", f.key.String())

	other, ev, _ := c.classify(udp4("10.0.0.1", 40000, "10.0.0.2", 54, 60), now)
	assert.Zero(t, other.mark, "no service port: unclassified")
	assert.Equal(t, eventNone, ev)
}

func TestFlowTurnsBulkOnce(t *testing.T) {
	c := newClassifier(map[uint16]uint32{9000: 0x4}, 300, 0x3, time.Minute)
	now := time.Unix(1000, 0)
	var marks []uint32
	var events []event
	for range 5 {
		f, ev, _ := c.classify(udp4("127.0.0.1", 1234, "127.0.0.1", 9000, 128), now)
		marks = append(marks, f.mark)
		events = append(events, ev)
	}
	assert.Equal(t, []uint32{0x4, 0x4, 0x3, 0x3, 0x3}, marks, "over 300 bytes from the third packet on")
	assert.Equal(t, []event{eventNew, eventNone, eventBulk, eventNone, eventNone}, events)
}

func TestIdleFlowsAreForgotten(t *testing.T) {
	c := newClassifier(nil, 0, 0, time.Minute)
	t0 := time.Unix(1000, 0)
	c.classify(udp4("10.0.0.1", 1, "10.0.0.2", 2, 40), t0)
	c.classify(udp4("10.0.0.1", 3, "10.0.0.2", 4, 40), t0.Add(50*time.Second))
	assert.Equal(t, 1, c.expire(t0.Add(90*time.Second)))
	assert.Len(t, c.flows, 1)
}

func TestKeyOf(t *testing.T) {
	icmp := udp4("10.0.0.2", 0, "10.0.0.1", 0, 28)
	icmp[9] = 1
	k, ok := keyOf(icmp)
	require.True(t, ok)
	assert.Equal(t, "icmp 10.0.0.1:0 <-> 10.0.0.2:0", k.String())

	frag := udp4("10.0.0.1", 5, "10.0.0.2", 6, 28)
	binary.BigEndian.PutUint16(frag[6:], 10) // a later fragment: no ports
	k, _ = keyOf(frag)
	assert.Equal(t, "udp 10.0.0.1:0 <-> 10.0.0.2:0", k.String())

	_, ok = keyOf([]byte{0x45, 0})
	assert.False(t, ok)

	// IPv6 UDP to port 53 behind a destination options header.
	v6 := make([]byte, 40, 64)
	v6[0], v6[6] = 0x60, 60
	s, d := netip.MustParseAddr("2001:db8::2").As16(), netip.MustParseAddr("2001:db8::1").As16()
	copy(v6[8:], s[:])
	copy(v6[24:], d[:])
	v6 = append(v6, 17, 0, 1, 4, 0, 0, 0, 0) // destination options, next: UDP
	v6 = append(v6, 0x9c, 0x40, 0, 53, 0, 8, 0, 0)
	binary.BigEndian.PutUint16(v6[4:], uint16(len(v6)-40))
	k, ok = keyOf(v6)
	require.True(t, ok)
	assert.Equal(t, "udp [2001:db8::1]:53 <-> [2001:db8::2]:40000", k.String())
}

func TestPortMarksFlag(t *testing.T) {
	p := portMarks{}
	require.NoError(t, p.Set("22=0x1"))
	require.NoError(t, p.Set("53=2"))
	assert.Equal(t, portMarks{22: 1, 53: 2}, p)
	for _, bad := range []string{"22", "x=1", "0=1", "22=0", "22=0x100000000"} {
		assert.Error(t, p.Set(bad), bad)
	}
}
