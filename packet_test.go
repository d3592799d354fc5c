package nfq

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestAttrPresence(t *testing.T) {
	p := &Packet{attrs: AttrMark | AttrUID}
	assert.True(t, p.Has(AttrMark))
	assert.True(t, p.Has(AttrUID))
	assert.False(t, p.Has(AttrGID))
	assert.False(t, p.Has(AttrMark|AttrGID))
}

func TestPacketWithoutQueueRefusesVerdict(t *testing.T) {
	p := &Packet{ID: 3}
	err := p.Accept()
	assert.ErrorIs(t, err, ErrInvalidVerdict)
	assert.Contains(t, err.Error(), "did not come from a queue")
}
