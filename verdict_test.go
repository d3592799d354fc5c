package nfq

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// FuzzVerdict checks Verdict's String, validate, QueueNum and ToQueue
// against a model written from <linux/netfilter.h>.
func FuzzVerdict(f *testing.F) {
	for _, v := range []uint32{0, 1, 2, 3, 4, 5, 6, 0xff, 0x100, 0x8000, 0x8003, 0x7f03, 7<<16 | 3,
		0xffff8003, 0xffffffff, 1 | 0x100, 3 | 0x100} {
		f.Add(v)
	}
	f.Fuzz(func(t *testing.T, raw uint32) {
		v := Verdict(raw)
		code := raw & 0xff
		isQueue := code == 3
		valid := (code == 0 || code == 1 || code == 4 || code == 5) && raw>>8 == 0 ||
			isQueue && raw&0x7f00 == 0

		err := v.validate()
		if (err == nil) != valid {
			t.Fatalf("validate(%#x) = %v, want valid=%v", raw, err, valid)
		}
		if err != nil && (!errors.Is(err, ErrInvalidVerdict) || !strings.Contains(err.Error(), "0x")) {
			t.Fatalf("validate(%#x): %v does not wrap ErrInvalidVerdict or name the value", raw, err)
		}

		s := v.String()
		if s == "" || s != v.String() {
			t.Fatalf("String(%#x) = %q, not stable", raw, s)
		}
		if valid != !strings.HasPrefix(s, "verdict(") {
			t.Fatalf("String(%#x) = %q for valid=%v", raw, s, valid)
		}

		n, bypass, ok := v.QueueNum()
		if ok != isQueue {
			t.Fatalf("QueueNum(%#x) ok = %v", raw, ok)
		}
		if ok && (uint32(n) != raw>>16 || bypass != (raw&0x8000 != 0)) {
			t.Fatalf("QueueNum(%#x) = %d, %v", raw, n, bypass)
		}
		if valid && isQueue {
			if ToQueue(n, bypass) != v {
				t.Fatalf("ToQueue(QueueNum(%#x)) = %#x", raw, uint32(ToQueue(n, bypass)))
			}
			want := fmt.Sprintf("queue:%d", n)
			if bypass {
				want += "+bypass"
			}
			if s != want {
				t.Fatalf("String(%#x) = %q, want %q", raw, s, want)
			}
		}

		// Every ToQueue verdict is valid and round-trips.
		qn, qb := uint16(raw), raw&(1<<16) != 0
		tq := ToQueue(qn, qb)
		if err := tq.validate(); err != nil {
			t.Fatalf("ToQueue(%d, %v) invalid: %v", qn, qb, err)
		}
		if gn, gb, ok := tq.QueueNum(); !ok || gn != qn || gb != qb {
			t.Fatalf("ToQueue(%d, %v).QueueNum() = %d, %v, %v", qn, qb, gn, gb, ok)
		}
	})
}

// FuzzBuildVerdict checks buildVerdict against a model: ops describes the
// options, one byte each (0 a zero VerdictOption, 1 WithMark, 2 WithPayload
// of a length chosen by the next byte, 3 WithConnMark).
func FuzzBuildVerdict(f *testing.F) {
	f.Add(uint32(Accept), []byte{}, uint32(0))
	f.Add(uint32(Accept), []byte{1, 2, 0}, uint32(7))
	f.Add(uint32(Drop), []byte{2, 1}, uint32(7))
	f.Add(uint32(Drop), []byte{1}, uint32(1))
	f.Add(uint32(Repeat), []byte{1, 1}, uint32(1))
	f.Add(uint32(Accept), []byte{2, 2}, uint32(0))
	f.Add(uint32(Accept), []byte{2, 3}, uint32(0))
	f.Add(uint32(Accept), []byte{2, 4}, uint32(0))
	f.Add(uint32(Accept), []byte{0}, uint32(0))
	f.Add(uint32(ToQueue(3, true)), []byte{2, 1, 1}, uint32(0))
	f.Add(uint32(2), []byte{1}, uint32(0))
	f.Add(uint32(Drop), []byte{3, 1}, uint32(5))
	f.Add(uint32(Accept), []byte{3, 2, 1, 3}, uint32(5))
	sizes := []int{0, 1, 20, MaxPayloadLen, MaxPayloadLen + 1}
	f.Fuzz(func(t *testing.T, raw uint32, ops []byte, mark uint32) {
		if len(ops) > 16 {
			return
		}
		v := Verdict(raw)
		var opts []VerdictOption
		marks, payloads, connMarks, zeros, tooLarge, empty := 0, 0, 0, 0, false, false
		var lastMark, lastConnMark uint32
		var lastPayload []byte
		for i := 0; i < len(ops); i++ {
			switch ops[i] % 4 {
			case 0:
				opts = append(opts, VerdictOption{})
				zeros++
			case 1:
				lastMark = mark + uint32(i)
				opts = append(opts, WithMark(lastMark))
				marks++
			case 2:
				n := 20
				if i+1 < len(ops) {
					i++
					n = sizes[int(ops[i])%len(sizes)]
				}
				lastPayload = make([]byte, n)
				opts = append(opts, WithPayload(lastPayload))
				payloads++
				tooLarge = tooLarge || n > MaxPayloadLen
				empty = empty || n == 0
			case 3:
				lastConnMark = ^mark - uint32(i)
				opts = append(opts, WithConnMark(lastConnMark))
				connMarks++
			}
		}
		valid := v.validate() == nil && zeros == 0 && marks <= 1 && payloads <= 1 && connMarks <= 1 && !tooLarge && !empty &&
			!(v == Drop && payloads == 1)

		r, err := buildVerdict(v, opts)
		if (err == nil) != valid {
			t.Fatalf("buildVerdict(%v, %v) = %v, want valid=%v", v, ops, err, valid)
		}
		if err != nil {
			if !errors.Is(err, ErrInvalidVerdict) && !errors.Is(err, ErrPayloadTooLarge) {
				t.Fatalf("error %v wraps neither ErrInvalidVerdict nor ErrPayloadTooLarge", err)
			}
			if errors.Is(err, ErrPayloadTooLarge) && !tooLarge {
				t.Fatalf("ErrPayloadTooLarge without a payload over the limit: %v", err)
			}
			return
		}
		if r.verdict != v || r.setMark != (marks == 1) || r.hasPayload != (payloads == 1) {
			t.Fatalf("buildVerdict(%v, %v) = %+v", v, ops, r)
		}
		if r.setConnMark != (connMarks == 1) || r.setConnMark && r.connMark != lastConnMark {
			t.Fatalf("conn mark %v %d, want %d of %d", r.setConnMark, r.connMark, connMarks, lastConnMark)
		}
		if r.setMark && r.mark != lastMark {
			t.Fatalf("mark %d, want %d", r.mark, lastMark)
		}
		if r.hasPayload && (len(r.payload) != len(lastPayload) || len(r.payload) == 0 || len(r.payload) > MaxPayloadLen) {
			t.Fatalf("payload of %d bytes, want %d", len(r.payload), len(lastPayload))
		}
	})
}

