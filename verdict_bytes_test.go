//go:build linux && cgo

package nfq

import (
	"bytes"
	"encoding/binary"
	"sort"
	"testing"

	"github.com/nfq-go/nfq/internal/cref"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// verdictCase gives verdicts to fresh packets and says what the C library
// builds for the same requests.
type verdictCase struct {
	name  string
	ids   []uint32
	give  func(t *testing.T, ps []*Packet) // gives the verdicts
	all   bool                             // every packet has its verdict when the buffer is taken
	want  []cref.Verdict
	after func(t *testing.T, ps []*Packet) // gives what give left out, after the comparison
}

func TestVerdictBytesMatchTheCLibrary(t *testing.T) {
	// A queue without a socket asks no kernel for its flags: FlagConntrack
	// only lets the connection marks through.
	q := socketlessQueue(t, Config{Queue: 9, Flags: FlagConntrack})
	q.holdVerdicts()

	// 21 bytes, an IPv4 header and one more: the attribute needs padding.
	payload := []byte{0x45, 0, 0, 21, 0, 0, 0, 0, 64, 17, 0, 0, 127, 0, 0, 1, 127, 0, 0, 1, 0xaa}
	big := make([]byte, 1500)
	for i := range big {
		big[i] = byte(i)
	}
	one := func(give func(p *Packet) error) func(*testing.T, []*Packet) {
		return func(t *testing.T, ps []*Packet) { require.NoError(t, give(ps[0])) }
	}
	accept := uint32(Accept)
	cases := []verdictCase{
		{name: "accept", ids: []uint32{1}, all: true,
			give: one((*Packet).Accept), want: []cref.Verdict{{ID: 1, Verdict: accept}}},
		{name: "drop", ids: []uint32{2}, all: true,
			give: one((*Packet).Drop), want: []cref.Verdict{{ID: 2, Verdict: uint32(Drop)}}},
		// A big payload first, so that the next cases are written over
		// stale bytes: padding must not leak them.
		{name: "payload", ids: []uint32{3}, all: true,
			give: one(func(p *Packet) error { return p.AcceptWithPayload(big) }),
			want: []cref.Verdict{{ID: 3, Verdict: accept, Payload: big}}},
		{name: "repeat and mark", ids: []uint32{4}, all: true,
			give: one(func(p *Packet) error { return p.SetVerdict(Repeat, WithMark(0x1234)) }),
			want: []cref.Verdict{{ID: 4, Verdict: uint32(Repeat), SetMark: true, Mark: 0x1234}}},
		{name: "stop", ids: []uint32{5}, all: true,
			give: one(func(p *Packet) error { return p.SetVerdict(Stop) }),
			want: []cref.Verdict{{ID: 5, Verdict: uint32(Stop)}}},
		{name: "to queue with bypass", ids: []uint32{6}, all: true,
			give: one(func(p *Packet) error { return p.SetVerdict(ToQueue(700, true)) }),
			want: []cref.Verdict{{ID: 6, Verdict: 700<<16 | 0x8000 | 3}}},
		{name: "to queue", ids: []uint32{7}, all: true,
			give: one(func(p *Packet) error { return p.SetVerdict(ToQueue(1, false)) }),
			want: []cref.Verdict{{ID: 7, Verdict: 1<<16 | 3}}},
		{name: "odd payload", ids: []uint32{8}, all: true,
			give: one(func(p *Packet) error { return p.AcceptWithPayload(payload) }),
			want: []cref.Verdict{{ID: 8, Verdict: accept, Payload: payload}}},
		{name: "conn mark", ids: []uint32{9}, all: true,
			give: one(func(p *Packet) error { return p.SetVerdict(Accept, WithConnMark(0xc0ffee)) }),
			want: []cref.Verdict{{ID: 9, Verdict: accept, SetConnMark: true, ConnMark: 0xc0ffee}}},
		{name: "conn mark with drop", ids: []uint32{10}, all: true,
			give: one(func(p *Packet) error { return p.SetVerdict(Drop, WithConnMark(0)) }),
			want: []cref.Verdict{{ID: 10, Verdict: uint32(Drop), SetConnMark: true, ConnMark: 0}}},
		{name: "every option", ids: []uint32{11}, all: true,
			give: one(func(p *Packet) error {
				return p.SetVerdict(Repeat, WithPayload(payload), WithConnMark(0xfeedface), WithMark(0x77))
			}),
			want: []cref.Verdict{{ID: 11, Verdict: uint32(Repeat), SetMark: true, Mark: 0x77,
				SetConnMark: true, ConnMark: 0xfeedface, Payload: payload}}},
		{name: "mixed verdicts coalesced in one datagram", ids: []uint32{20, 21, 22, 23}, all: true,
			give: func(t *testing.T, ps []*Packet) {
				require.NoError(t, ps[0].Accept())
				require.NoError(t, ps[1].SetVerdict(Drop, WithMark(5)))
				require.NoError(t, ps[2].SetVerdict(Accept, WithConnMark(6)))
				require.NoError(t, ps[3].SetVerdict(ToQueue(3, false)))
			},
			want: []cref.Verdict{{ID: 20, Verdict: accept}, {ID: 21, Verdict: uint32(Drop), SetMark: true, Mark: 5},
				{ID: 22, Verdict: accept, SetConnMark: true, ConnMark: 6}, {ID: 23, Verdict: 3<<16 | 3}}},
		{name: "identical plain verdicts become one batch message", ids: []uint32{30, 31, 32, 33}, all: true,
			give: func(t *testing.T, ps []*Packet) {
				// out of order: the batch names the latest id, not the last given
				for _, i := range []int{1, 0, 3, 2} {
					require.NoError(t, ps[i].Accept())
				}
			},
			want: []cref.Verdict{{Batch: true, ID: 33, Verdict: accept}}},
		{name: "batch of drops", ids: []uint32{34, 35}, all: true,
			give: func(t *testing.T, ps []*Packet) {
				require.NoError(t, ps[0].Drop())
				require.NoError(t, ps[1].Drop())
			},
			want: []cref.Verdict{{Batch: true, ID: 35, Verdict: uint32(Drop)}}},
		{name: "a conn mark keeps identical verdicts apart", ids: []uint32{40, 41, 42}, all: true,
			give: func(t *testing.T, ps []*Packet) {
				require.NoError(t, ps[0].Accept())
				require.NoError(t, ps[1].SetVerdict(Accept, WithConnMark(1)))
				require.NoError(t, ps[2].Accept())
			},
			want: []cref.Verdict{{ID: 40, Verdict: accept}, {ID: 41, Verdict: accept, SetConnMark: true, ConnMark: 1},
				{ID: 42, Verdict: accept}}},
		{name: "no batch while a packet waits for its verdict", ids: []uint32{50, 51, 52}, all: false,
			give: func(t *testing.T, ps []*Packet) {
				require.NoError(t, ps[0].Accept())
				require.NoError(t, ps[2].Accept())
			},
			want: []cref.Verdict{{ID: 50, Verdict: accept}, {ID: 52, Verdict: accept}},
			after: func(t *testing.T, ps []*Packet) {
				require.NoError(t, ps[1].Accept())
				_, err := q.takePendingVerdicts()
				require.NoError(t, err)
			}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ps := make([]*Packet, len(c.ids))
			for i, id := range c.ids {
				ps[i] = dispatchOne(t, q, newPacketMsg(q.Num(), id, 0x0800, 3).nest(nfqaCT, kernelCT(false)).bytes())
			}
			c.give(t, ps)
			all := q.everyPacketDecided()
			require.Equal(t, c.all, all, "every received packet has its verdict")
			got, err := q.takePendingVerdicts()
			require.NoError(t, err)
			want := cref.Datagram(q.Num(), c.want...)
			checkHeaders(t, got, len(c.want))
			assert.Equal(t, want, got, "byte for byte as libnetfilter_queue builds it")
			if c.after != nil {
				c.after(t, ps)
			}
		})
	}
}

