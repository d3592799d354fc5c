//go:build linux && cgo

package nfq

import (
	"bytes"
	"encoding/binary"
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

// fuzzQueue is the queue number in the checked-in corpus of FuzzDispatch.
const fuzzQueue = 7

// FuzzDispatch feeds arbitrary datagrams through the same C parse and
// dispatch path as the kernel's messages, on a queue without a socket (no
// root needed). It must never crash or read past the datagram (a guard page
// follows it), and every packet it produces must be consistent with the
// bytes it came from.
func FuzzDispatch(f *testing.F) {
	q := socketlessQueue(f, Config{Queue: fuzzQueue})
	for _, seed := range dispatchSeeds() {
		f.Add(seed)
	}
	var pending []*Packet
	f.Fuzz(func(t *testing.T, msg []byte) {
		if len(msg) == 0 {
			return
		}
		region, guarded := guardedCopy(t, msg)
		defer unix.Munmap(region)
		_ = q.dispatch(guarded) // an error is fine; a crash is not
		pending = q.takePending(pending)
		for _, p := range pending {
			checkDispatched(t, q, p, msg)
		}
		pending = pending[:0]
	})
}

// guardedCopy copies msg to the end of a fresh mapping followed by an
// inaccessible page, so that reading past it faults.
func guardedCopy(t *testing.T, msg []byte) (region, guarded []byte) {
	page := unix.Getpagesize()
	n := (len(msg) + page - 1) / page * page
	region, err := unix.Mmap(-1, 0, n+page, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANON)
	require.NoError(t, err)
	require.NoError(t, unix.Mprotect(region[n:], unix.PROT_NONE))
	guarded = region[n-len(msg) : n : n]
	copy(guarded, msg)
	return region, guarded
}

func checkDispatched(t *testing.T, q *Queue, p *Packet, msg []byte) {
	t.Helper()
	fail := func(format string, args ...any) {
		t.Helper()
		t.Fatalf("packet %d from % x: "+format, append([]any{p.ID, msg}, args...)...)
	}
	if p.q != q || p.Queue != q.Num() {
		fail("belongs to queue %d, not %d", p.Queue, q.Num())
	}
	if p.state.Load() != packetPending {
		fail("already has a verdict")
	}
	if p.attrs&^(AttrPriority<<1-1) != 0 {
		fail("unknown attribute bits %#x", p.attrs)
	}
	if !bytes.Contains(msg, binary.BigEndian.AppendUint32(nil, p.ID)) {
		fail("id not in the message")
	}
	if p.Has(AttrPayload) != (p.Payload != nil) || !bytes.Contains(msg, p.Payload) || cap(p.Payload) != len(p.Payload) {
		fail("payload %x (attribute %v, capacity %d) is not a piece of the message", p.Payload, p.Has(AttrPayload), cap(p.Payload))
	}
	if p.Has(AttrHWAddr) != (p.HWAddr != nil) || len(p.HWAddr) > 8 {
		fail("hardware address %v", p.HWAddr)
	}
	if !p.Has(AttrSecCtx) && p.SecCtx != "" || !bytes.Contains(msg, []byte(p.SecCtx)) {
		fail("security context %q", p.SecCtx)
	}
	if !p.Has(AttrTimestamp) && !p.Timestamp.IsZero() {
		fail("timestamp %v without the attribute", p.Timestamp)
	}
	for _, f := range []struct {
		a Attr
		v uint32
	}{{AttrMark, p.Mark}, {AttrInDev, p.InDev}, {AttrOutDev, p.OutDev}, {AttrPhysInDev, p.PhysInDev},
		{AttrPhysOutDev, p.PhysOutDev}, {AttrSkbInfo, uint32(p.SkbInfo)}, {AttrUID, p.UID}, {AttrGID, p.GID}} {
		if !p.Has(f.a) && f.v != 0 {
			fail("value %d without attribute %#x", f.v, f.a)
		}
	}
	if p.Has(AttrL2Header) != (p.L2Header != nil) || !bytes.Contains(msg, p.L2Header) || cap(p.L2Header) != len(p.L2Header) {
		fail("L2 header %x (attribute %v) is not a piece of the message", p.L2Header, p.Has(AttrL2Header))
	}
	if p.attrs&(AttrConnID|AttrConnMark|AttrConnStatus|AttrConnZone) != 0 && !p.Has(AttrConntrack) {
		fail("conntrack values %#x without the conntrack nest", p.attrs)
	}
	for _, f := range []struct {
		a Attr
		v uint32
	}{{AttrConnState, uint32(p.ConnState)}, {AttrConnID, p.ConnID}, {AttrConnMark, p.ConnMark},
		{AttrConnStatus, p.ConnStatus}, {AttrConnZone, uint32(p.ConnZone)}, {AttrPriority, p.Priority},
		{AttrVLAN, uint32(p.VLANProto) | uint32(p.VLANTCI)}} {
		if !p.Has(f.a) && f.v != 0 {
			fail("value %d without attribute %#x", f.v, f.a)
		}
	}
	if !p.Has(AttrCapLen) && p.OrigLen != uint32(len(p.Payload)) {
		fail("original length %d for a whole payload of %d", p.OrigLen, len(p.Payload))
	}
}

// dispatchSeeds are kernel messages for queue fuzzQueue: whole and broken.
func dispatchSeeds() [][]byte {
	full := newPacketMsg(fuzzQueue, 77, 0x86dd, 0).
		u32(3, 0xfeed).
		attr(4, make([]byte, 16)).
		u32(5, 2).u32(6, 3).u32(7, 4).u32(8, 5).
		attr(9, []byte{0, 6, 0, 0, 1, 2, 3, 4, 5, 6, 0, 0}).
		attr(10, []byte{0x45, 0, 0, 20, 1, 2, 3}).
		u32(13, 1500).u32(14, 3).u32(16, 1234).u32(17, 4321).
		attr(18, []byte("system_u:object_r:ssh_t:s0\x00")).
		attr(19, []byte{0, 0, 0, 0}).
		bytes()
	minimal := newPacketMsg(fuzzQueue, 1, 0x0800, 3).bytes()
	odd := newPacketMsg(fuzzQueue, 2, 0x0800, 3).attr(10, []byte{0x45, 0, 0, 31, 9, 9, 9}).bytes()
	odd = odd[:len(odd)-1] // the kernel does not pad the last attribute
	malformed := newPacketMsg(fuzzQueue, 8, 0x0800, 3).attr(3, []byte{1, 2}).attr(9, []byte{0, 200}).bytes()
	two := append(append([]byte(nil), minimal...), newPacketMsg(fuzzQueue, 2, 0x0800, 1).u32(5, 1).bytes()...)
	nlErr := binary.LittleEndian.AppendUint32(nil, 36)
	nlErr = append(nlErr, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xfe, 0xff, 0xff, 0xff)
	nlErr = append(nlErr, make([]byte, 16)...)
	tracked := newPacketMsg(fuzzQueue, 9, 0x0800, 0).
		nest(nfqaCT, kernelCT(true)).u32(nfqaCTInfo, 3).
		nest(nfqaVLAN, func(v *msgBuilder) { v.u16(nfqaVLANProto, 0x8100).u16(nfqaVLANTCI, 42) }).
		attr(nfqaL2Hdr, []byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 8, 0}).
		u32(nfqaPriority, 6).
		bytes()
	return [][]byte{full, minimal, odd, malformed, two, nlErr, minimal[:18], full[:len(full)/2], tracked,
		tracked[:len(tracked)-20]}
}

