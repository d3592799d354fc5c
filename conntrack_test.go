package nfq

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestConnStateString(t *testing.T) {
	assert.Equal(t, "RELATED", ConnRelated.String())
	assert.Equal(t, "ESTABLISHED_REPLY", ConnEstablishedReply.String())
	assert.Equal(t, "RELATED_REPLY", ConnRelatedReply.String())
	assert.True(t, ConnRelatedReply.IsReply())
	assert.Equal(t, "connstate(9)", ConnState(9).String())
}