// checkHeaders walks the netlink messages of a verdict datagram. Sequence
// number and port id are 0 on both sides: a verdict asks for no answer, and
// the kernel fills in the sender's port. Comparing them still matters, since
// a stray value in either would be sent to the kernel.
func checkHeaders(t *testing.T, b []byte, n int) {
	t.Helper()
	count := 0
	for off := 0; off < len(b); count++ {
		require.GreaterOrEqual(t, len(b)-off, 20, "a netlink and nfgenmsg header")
		l := int(binary.LittleEndian.Uint32(b[off:]))
		require.LessOrEqual(t, off+l, len(b))
		typ := binary.LittleEndian.Uint16(b[off+4:])
		assert.Contains(t, []uint16{3<<8 | 1, 3<<8 | 3}, typ, "NFQNL_MSG_VERDICT or NFQNL_MSG_VERDICT_BATCH")
		assert.Equal(t, uint16(1), binary.LittleEndian.Uint16(b[off+6:]), "NLM_F_REQUEST, no ACK")
		assert.Zero(t, binary.LittleEndian.Uint32(b[off+8:]), "nlmsg_seq")
		assert.Zero(t, binary.LittleEndian.Uint32(b[off+12:]), "nlmsg_pid")
		assert.Equal(t, uint16(9), binary.BigEndian.Uint16(b[off+18:]), "res_id is the queue number")
		off += (l + 3) &^ 3
	}
	assert.Equal(t, n, count, "messages in the datagram")
}