// Found by FuzzDispatch: a message whose length field has the top bit set
// (the walk must stop, not jump).
func TestDispatchSurvivesAHugeMessageLength(t *testing.T) {
	q := socketlessQueue(t, Config{Queue: 9})
	msg := []byte(" \x00\x00\x85\x85\x85\x85\x85\x85\x85\x00\x00\x03\x00\x00\x00\x00\x00\x00\x00\x00\x00" +
		"\x00\x02\x00\x00\a\v\x00\x01\x00\x00\x00\x00\x01\b\x00\x03\x00")
	region, guarded := guardedCopy(t, msg)
	defer unix.Munmap(region)
	_ = q.dispatch(guarded)
	require.Empty(t, q.takePending(nil))
}

// Found by FuzzDispatch: the last message of a datagram, with a length that
// is not a multiple of 4 (the kernel sends such), holding attribute bytes in
// what would be its padding.
func TestDispatchReadsNothingPastTheDatagram(t *testing.T) {
	q := socketlessQueue(t, Config{Queue: 9})
	msg := []byte("A\x00\x00\x00\x00\x0300\x1000000000000\v\x00\x01\x0000000000 \x00\x00\x00\x00\x03" +
		"00000000000000\v\x00\x01\x00000000000")
	region, guarded := guardedCopy(t, msg)
	defer unix.Munmap(region)
	_ = q.dispatch(guarded)
	q.takePending(nil)
}
