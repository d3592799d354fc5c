package nfq

import (
	"errors"
	"fmt"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

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

func TestPacketWithoutQueueRefusesVerdict(t *testing.T) {
	p := &Packet{ID: 3}
	err := p.Accept()
	assert.ErrorIs(t, err, ErrInvalidVerdict)
	assert.Contains(t, err.Error(), "did not come from a queue")
}

func TestConfigDefaults(t *testing.T) {
	c, err := Config{Queue: 3}.withDefaults()
	require.NoError(t, err)
	assert.Equal(t, CopyPacket, c.CopyMode)
	assert.Equal(t, uint32(MaxCopyRange), c.CopyRange)
	assert.Equal(t, Drop, c.DefaultVerdict)
	assert.Equal(t, DefaultThreadWait, c.ThreadWait)

	c, err = Config{CopyMode: CopyMeta, CopyRange: 100, ThreadWait: -1}.withDefaults()
	require.NoError(t, err)
	assert.Equal(t, CopyMeta, c.CopyMode)
	assert.Equal(t, uint32(100), c.CopyRange)
	assert.Equal(t, time.Duration(-1), c.ThreadWait, "negative turns the wait off and stays")

	c, err = Config{ThreadWait: MaxThreadWait}.withDefaults()
	require.NoError(t, err)
	assert.Equal(t, MaxThreadWait, c.ThreadWait)
}

// Every spelling of the copy mode means what it says: the zero value and
// CopyPacket copy packets, CopyMeta metadata, and CopyNone, which would make
// the kernel drop every packet, is refused.
func TestCopyModeSpellings(t *testing.T) {
	var zero Config
	assert.Equal(t, CopyPacket, zero.CopyMode, "the zero value is CopyPacket")
	for _, m := range []CopyMode{CopyPacket, CopyMeta} {
		c, err := Config{CopyMode: m}.withDefaults()
		require.NoError(t, err)
		assert.Equal(t, m, c.CopyMode, "kept as given")
	}
	_, err := Config{CopyMode: CopyNone}.withDefaults()
	assert.ErrorIs(t, err, ErrInvalidConfig)
	assert.ErrorContains(t, err, "drop every packet")

	// What the kernel is told (NFQNL_COPY_* of <linux/netfilter/nfnetlink_queue.h>).
	assert.Equal(t, uint8(2), CopyPacket.kernel())
	assert.Equal(t, uint8(1), CopyMeta.kernel())
	assert.Equal(t, uint8(0), CopyNone.kernel())
}

func TestConfigRejectsBadValues(t *testing.T) {
	for name, c := range map[string]Config{
		"copy mode":       {CopyMode: 7},
		"copy mode none":  {CopyMode: CopyNone},
		"copy range 64K":  {CopyRange: 0xffff},
		"copy range":      {CopyRange: MaxCopyRange + 1},
		"flags":           {Flags: 1 << 9},
		"buffer":          {ReadBufferSize: -1},
		"default verdict": {DefaultVerdict: Verdict(2)},
		"thread wait":     {ThreadWait: MaxThreadWait + 1},
	} {
		_, err := c.withDefaults()
		assert.ErrorIs(t, err, ErrInvalidConfig, name)
	}
}

func TestFlagsString(t *testing.T) {
	assert.Equal(t, "none", Flags(0).String())
	assert.Equal(t, "fail-open|gso", (FlagFailOpen | FlagGSO).String())
	assert.Equal(t, "uid-gid|0x100", (FlagUIDGID | 0x100).String())
	assert.Equal(t, "fail-open|conntrack|gso|uid-gid|secctx", flagsAll.String())
}

// Every type a packet log shows prints as a word, not a number.
func TestStringsForLogging(t *testing.T) {
	for v, want := range map[fmt.Stringer]string{
		CopyPacket: "packet", CopyMeta: "meta", CopyNone: "none", CopyMode(9): "copymode(9)",
		HookPrerouting: "PREROUTING", HookInput: "INPUT", HookForward: "FORWARD",
		HookOutput: "OUTPUT", HookPostrouting: "POSTROUTING", Hook(9): "hook(9)",
		ConnNew: "NEW", ConnRelatedReply: "RELATED_REPLY", ConnState(7): "connstate(7)",
		Attr(0):                             "none",
		AttrMark | AttrOutDev | AttrPayload: "mark|outdev|payload",
		AttrConntrack | AttrConnState | AttrVLAN | AttrPriority: "conntrack|connstate|vlan|priority",
		AttrPriority | 1<<30:          "priority|0x40000000",
		SkbInfo(0):                    "none",
		SkbChecksumNotReady | SkbGSO:  "csum-not-ready|gso",
		SkbChecksumNotVerified | 1<<5: "csum-not-verified|0x20",
	} {
		assert.Equal(t, want, v.String(), "%T %d", v, v)
	}
	// Every named attribute has its own word.
	words := map[string]bool{}
	for a := AttrMark; a <= AttrPriority; a <<= 1 {
		s := a.String()
		assert.NotContains(t, s, "0x", "Attr %d has a name", uint32(a))
		assert.False(t, words[s], "Attr names are unique: %s", s)
		words[s] = true
	}
	p := &Packet{attrs: AttrMark | AttrUID}
	assert.Equal(t, "mark|uid", p.Attrs().String())
}

func TestOpErrorNamesOperationQueueAndCause(t *testing.T) {
	err := error(&OpError{Op: "bind queue", Queue: 7, Err: syscall.EPERM, Kind: ErrNoPermission, Hint: "run as root"})
	assert.Equal(t, "nfq: queue 7: bind queue: operation not permitted (run as root)", err.Error())
	assert.ErrorIs(t, err, os.ErrPermission)
	assert.ErrorIs(t, err, syscall.EPERM)
	assert.ErrorIs(t, err, ErrNoPermission)
	var errno syscall.Errno
	require.True(t, errors.As(err, &errno))
	assert.Equal(t, syscall.EPERM, errno)
}

func TestAttrPresence(t *testing.T) {
	p := &Packet{attrs: AttrMark | AttrUID}
	assert.True(t, p.Has(AttrMark))
	assert.True(t, p.Has(AttrUID))
	assert.False(t, p.Has(AttrGID))
	assert.False(t, p.Has(AttrMark|AttrGID))
}