func TestVerdictValuesMatchTheKernel(t *testing.T) {
	// <linux/netfilter.h>
	assert.Equal(t, Verdict(0), Drop)
	assert.Equal(t, Verdict(1), Accept)
	assert.Equal(t, Verdict(4), Repeat)
	assert.Equal(t, Verdict(5), Stop)
	assert.Equal(t, Verdict(7<<16|3), ToQueue(7, false), "NF_QUEUE_NR(7)")
	assert.Equal(t, Verdict(7<<16|3|0x8000), ToQueue(7, true), "with NF_VERDICT_FLAG_QUEUE_BYPASS")
}

func TestVerdictString(t *testing.T) {
	for v, want := range map[Verdict]string{
		Drop: "drop", Accept: "accept", Repeat: "repeat", Stop: "stop",
		ToQueue(3, false): "queue:3", ToQueue(65535, true): "queue:65535+bypass",
		Verdict(2): "verdict(0x2)", Verdict(0x100): "verdict(0x100)",
	} {
		assert.Equal(t, want, v.String())
	}
}

func TestVerdictQueueNum(t *testing.T) {
	n, bypass, ok := ToQueue(42, true).QueueNum()
	assert.Equal(t, uint16(42), n)
	assert.True(t, bypass)
	assert.True(t, ok)
	_, _, ok = Accept.QueueNum()
	assert.False(t, ok)
}

func TestVerdictValidation(t *testing.T) {
	for _, v := range []Verdict{Drop, Accept, Repeat, Stop, ToQueue(0, false), ToQueue(9, true)} {
		assert.NoError(t, v.validate(), v.String())
	}
	for _, v := range []Verdict{2 /* NF_STOLEN */, 6, 0xff, Accept | 0x100, 3 | 0x100} {
		assert.ErrorIs(t, v.validate(), ErrInvalidVerdict, v.String())
	}
}

func TestBuildVerdict(t *testing.T) {
	r, err := buildVerdict(Accept, []VerdictOption{WithMark(9), WithPayload([]byte{1, 2})})
	require.NoError(t, err)
	assert.Equal(t, verdictRequest{verdict: Accept, setMark: true, mark: 9, hasPayload: true, payload: []byte{1, 2}}, r)

	r, err = buildVerdict(Drop, nil)
	require.NoError(t, err)
	assert.False(t, r.setMark)
	assert.False(t, r.hasPayload)

	r, err = buildVerdict(Accept, []VerdictOption{WithMark(0)})
	require.NoError(t, err)
	assert.True(t, r.setMark, "a zero mark is still a mark to set")

	_, err = buildVerdict(Accept, []VerdictOption{WithMark(1), WithMark(2)})
	assert.ErrorIs(t, err, ErrInvalidVerdict)
	_, err = buildVerdict(Accept, []VerdictOption{WithPayload([]byte{1}), WithPayload([]byte{2})})
	assert.ErrorIs(t, err, ErrInvalidVerdict)
	_, err = buildVerdict(Accept, []VerdictOption{WithPayload(nil)})
	assert.ErrorIs(t, err, ErrInvalidVerdict)
	_, err = buildVerdict(Accept, []VerdictOption{{}})
	assert.ErrorIs(t, err, ErrInvalidVerdict)
	_, err = buildVerdict(Drop, []VerdictOption{WithPayload([]byte{1})})
	assert.ErrorIs(t, err, ErrInvalidVerdict)
	_, err = buildVerdict(Accept, []VerdictOption{WithPayload(make([]byte, MaxPayloadLen))})
	assert.NoError(t, err)
	_, err = buildVerdict(Accept, []VerdictOption{WithPayload(make([]byte, MaxPayloadLen+1))})
	assert.ErrorIs(t, err, ErrPayloadTooLarge)
	_, err = buildVerdict(Verdict(2), nil)
	assert.ErrorIs(t, err, ErrInvalidVerdict)
}
