//go:build linux && cgo

package nfq

import (
	"encoding/binary"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Attribute numbers of <linux/netfilter/nfnetlink_queue.h> and
// <linux/netfilter/nfnetlink_conntrack.h> used by these tests.
const (
	nlaFNested     = 0x8000 // NLA_F_NESTED: the kernel's nla_nest_start sets it
	nfqaCT         = 11
	nfqaCTInfo     = 12
	nfqaVLAN       = 19
	nfqaL2Hdr      = 20
	nfqaPriority   = 21
	nfqaVLANProto  = 1
	nfqaVLANTCI    = 2
	ctaTupleOrig   = 1
	ctaStatus      = 3
	ctaTimeout     = 7
	ctaMark        = 8
	ctaUse         = 11
	ctaID          = 12
	ctaZone        = 18
	ctaTupleIP     = 1
	ctaIPv4Src     = 1
	ctaIPv4Dst     = 2
	ipsConfirmed   = 1 << 3
	ipsSeenReply   = 1 << 1
	ipsAssured     = 1 << 2
	ethPVLAN8021Q  = 0x8100
	ethPVLAN8021AD = 0x88a8
)

func (m *msgBuilder) u16(typ uint16, v uint16) *msgBuilder {
	return m.attr(typ, binary.BigEndian.AppendUint16(nil, v))
}

// nest adds a nested attribute whose attributes fill builds.
func (m *msgBuilder) nest(typ uint16, fill func(*msgBuilder)) *msgBuilder {
	inner := &msgBuilder{}
	fill(inner)
	return m.attr(typ|nlaFNested, inner.b)
}

// kernelCT is the NFQA_CT nest as ctnetlink_glue_build lays it out: the
// original tuple (itself nested), status, timeout, mark, use count, id, and
// the zone when not the default one.
func kernelCT(zone bool) func(*msgBuilder) {
	return func(ct *msgBuilder) {
		ct.nest(ctaTupleOrig, func(t *msgBuilder) {
			t.nest(ctaTupleIP, func(ip *msgBuilder) {
				ip.attr(ctaIPv4Src, []byte{127, 0, 0, 1}).attr(ctaIPv4Dst, []byte{127, 0, 0, 2})
			})
		})
		ct.u32(ctaStatus, ipsConfirmed|ipsSeenReply|ipsAssured)
		ct.u32(ctaTimeout, 120)
		ct.u32(ctaMark, 0xc0ffee)
		ct.u32(ctaUse, 1)
		ct.u32(ctaID, 0x8badf00d)
		if zone {
			ct.u16(ctaZone, 7)
		}
	}
}

var newAttrs = []Attr{AttrConntrack, AttrConnState, AttrConnID, AttrConnMark, AttrConnStatus,
	AttrConnZone, AttrVLAN, AttrL2Header, AttrPriority}

func dispatchOne(t *testing.T, q *Queue, msg []byte) *Packet {
	t.Helper()
	require.NoError(t, q.dispatch(msg))
	got := q.takePending(nil)
	require.Len(t, got, 1, "the packet must reach the consumer, so that it gets its verdict")
	return got[0]
}

func TestConntrackVLANL2HeaderPriorityAreParsed(t *testing.T) {
	q := socketlessQueue(t, Config{Queue: 9})
	l2 := []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 2, 0, 0, 0, 0, 1, 0x81, 0x00, 0x60, 0x2a, 0x08, 0x00}
	payload := []byte{0x45, 0, 0, 20, 9, 9, 9}
	msg := newPacketMsg(q.Num(), 41, 0x0800, 0).
		u32(3, 0x11).
		attr(10, payload).
		nest(nfqaCT, kernelCT(true)).
		u32(nfqaCTInfo, uint32(ConnEstablishedReply)).
		nest(nfqaVLAN, func(v *msgBuilder) { v.u16(nfqaVLANProto, ethPVLAN8021Q).u16(nfqaVLANTCI, 0x602a) }).
		attr(nfqaL2Hdr, l2).
		u32(nfqaPriority, 0x10006).
		bytes()
	p := dispatchOne(t, q, msg)
	assert.Equal(t, uint32(41), p.ID)
	assert.Equal(t, uint32(0x11), p.Mark, "the attributes before the new ones are intact")
	assert.Equal(t, payload, p.Payload)
	for _, a := range newAttrs {
		assert.True(t, p.Has(a), "attribute 0x%x", uint32(a))
	}
	assert.Equal(t, ConnEstablishedReply, p.ConnState)
	assert.True(t, p.ConnState.IsReply())
	assert.Equal(t, uint32(0x8badf00d), p.ConnID, "big-endian on the wire, host order here")
	assert.Equal(t, uint32(0xc0ffee), p.ConnMark)
	assert.Equal(t, uint32(ipsConfirmed|ipsSeenReply|ipsAssured), p.ConnStatus)
	assert.Equal(t, uint16(7), p.ConnZone)
	assert.Equal(t, uint16(ethPVLAN8021Q), p.VLANProto)
	assert.Equal(t, uint16(0x602a), p.VLANTCI)
	assert.Equal(t, uint16(42), p.VLANID())
	assert.Equal(t, l2, p.L2Header)
	assert.Equal(t, len(l2), cap(p.L2Header), "no spare capacity into a neighbour's bytes")
	assert.Equal(t, uint32(0x10006), p.Priority)
}