// TestConnMarkEncoding decodes the conn mark verdict independently of any C
// code: a nested NFQA_CT holding a big-endian CTA_MARK.
func TestConnMarkEncoding(t *testing.T) {
	q := socketlessQueue(t, Config{Queue: 9, Flags: FlagConntrack})
	q.holdVerdicts()
	p := dispatchOne(t, q, newPacketMsg(q.Num(), 3, 0x0800, 3).nest(nfqaCT, kernelCT(false)).bytes())
	require.NoError(t, p.SetVerdict(Accept, WithConnMark(0x01020304)))
	b, err := q.takePendingVerdicts()
	require.NoError(t, err)
	attrs := b[20:]
	var ct []byte
	for len(attrs) >= 4 {
		l := int(binary.LittleEndian.Uint16(attrs))
		typ := binary.LittleEndian.Uint16(attrs[2:])
		if typ&^nlaFNested == nfqaCT {
			assert.NotZero(t, typ&nlaFNested, "NFQA_CT is flagged as a nest")
			ct = attrs[4:l]
		}
		attrs = attrs[(l+3)&^3:]
	}
	require.Equal(t, []byte{8, 0, ctaMark, 0, 1, 2, 3, 4}, ct, "CTA_MARK 0x01020304, big-endian")
}

func TestConnMarkRefusedWhenTheKernelWouldIgnoreIt(t *testing.T) {
	q := socketlessQueue(t, Config{Queue: 9})
	q.holdVerdicts()
	tracked := func(id uint32) *Packet {
		return dispatchOne(t, q, newPacketMsg(q.Num(), id, 0x0800, 3).nest(nfqaCT, kernelCT(false)).bytes())
	}
	nothingSent := func(t *testing.T, p *Packet) {
		t.Helper()
		b, err := q.takePendingVerdicts()
		require.NoError(t, err)
		assert.Empty(t, b, "nothing was sent")
		require.NoError(t, p.Accept(), "the packet still takes its verdict")
		_, err = q.takePendingVerdicts()
		require.NoError(t, err)
	}

	t.Run("queue without FlagConntrack", func(t *testing.T) {
		p := tracked(1)
		err := p.SetVerdict(Accept, WithConnMark(1))
		require.ErrorIs(t, err, ErrInvalidVerdict)
		assert.Contains(t, err.Error(), "FlagConntrack")
		nothingSent(t, p)
	})

	q.cfg.Flags |= FlagConntrack // from here on, as if opened with it
	t.Run("untracked packet", func(t *testing.T) {
		p := dispatchOne(t, q, newPacketMsg(q.Num(), 2, 0x0800, 3).bytes())
		err := p.SetVerdict(Drop, WithConnMark(1))
		require.ErrorIs(t, err, ErrInvalidVerdict)
		assert.Contains(t, err.Error(), "untracked")
		nothingSent(t, p)
	})
	t.Run("given twice", func(t *testing.T) {
		p := tracked(3)
		err := p.SetVerdict(Accept, WithConnMark(1), WithMark(2), WithConnMark(3))
		require.ErrorIs(t, err, ErrInvalidVerdict)
		assert.Contains(t, err.Error(), "WithConnMark given twice")
		nothingSent(t, p)
	})
	t.Run("tracked packet on a conntrack queue", func(t *testing.T) {
		p := tracked(4)
		require.NoError(t, p.SetVerdict(Accept, WithConnMark(1), WithMark(2)))
		b, err := q.takePendingVerdicts()
		require.NoError(t, err)
		assert.NotEmpty(t, b)
	})
}

