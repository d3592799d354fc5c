//go:build linux && cgo

package main

import (
	"fmt"
	"regexp"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/nfq-go/nfq/internal/progtest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var dropCounts = regexp.MustCompile(`kernel dropped (\d+) \(queue full\), (\d+) \(socket full\)`)

// dropsIn returns the kernel drops that line reports.
func dropsIn(line string) (queueFull, socketFull int, ok bool) {
	m := dropCounts.FindStringSubmatch(line)
	if m == nil {
		return 0, 0, false
	}
	queueFull, _ = strconv.Atoi(m[1])
	socketFull, _ = strconv.Atoi(m[2])
	return queueFull, socketFull, true
}

func TestKernelDropsShowInTheCountersAndTheSummary(t *testing.T) {
	t.Parallel()
	bin := progtest.Build(t, ".")
	l := newUDPLab(t, 34)
	require.NoError(t, setBuffer(l.recv, syscall.SO_RCVBUFFORCE, 8<<20))
	// Queued packets count against their sender's buffer until their
	// verdict: a small one would block the sender before any drop.
	require.NoError(t, setBuffer(l.send, syscall.SO_SNDBUFFORCE, 32<<20))
	require.NoError(t, l.send.SetWriteDeadline(time.Now().Add(30*time.Second)))
	p := progtest.Start(t, l.ns, bin, "-queue", l.queue, "-json", "-stats")
	p.WaitStderr(t, "listening on queue 34", 10*time.Second)

	// A stopped nfqdump reads nothing: the socket's buffer fills, then the
	// kernel drops what it cannot queue.
	require.NoError(t, p.Signal(syscall.SIGSTOP))
	const sent = 3000
	for i := range sent {
		_, err := fmt.Fprintf(l.send, "datagram-%d", i)
		require.NoError(t, err)
	}
	require.NoError(t, p.Signal(syscall.SIGCONT))
	arrived := len(l.received(sent))

	// The live counters show the drops.
	require.Eventually(t, func() bool {
		for _, line := range lines(p.Stderr()) {
			if q, s, ok := dropsIn(line); ok && q+s > 0 {
				return true
			}
		}
		return false
	}, 10*time.Second, 50*time.Millisecond, "no live counter line with the drops: %s", p.Stderr())
	require.Equal(t, 0, p.Stop(t), p.String())

	summary := regexp.MustCompile(`nfqdump: \d+ packets, \d+ bytes; .*\n`).FindString(p.Stderr())
	seen, _ := strconv.Atoi(regexp.MustCompile(`\d+`).FindString(summary))
	queueFull, socketFull, ok := dropsIn(summary)
	require.True(t, ok, "the summary has the kernel drops: %s", p.Stderr())
	assert.Positive(t, queueFull+socketFull)
	assert.Equal(t, sent, seen+queueFull+socketFull, "every datagram was seen or counted as dropped: %s", summary)
	assert.Equal(t, seen, arrived, "what nfqdump saw it accepted")
	assert.Len(t, lines(p.Stdout()), seen)
	t.Log(summary)
}