func TestConntrackZeroValuesArePresent(t *testing.T) {
	q := socketlessQueue(t, Config{Queue: 9})
	msg := newPacketMsg(q.Num(), 42, 0x0800, 3).
		nest(nfqaCT, func(ct *msgBuilder) { ct.u32(ctaMark, 0).u32(ctaID, 0).u32(ctaStatus, 0).u16(ctaZone, 0) }).
		u32(nfqaCTInfo, uint32(ConnEstablished)).
		u32(nfqaPriority, 0).
		nest(nfqaVLAN, func(v *msgBuilder) { v.u16(nfqaVLANProto, ethPVLAN8021AD).u16(nfqaVLANTCI, 0) }).
		bytes()
	p := dispatchOne(t, q, msg)
	for _, a := range newAttrs {
		if a == AttrL2Header {
			assert.False(t, p.Has(a))
			continue
		}
		assert.True(t, p.Has(a), "a zero the kernel sent is still sent: attribute 0x%x", uint32(a))
	}
	assert.Equal(t, ConnEstablished, p.ConnState)
	assert.Equal(t, "ESTABLISHED", p.ConnState.String())
	assert.Equal(t, uint16(ethPVLAN8021AD), p.VLANProto)
	assert.Nil(t, p.L2Header)
}

func TestNewAttributesAbsentWhenNotSent(t *testing.T) {
	q := socketlessQueue(t, Config{Queue: 9})
	// An untracked packet: the kernel sends neither NFQA_CT nor NFQA_CT_INFO.
	p := dispatchOne(t, q, newPacketMsg(q.Num(), 43, 0x0800, 3).u32(6, 1).bytes())
	for _, a := range newAttrs {
		assert.False(t, p.Has(a), "attribute 0x%x", uint32(a))
	}
	assert.Zero(t, p.ConnState)
	assert.Zero(t, p.ConnMark)
	assert.Zero(t, p.Priority)
	assert.Zero(t, p.VLANTCI)
	assert.Nil(t, p.L2Header)

	// A tracked packet in the default zone: everything but the zone.
	p = dispatchOne(t, q, newPacketMsg(q.Num(), 44, 0x0800, 3).
		nest(nfqaCT, kernelCT(false)).u32(nfqaCTInfo, uint32(ConnNew)).bytes())
	assert.True(t, p.Has(AttrConntrack|AttrConnState|AttrConnID|AttrConnMark|AttrConnStatus))
	assert.False(t, p.Has(AttrConnZone))
	assert.False(t, p.Has(AttrVLAN))
	assert.Equal(t, ConnNew, p.ConnState)
	assert.Equal(t, "NEW", p.ConnState.String())
	assert.False(t, p.ConnState.IsReply())
}

