//go:build !linux || !cgo

package nfq

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestIPQCreateHandleExplainsWhatThisBuildLacks(t *testing.T) {
	assert.Nil(t, IPQCreateHandle(0, NFProtoIPv4))
	assert.Equal(t, IPQErrHandle, IPQErrno())
	assert.Contains(t, IPQErrStr(), "requires Linux and cgo")
	assert.Equal(t, -1, IPQRead(nil, make([]byte, 64), -1))
}
