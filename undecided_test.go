package nfq

import (
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func packetsWithIDs(first uint32, n int) []*Packet {
	ps := make([]*Packet, n)
	for i := range ps {
		ps[i] = &Packet{ID: first + uint32(i)}
	}
	return ps
}

func TestUndecidedLowestFollowsVerdictsInAnyOrder(t *testing.T) {
	var u undecided
	_, any, known := u.lowest()
	assert.False(t, any)
	assert.True(t, known)

	ps := packetsWithIDs(10, 4)
	for _, p := range ps {
		u.add(p)
	}
	lowest := func() uint32 {
		id, any, known := u.lowest()
		require.True(t, any)
		require.True(t, known)
		return id
	}
	assert.EqualValues(t, 10, lowest())
	u.decide(ps[2])
	assert.EqualValues(t, 10, lowest(), "a later verdict does not move the lowest")
	u.decide(ps[0])
	assert.EqualValues(t, 11, lowest())
	u.decide(ps[1])
	assert.EqualValues(t, 13, lowest(), "the run of decided packets leaves together")
	u.decide(ps[3])
	_, any, _ = u.lowest()
	assert.False(t, any)
}

func TestUndecidedMatchesABruteForceModel(t *testing.T) {
	var u undecided
	rng := rand.New(rand.NewPCG(1, 2))
	waiting := map[*Packet]bool{}
	id := uint32(1<<32 - 500) // wraps during the test
	for step := 0; step < 20000; step++ {
		if len(waiting) == 0 || (len(waiting) < 64 && rng.IntN(2) == 0) {
			for _, p := range packetsWithIDs(id, 1+rng.IntN(4)) {
				u.add(p)
				waiting[p] = true
				id++
			}
		} else {
			for p := range waiting { // any one of them
				u.decide(p)
				delete(waiting, p)
				break
			}
		}
		got, any, known := u.lowest()
		require.True(t, known)
		require.Equal(t, len(waiting) > 0, any)
		if any {
			var want *Packet
			for p := range waiting {
				if want == nil || int32(p.ID-want.ID) < 0 {
					want = p
				}
			}
			require.Equal(t, want.ID, got, "step %d", step)
		}
	}
}

func TestUndecidedGivesUpPastItsCeilingAndRecovers(t *testing.T) {
	var u undecided
	held := &Packet{ID: 1}
	u.add(held)
	ps := packetsWithIDs(2, undecidedMax+10)
	for _, p := range ps {
		u.add(p)
		u.decide(p)
	}
	_, _, known := u.lowest()
	assert.False(t, known, "one held packet and a full ring: the lowest is unknown")
	assert.LessOrEqual(t, len(u.ids), undecidedMax, "memory stays bounded")

	u.decide(held)
	id, any, known := u.lowest()
	assert.True(t, known, "tracking resumes once every packet has its verdict")
	assert.False(t, any, "%d", id)
	next := &Packet{ID: 99}
	u.add(next)
	id, any, _ = u.lowest()
	assert.True(t, any)
	assert.EqualValues(t, 99, id)
}