// FuzzVerdictBytes gives the packets of a receive batch verdicts of every
// kind, with and without marks, connection marks and payloads, in any order,
// some left without one, on a queue without a socket, and checks the
// datagram the buffer would send against the C library's encoding of the
// same verdicts: one message each in the order given, or one batch message
// when they are identical, plain and no packet up to the latest id still
// waits. ops holds three bytes a packet: what it gets (kind), its options,
// and when it gets it (the order); first is the id of the first packet, so
// that ids wrap too.
func FuzzVerdictBytes(f *testing.F) {
	f.Add(uint32(1), []byte{0, 0, 0, 0, 0, 1, 0, 0, 2})
	f.Add(uint32(0xfffffffe), []byte{1, 0, 2, 1, 0, 1, 1, 0, 0})
	f.Add(uint32(100), []byte{0, 0, 0, 7, 0, 0, 0, 0, 0})
	f.Add(uint32(100), []byte{7, 0, 0, 0, 0, 1, 0, 0, 2})
	f.Add(uint32(5), []byte{2, 1, 0, 3, 2, 1, 4, 4, 2, 5, 7, 3, 0, 6, 4})
	q := socketlessQueue(f, Config{Queue: 9, Flags: FlagConntrack})
	q.holdVerdicts()
	payloads := []int{20, 21, 23, 40, 1500}
	f.Fuzz(func(t *testing.T, first uint32, ops []byte) {
		n := min(len(ops)/3, 12)
		if n == 0 {
			return
		}
		type plan struct {
			p     *Packet
			give  bool
			r     cref.Verdict
			opts  []VerdictOption
			order byte
		}
		plans := make([]plan, n)
		for i := range plans {
			kind, opt, order := ops[3*i], ops[3*i+1], ops[3*i+2]
			id := first + uint32(i)
			pl := plan{give: kind%8 != 7, order: order, r: cref.Verdict{ID: id}}
			v := []Verdict{Accept, Drop, Repeat, Stop, ToQueue(uint16(opt)<<4, false), ToQueue(3, true), Accept}[kind%8%7]
			pl.r.Verdict = uint32(v)
			pl.opts = []VerdictOption{}
			if opt&1 != 0 {
				pl.r.SetMark, pl.r.Mark = true, id*7
				pl.opts = append(pl.opts, WithMark(id*7))
			}
			if opt&2 != 0 {
				pl.r.SetConnMark, pl.r.ConnMark = true, ^id
				pl.opts = append(pl.opts, WithConnMark(^id))
			}
			if opt&4 != 0 && v != Drop {
				pl.r.Payload = bytes.Repeat([]byte{byte(id)}, payloads[int(opt>>3)%len(payloads)])
				pl.opts = append(pl.opts, WithPayload(pl.r.Payload))
			}
			pl.opts = pl.opts[:len(pl.opts):len(pl.opts)]
			plans[i] = pl
		}
		for i := range plans {
			msg := newPacketMsg(q.Num(), plans[i].r.ID, 0x0800, 3).nest(nfqaCT, kernelCT(false)).bytes()
			require.NoError(t, q.dispatch(msg))
		}
		got := q.takePending(nil)
		require.Len(t, got, n)
		for i := range plans {
			plans[i].p = got[i]
		}
		byOrder := append([]plan(nil), plans...)
		sort.SliceStable(byOrder, func(a, b int) bool { return byOrder[a].order < byOrder[b].order })

		var want []cref.Verdict
		for _, pl := range byOrder {
			if pl.give {
				require.NoError(t, pl.p.SetVerdict(Verdict(pl.r.Verdict), pl.opts...))
				want = append(want, pl.r)
			}
		}
		// The batch rule, from the kernel's side: a batch message gives its
		// verdict to every waiting packet with an id up to its own.
		if len(want) > 1 {
			latest, same := want[0].ID, true
			for _, w := range want {
				if int32(w.ID-latest) > 0 {
					latest = w.ID
				}
				plain := !w.SetMark && !w.SetConnMark && w.Payload == nil
				same = same && plain && w.Verdict == want[0].Verdict
			}
			for _, pl := range plans { // in arrival order: the first waiting one is the lowest
				if !pl.give {
					same = same && int32(pl.r.ID-latest) > 0
					break
				}
			}
			if same {
				want = []cref.Verdict{{Batch: true, ID: latest, Verdict: want[0].Verdict}}
			}
		}
		b, err := q.takePendingVerdicts()
		require.NoError(t, err)
		if !bytes.Equal(cref.Datagram(q.Num(), want...), b) {
			t.Fatalf("verdicts %+v: sent\n% x\nthe C library builds\n% x", want, b, cref.Datagram(q.Num(), want...))
		}

		// Every packet gets its verdict before the next round.
		for _, pl := range plans {
			if !pl.give {
				require.NoError(t, pl.p.Drop())
			}
		}
		_, err = q.takePendingVerdicts()
		require.NoError(t, err)
		require.True(t, q.everyPacketDecided())
	})
}
