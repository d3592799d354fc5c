//go:build linux && cgo

package nfq

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestConnMarkRefusedWhenTheKernelWouldIgnoreIt(t *testing.T) {
	q := openTestQueue(t)
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

	q.cfg.Flags |= FlagConntrack // as if the kernel had taken it
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
