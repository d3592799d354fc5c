//go:build linux && cgo

package nfq

import (
	"encoding/binary"
	"strconv"
	"testing"
	"unsafe"

	"github.com/nfq-go/nfq/internal/netnstest"
	"github.com/stretchr/testify/require"
)

// packetMessage builds the netlink message the kernel sends for a packet:
// nlmsghdr, nfgenmsg, then the packet header, outdev and payload attributes.
func packetMessage(queue uint16, id uint32, payload []byte) []byte {
	attr := func(b []byte, typ uint16, val []byte) []byte {
		l := 4 + len(val)
		h := make([]byte, 4)
		binary.LittleEndian.PutUint16(h[0:], uint16(l))
		binary.LittleEndian.PutUint16(h[2:], typ)
		b = append(append(b, h...), val...)
		for len(b)%4 != 0 {
			b = append(b, 0)
		}
		return b
	}
	msg := make([]byte, 16, 128+len(payload))
	msg = append(msg, 2 /* AF_INET */, 0 /* version */, byte(queue>>8), byte(queue))
	hdr := make([]byte, 7)
	binary.BigEndian.PutUint32(hdr[0:], id)
	binary.BigEndian.PutUint16(hdr[4:], 0x0800)
	hdr[6] = 3 // NF_INET_LOCAL_OUT
	msg = attr(msg, 1 /* NFQA_PACKET_HDR */, hdr)
	msg = attr(msg, 6 /* NFQA_IFINDEX_OUTDEV */, binary.BigEndian.AppendUint32(nil, 1))
	msg = attr(msg, 10 /* NFQA_PAYLOAD */, payload)
	binary.LittleEndian.PutUint32(msg[0:], uint32(len(msg)))
	binary.LittleEndian.PutUint16(msg[4:], 3<<8) // NFNL_SUBSYS_QUEUE << 8 | NFQNL_MSG_PACKET (0)
	return msg
}

func openBenchQueue(b *testing.B) *Queue {
	ns := netnstestNew(b)
	var q *Queue
	var err error
	ns.Do(b, func() { q, err = Open(Config{Queue: 1}) })
	require.NoError(b, err)
	b.Cleanup(func() { q.Close() })
	return q
}

// BenchmarkCallbackRoundTrip: one message through libnetfilter_queue's
// dispatch, the C parser and the trampoline into a Go Packet.
func BenchmarkCallbackRoundTrip(b *testing.B) {
	q := openBenchQueue(b)
	msg := packetMessage(1, 1, make([]byte, 92))
	var pending []*Packet
	b.ReportAllocs()
	for b.Loop() {
		if err := q.dispatch(msg); err != nil {
			b.Fatal(err)
		}
		if pending = q.takePending(pending); len(pending) != 1 {
			b.Fatalf("got %d packets", len(pending))
		}
	}
}

// BenchmarkDispatchBatch: a datagram of 32 packet messages, as a receive
// batch brings them, parsed and turned into Go Packets; per packet.
func BenchmarkDispatchBatch(b *testing.B) {
	q := openBenchQueue(b)
	const n = 32
	var dgram []byte
	for i := range n {
		dgram = append(dgram, packetMessage(1, uint32(i+1), make([]byte, 92))...)
	}
	var pending []*Packet
	b.ReportAllocs()
	for b.Loop() {
		if err := q.dispatch(dgram); err != nil {
			b.Fatal(err)
		}
		if pending = q.takePending(pending); len(pending) != n {
			b.Fatalf("got %d packets", len(pending))
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n), "ns/packet")
}

// BenchmarkVerdictEncoding: one accept verdict into the coalescing buffer
// (sent to the kernel once per 64 KiB; the kernel answers the unknown ids
// with errors nobody reads, which costs it, not us).
func BenchmarkVerdictEncoding(b *testing.B) {
	q := openBenchQueue(b)
	q.holdVerdicts() // verdicts wait for company
	p := &Packet{q: q, Queue: 1}
	r := verdictRequest{verdict: Accept}
	b.ReportAllocs()
	for b.Loop() {
		p.ID++
		p.state.Store(packetPending)
		if err := q.sendVerdict(p, r); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPayloadCopy: copying a payload out of the receive buffer.
func BenchmarkPayloadCopy(b *testing.B) {
	for _, size := range []int{92, 1428} {
		b.Run(strconv.Itoa(size), func(b *testing.B) {
			src := make([]byte, size)
			var a packetAlloc
			b.ReportAllocs()
			b.SetBytes(int64(size))
			for b.Loop() {
				_ = a.bytes(unsafe.Pointer(&src[0]), size)
			}
		})
	}
}

var netnstestNew = netnstest.New
