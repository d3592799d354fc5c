//go:build linux && cgo

package nfq

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestParseKernelStats(t *testing.T) {
	file := []byte("    0  12345     0 2 65535     0     0        0  1\n" +
		"  101 4294963171      7 2 65535    11    13      321  1\n")
	k := parseKernelStats(file, 101)
	assert.Equal(t, KernelStats{Present: true, PortID: 4294963171, QueueLen: 7, Dropped: 11, UserDropped: 13, IDSequence: 321}, k)

	k = parseKernelStats(file, 5)
	assert.False(t, k.Present)
	assert.Contains(t, k.Reason, "does not list the queue")

	k = parseKernelStats([]byte("garbage\n"), 5)
	assert.False(t, k.Present)
	assert.Contains(t, k.Reason, "unexpected line")
}

// Without the file (no /proc, or an older kernel), Stats still works and says
// the kernel part is absent.
func TestKernelStatsWithoutTheFile(t *testing.T) {
	k := &kernelStatsFile{err: assert.AnError}
	got := k.read(3)
	assert.False(t, got.Present)
	assert.Equal(t, assert.AnError.Error(), got.Reason)
}