func TestMalformedNestsAreLeftOutNotThePacket(t *testing.T) {
	tests := []struct {
		name  string
		build func(m *msgBuilder)
		has   Attr // what must still be there
		lost  Attr // what must be left out
	}{
		{"ct nest with an attribute running past its end",
			func(m *msgBuilder) {
				m.attr(nfqaCT|nlaFNested, []byte{8, 0, ctaMark, 0, 0, 0, 0, 1, 12, 0, ctaID, 0, 0, 0})
			},
			0, AttrConntrack | AttrConnMark | AttrConnID},
		{"ct nest with trailing bytes",
			func(m *msgBuilder) { m.attr(nfqaCT|nlaFNested, []byte{8, 0, ctaMark, 0, 0, 0, 0, 1, 0xaa, 0xbb}) },
			0, AttrConntrack | AttrConnMark},
		{"ct nest that is not a nest",
			func(m *msgBuilder) { m.attr(nfqaCT, []byte{1, 2}) },
			0, AttrConntrack},
		{"ct attribute of the wrong size",
			func(m *msgBuilder) {
				m.nest(nfqaCT, func(ct *msgBuilder) { ct.u16(ctaMark, 5).u32(ctaID, 9).u32(ctaZone, 3) })
			},
			AttrConntrack | AttrConnID, AttrConnMark | AttrConnZone},
		{"ct info of the wrong size",
			func(m *msgBuilder) { m.u16(nfqaCTInfo, 2) },
			0, AttrConnState},
		{"vlan without its tci",
			func(m *msgBuilder) { m.nest(nfqaVLAN, func(v *msgBuilder) { v.u16(nfqaVLANProto, ethPVLAN8021Q) }) },
			0, AttrVLAN},
		{"vlan tci of the wrong size",
			func(m *msgBuilder) {
				m.nest(nfqaVLAN, func(v *msgBuilder) { v.u16(nfqaVLANProto, ethPVLAN8021Q).u32(nfqaVLANTCI, 5) })
			},
			0, AttrVLAN},
		{"vlan nest with a zero-length attribute header",
			func(m *msgBuilder) { m.attr(nfqaVLAN|nlaFNested, []byte{0, 0, 1, 0, 6, 0, 2, 0, 0, 5, 0, 0}) },
			0, AttrVLAN},
		{"priority of the wrong size",
			func(m *msgBuilder) { m.u16(nfqaPriority, 6) },
			0, AttrPriority},
	}
	q := socketlessQueue(t, Config{Queue: 9})
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := newPacketMsg(q.Num(), uint32(100+i), 0x0800, 3)
			tt.build(m)
			m.u32(6, 9) // NFQA_IFINDEX_OUTDEV after the bad attribute
			p := dispatchOne(t, q, m.bytes())
			assert.Equal(t, uint32(100+i), p.ID)
			assert.True(t, p.Has(AttrOutDev), "the attributes after it are still read")
			assert.Equal(t, uint32(9), p.OutDev)
			if tt.has != 0 {
				assert.True(t, p.Has(tt.has))
			}
			for _, a := range newAttrs {
				if tt.lost&a != 0 {
					assert.False(t, p.Has(a), "attribute 0x%x", uint32(a))
				}
			}
		})
	}
}

// BenchmarkCallbackRoundTripConntrack: BenchmarkCallbackRoundTrip with
// conntrack, VLAN, L2 header and priority attributes; they cost no
// allocations of their own (the L2 header comes from the payload slab).
func BenchmarkCallbackRoundTripConntrack(b *testing.B) {
	q := openBenchQueue(b)
	msg := newPacketMsg(q.Num(), 1, 0x0800, 0).
		attr(10, make([]byte, 92)).
		nest(nfqaCT, kernelCT(true)).u32(nfqaCTInfo, uint32(ConnNew)).
		nest(nfqaVLAN, func(v *msgBuilder) { v.u16(nfqaVLANProto, ethPVLAN8021Q).u16(nfqaVLANTCI, 42) }).
		attr(nfqaL2Hdr, make([]byte, 14)).
		u32(nfqaPriority, 6).
		bytes()
	var pending []*Packet
	b.ReportAllocs()
	for b.Loop() {
		if err := q.dispatch(msg); err != nil {
			b.Fatal(err)
		}
		if pending = q.takePending(pending); len(pending) != 1 || !pending[0].Has(AttrL2Header|AttrConnZone) {
			b.Fatalf("got %d packets", len(pending))
		}
	}
}
