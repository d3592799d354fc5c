package main

import (
	"fmt"
	"net/netip"
	"time"

	"github.com/nfq-go/nfq"
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

// keyOf reads the flow of an IPv4 or IPv6 packet (its ports behind IPv4
// options and IPv6 extension headers); ports are zero for protocols without
// them and for packets that do not carry them: a later fragment, a header
// cut by the copy range.
func keyOf(b []byte) (flowKey, bool) {
	h := nfq.ParseHeaders(b)
	if !h.Has(nfq.HeaderIP) {
		return flowKey{}, false
	}
	var sport, dport uint16
	if h.Has(nfq.HeaderPorts) {
		sport, dport = h.SrcPort, h.DstPort
	}
	k := flowKey{proto: h.Protocol, a: netip.AddrPortFrom(h.Src, sport), b: netip.AddrPortFrom(h.Dst, dport)}
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
