//go:build linux && cgo

package nfq

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseKernelStats(t *testing.T) {
	file := []byte("    0  12345     0 2 65531     0     0        0  1\n" +
		"  101 4294963171      7 2 65531    11    13      321  1\n")
	k, err := parseKernelStats(file, 101)
	require.NoError(t, err)
	assert.Equal(t, KernelStats{PortID: 4294963171, QueueLen: 7, Dropped: 11, UserDropped: 13, IDSequence: 321}, k)

	_, err = parseKernelStats(file, 5)
	assert.ErrorIs(t, err, errQueueNotListed)
	assert.ErrorContains(t, err, "does not list the queue")

	_, err = parseKernelStats([]byte("garbage\n"), 5)
	assert.ErrorContains(t, err, "unexpected line")
}

// Without the file (no /proc, or an older kernel), KernelStats says why.
func TestKernelStatsWithoutTheFile(t *testing.T) {
	k := &kernelStatsFile{err: assert.AnError}
	_, err := k.read(3)
	assert.ErrorIs(t, err, assert.AnError)
	var never *kernelStatsFile
	_, err = never.read(3)
	assert.ErrorIs(t, err, ErrClosed)
}
