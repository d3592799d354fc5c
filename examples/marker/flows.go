package main

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"time"
)

// classifier gives each flow a mark: the mark of its service port, or the
// bulk mark once the flow has carried more than bulk bytes. Both directions
// of a flow share one entry, so replies get the mark of their request.
type classifier struct {
	ports    map[uint16]uint32 // service port -> mark
	bulk     uint64            // bytes after which a flow is bulk; 0: never
	bulkMark uint32
	idle     time.Duration // flows quiet for this long are forgotten
	flows    map[flowKey]*flow
}

// flowKey names a flow regardless of direction: a is the lesser endpoint.
type flowKey struct {
	proto uint8
	a, b  netip.AddrPort
}

type flow struct {
	key     flowKey
	mark    uint32 // 0: unclassified, left alone
	bytes   uint64
	packets uint64
	last    time.Time
}

func newClassifier(ports map[uint16]uint32, bulk uint64, bulkMark uint32, idle time.Duration) *classifier {
	return &classifier{ports: ports, bulk: bulk, bulkMark: bulkMark, idle: idle, flows: map[flowKey]*flow{}}
}

// event says what changed for a flow with a packet.
type event int

const (
	eventNone event = iota
	eventNew        // first packet of a classified flow
	eventBulk       // the flow just went over the bulk threshold
)

// classify accounts the IP packet b to its flow and returns the flow, which
// holds the mark to set, and what changed. ok is false for what is not IP.
func (c *classifier) classify(b []byte, now time.Time) (f *flow, ev event, ok bool) {
	key, ok := keyOf(b)
	if !ok {
		return nil, eventNone, false
	}
	f = c.flows[key]
	if f == nil {
		f = &flow{key: key, mark: c.portMark(key)}
		c.flows[key] = f
		if f.mark != 0 {
			ev = eventNew
		}
	}
	f.packets++
	f.bytes += uint64(len(b))
	f.last = now
	if c.bulk > 0 && f.bytes > c.bulk && f.mark != c.bulkMark {
		f.mark, ev = c.bulkMark, eventBulk
	}
	return f, ev, true
}

// portMark is the mark of the first endpoint port that is a service port.
func (c *classifier) portMark(k flowKey) uint32 {
	if m, ok := c.ports[k.b.Port()]; ok {
		return m
	}
	return c.ports[k.a.Port()]
}

// expire forgets flows idle since before now-idle and returns how many.
func (c *classifier) expire(now time.Time) int {
	n := 0
	for k, f := range c.flows {
		if now.Sub(f.last) > c.idle {
			delete(c.flows, k)
			n++
		}
	}
	return n
}

// keyOf reads the flow of an IPv4 or IPv6 (no extension headers) packet;
// ports are zero for protocols without them and for later fragments.
func keyOf(b []byte) (flowKey, bool) {
	var k flowKey
	var src, dst netip.Addr
	var l4 []byte
	switch {
	case len(b) >= 20 && b[0]>>4 == 4:
		ihl := int(b[0]&0x0f) * 4
		if ihl < 20 || ihl > len(b) {
			return k, false
		}
		k.proto = b[9]
		src, dst = netip.AddrFrom4([4]byte(b[12:16])), netip.AddrFrom4([4]byte(b[16:20]))
		if binary.BigEndian.Uint16(b[6:])&0x1fff == 0 {
			l4 = b[ihl:]
		}
	case len(b) >= 40 && b[0]>>4 == 6:
		k.proto = b[6]
		src, dst = netip.AddrFrom16([16]byte(b[8:24])), netip.AddrFrom16([16]byte(b[24:40]))
		l4 = b[40:]
	default:
		return k, false
	}
	var sport, dport uint16
	if (k.proto == 6 || k.proto == 17) && len(l4) >= 4 {
		sport, dport = binary.BigEndian.Uint16(l4), binary.BigEndian.Uint16(l4[2:])
	}
	k.a, k.b = netip.AddrPortFrom(src, sport), netip.AddrPortFrom(dst, dport)
	if k.b.Compare(k.a) < 0 {
		k.a, k.b = k.b, k.a
	}
	return k, true
}

func (k flowKey) String() string {
	names := map[uint8]string{1: "icmp", 6: "tcp", 17: "udp", 58: "icmpv6"}
	name, ok := names[k.proto]
	if !ok {
		name = fmt.Sprintf("proto-%d", k.proto)
	}
	return fmt.Sprintf("%s %s <-> %s", name, k.a, k.b)
}
