package nfq

import (
	"errors"
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// FuzzConfigWithDefaults checks Config.withDefaults against a model: what
// it accepts, what it fills in, what it keeps, and that it is idempotent.
func FuzzConfigWithDefaults(f *testing.F) {
	f.Add(uint16(0), uint8(0), uint32(0), uint32(0), uint32(0), 0, false, uint32(Drop))
	f.Add(uint16(5), uint8(CopyMeta), uint32(0), uint32(10), uint32(FlagFailOpen), 4096, true, uint32(Accept))
	f.Add(uint16(65535), uint8(CopyPacket), uint32(MaxCopyRange), uint32(1<<31), uint32(flagsAll), 1<<30, false, uint32(ToQueue(1, true)))
	f.Add(uint16(1), uint8(CopyPacket), uint32(MaxCopyRange+1), uint32(0), uint32(0), 0, false, uint32(Accept))
	f.Add(uint16(1), uint8(3), uint32(0), uint32(0), uint32(0), 0, false, uint32(Accept))
	f.Add(uint16(1), uint8(CopyNone), uint32(0), uint32(0), uint32(0), 0, false, uint32(Accept))
	f.Add(uint16(1), uint8(0), uint32(0), uint32(0), uint32(1<<5), 0, false, uint32(Accept))
	f.Add(uint16(1), uint8(0), uint32(0), uint32(0), uint32(0), -1, false, uint32(Accept))
	f.Add(uint16(1), uint8(0), uint32(0), uint32(0), uint32(0), math.MaxInt32, false, uint32(Accept))
	wide := int64(math.MaxInt32) + 1 // a variable: on 32 bits the seed wraps instead of failing to compile
	f.Add(uint16(1), uint8(0), uint32(0), uint32(0), uint32(0), int(wide), false, uint32(Accept))
	f.Add(uint16(1), uint8(0), uint32(0), uint32(0), uint32(0), 0, false, uint32(2))
	f.Fuzz(func(t *testing.T, queue uint16, mode uint8, rng, maxLen, flags uint32, rbuf int, noENOBUFS bool, def uint32) {
		in := Config{Queue: queue, CopyMode: CopyMode(mode), CopyRange: rng, MaxQueueLen: maxLen,
			Flags: Flags(flags), ReadBufferSize: rbuf, NoENOBUFS: noENOBUFS, DefaultVerdict: Verdict(def)}
		// CopyNone is refused: the kernel would drop every packet.
		valid := (CopyMode(mode) == CopyPacket || CopyMode(mode) == CopyMeta) && rng <= MaxCopyRange && Flags(flags)&^flagsAll == 0 &&
			rbuf >= 0 && int64(rbuf) <= math.MaxInt32 && Verdict(def).validate() == nil

		out, err := in.withDefaults()
		if (err == nil) != valid {
			t.Fatalf("withDefaults(%+v) = %v, want valid=%v", in, err, valid)
		}
		if err != nil {
			if !errors.Is(err, ErrInvalidConfig) {
				t.Fatalf("%v does not wrap ErrInvalidConfig", err)
			}
			return
		}
		wantMode, wantRange := CopyMode(mode), rng
		if wantRange == 0 {
			wantRange = MaxCopyRange
		}
		if out.ThreadWait != DefaultThreadWait {
			t.Fatalf("thread wait %v, want the default %v", out.ThreadWait, DefaultThreadWait)
		}
		if out.CopyMode != wantMode || out.CopyRange != wantRange {
			t.Fatalf("copy mode %v/%d, want %v/%d", out.CopyMode, out.CopyRange, wantMode, wantRange)
		}
		if out.Queue != in.Queue || out.MaxQueueLen != in.MaxQueueLen || out.Flags != in.Flags ||
			out.ReadBufferSize != in.ReadBufferSize || out.NoENOBUFS != in.NoENOBUFS ||
			out.DefaultVerdict != in.DefaultVerdict {
			t.Fatalf("withDefaults changed a field it should keep: %+v -> %+v", in, out)
		}
		again, err := out.withDefaults()
		if err != nil || again.CopyMode != out.CopyMode || again.CopyRange != out.CopyRange {
			t.Fatalf("not idempotent: %+v -> %+v, %v", out, again, err)
		}
	})
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
