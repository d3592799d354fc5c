//go:build !linux || !cgo

package nfq

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestOpenExplainsWhatThisBuildLacks(t *testing.T) {
	_, err := Open(Config{Queue: 1})
	assert.ErrorIs(t, err, ErrNotSupported)
	assert.Contains(t, err.Error(), "requires Linux and cgo")
}
