//go:build linux && cgo

package nfq

import (
	"encoding/binary"
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// msgBuilder builds a kernel packet message attribute by attribute (the
// layouts of <linux/netfilter/nfnetlink_queue.h>).
type msgBuilder struct{ b []byte }

func newPacketMsg(queue uint16, id uint32, hwProto uint16, hook uint8) *msgBuilder {
	m := &msgBuilder{b: make([]byte, 16)}
	m.b = append(m.b, 2, 0, byte(queue>>8), byte(queue))
	hdr := binary.BigEndian.AppendUint32(nil, id)
	hdr = binary.BigEndian.AppendUint16(hdr, hwProto)
	return m.attr(1, append(hdr, hook)) // NFQA_PACKET_HDR
}

func (m *msgBuilder) attr(typ uint16, val []byte) *msgBuilder {
	m.b = binary.LittleEndian.AppendUint16(m.b, uint16(4+len(val)))
	m.b = binary.LittleEndian.AppendUint16(m.b, typ)
	m.b = append(m.b, val...)
	for len(m.b)%4 != 0 {
		m.b = append(m.b, 0)
	}
	return m
}

func (m *msgBuilder) u32(typ uint16, v uint32) *msgBuilder {
	return m.attr(typ, binary.BigEndian.AppendUint32(nil, v))
}

func (m *msgBuilder) bytes() []byte {
	binary.LittleEndian.PutUint32(m.b[0:], uint32(len(m.b)))
	binary.LittleEndian.PutUint16(m.b[4:], 3<<8) // NFNL_SUBSYS_QUEUE, NFQNL_MSG_PACKET
	return m.b
}

func TestEveryAttributeIsParsed(t *testing.T) {
	q := socketlessQueue(t, Config{Queue: 9})
	ts := binary.BigEndian.AppendUint64(nil, 1700000000)
	ts = binary.BigEndian.AppendUint64(ts, 123456)
	hw := binary.BigEndian.AppendUint16(nil, 6)
	hw = append(hw, 0, 0, 0xde, 0xad, 0xbe, 0xef, 0x00, 0x01, 0, 0)
	payload := []byte{0x45, 0, 0, 20, 1, 2, 3, 4}
	msg := newPacketMsg(q.Num(), 77, 0x86dd, 0).
		u32(3, 0xfeed).                                     // NFQA_MARK
		attr(4, ts).                                        // NFQA_TIMESTAMP
		u32(5, 2).                                          // NFQA_IFINDEX_INDEV
		u32(6, 3).                                          // NFQA_IFINDEX_OUTDEV
		u32(7, 4).                                          // NFQA_IFINDEX_PHYSINDEV
		u32(8, 5).                                          // NFQA_IFINDEX_PHYSOUTDEV
		attr(9, hw).                                        // NFQA_HWADDR
		attr(10, payload).                                  // NFQA_PAYLOAD
		u32(13, 1500).                                      // NFQA_CAP_LEN
		u32(14, 3).                                         // NFQA_SKB_INFO
		u32(16, 1234).                                      // NFQA_UID
		u32(17, 4321).                                      // NFQA_GID
		attr(18, []byte("system_u:object_r:ssh_t:s0\x00")). // NFQA_SECCTX
		bytes()
	require.NoError(t, q.dispatch(msg))
	got := q.takePending(nil)
	require.Len(t, got, 1)
	p := got[0]
	assert.Equal(t, uint32(77), p.ID)
	assert.Equal(t, uint16(0x86dd), p.HWProtocol)
	assert.Equal(t, HookPrerouting, p.Hook)
	assert.Equal(t, uint32(0xfeed), p.Mark)
	assert.Equal(t, time.Unix(1700000000, 123456000), p.Timestamp)
	assert.Equal(t, []uint32{2, 3, 4, 5}, []uint32{p.InDev, p.OutDev, p.PhysInDev, p.PhysOutDev})
	assert.Equal(t, net.HardwareAddr{0xde, 0xad, 0xbe, 0xef, 0x00, 0x01}, p.HWAddr)
	assert.Equal(t, payload, p.Payload)
	assert.Equal(t, uint32(1500), p.OrigLen)
	assert.Equal(t, SkbChecksumNotReady|SkbGSO, p.SkbInfo)
	assert.Equal(t, uint32(1234), p.UID)
	assert.Equal(t, uint32(4321), p.GID)
	assert.Equal(t, "system_u:object_r:ssh_t:s0", p.SecCtx)
	for _, a := range []Attr{AttrMark, AttrTimestamp, AttrInDev, AttrOutDev, AttrPhysInDev, AttrPhysOutDev,
		AttrHWAddr, AttrPayload, AttrCapLen, AttrSkbInfo, AttrUID, AttrGID, AttrSecCtx} {
		assert.True(t, p.Has(a), "attribute %d", a)
	}
}

func TestAbsentAttributesAreNotZeroOnes(t *testing.T) {
	q := socketlessQueue(t, Config{Queue: 9})
	require.NoError(t, q.dispatch(newPacketMsg(q.Num(), 5, 0x0800, 3).u32(3, 0).u32(16, 0).bytes()))
	p := q.takePending(nil)[0]
	assert.True(t, p.Has(AttrMark), "a zero mark the kernel sent")
	assert.True(t, p.Has(AttrUID), "uid 0 (root) is a uid")
	assert.False(t, p.Has(AttrGID))
	assert.False(t, p.Has(AttrTimestamp))
	assert.True(t, p.Timestamp.IsZero())
	assert.False(t, p.Has(AttrPayload))
	assert.Nil(t, p.Payload)
	assert.Nil(t, p.HWAddr)
}

func TestMessageWithoutPacketHeaderIsIgnored(t *testing.T) {
	q := socketlessQueue(t, Config{Queue: 9})
	m := &msgBuilder{b: make([]byte, 16)}
	m.b = append(m.b, 2, 0, 0, 0)
	require.NoError(t, q.dispatch(m.u32(3, 1).bytes()))
	assert.Empty(t, q.takePending(nil), "nothing to give a verdict to")
}

// socketlessQueue returns a queue with its C side and no socket
// (newSocketlessQueue): messages go in with dispatch and verdicts come out
// with takePendingVerdicts, with no kernel and no privileges. Its Close
// cannot send the default verdicts, which nobody waits for.
func socketlessQueue(tb testing.TB, cfg Config) *Queue {
	tb.Helper()
	q, err := newSocketlessQueue(cfg)
	require.NoError(tb, err)
	tb.Cleanup(func() { q.Close() })
	return q
}

func TestMalformedAttributeIsLeftOutNotThePacket(t *testing.T) {
	q := socketlessQueue(t, Config{Queue: 9})
	require.NoError(t, q.dispatch(newPacketMsg(q.Num(), 8, 0x0800, 3).attr(3, []byte{1, 2}).u32(6, 1).bytes()))
	got := q.takePending(nil)
	require.Len(t, got, 1, "the packet still reaches the consumer, so it gets its verdict")
	assert.False(t, got[0].Has(AttrMark), "a 2-byte mark is not a mark")
	assert.Equal(t, uint32(1), got[0].OutDev)
}
