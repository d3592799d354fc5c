//go:build linux && cgo

package scenario_test

import (
	"context"
	"errors"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/nfq-go/nfq"
	"github.com/nfq-go/nfq/internal/lab"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// errorLog collects what a queue reports to Config.OnError.
type errorLog struct {
	mu   sync.Mutex
	errs []error
	news chan struct{}
}

func newErrorLog() *errorLog { return &errorLog{news: make(chan struct{}, 100)} }

func (e *errorLog) report(err error) {
	e.mu.Lock()
	e.errs = append(e.errs, err)
	e.mu.Unlock()
	select {
	case e.news <- struct{}{}:
	default:
	}
}

func (e *errorLog) all() []error {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]error(nil), e.errs...)
}

// wait waits until n errors were reported.
func (e *errorLog) wait(t *testing.T, n int) []error {
	t.Helper()
	deadline := time.After(hang)
	for {
		if errs := e.all(); len(errs) >= n {
			return errs
		}
		select {
		case <-e.news:
		case <-deadline:
			t.Fatalf("expected %d errors on OnError, got %v", n, e.all())
		}
	}
}

// flushQueuedPackets takes the loopback device down and up again: the kernel
// then forgets every queued packet that was to leave through it.
func flushQueuedPackets(t *testing.T, l *relLab) {
	t.Helper()
	l.ns.Exec(t, "ip", "link", "set", "lo", "down")
	l.ns.Exec(t, "ip", "link", "set", "lo", "up")
}

// A verdict for a packet the kernel no longer holds comes back as ENOENT:
// the queue reports it to OnError with an explanation, counts it, and keeps
// receiving.
func TestVerdictForAPacketTheKernelFlushed(t *testing.T) {
	t.Parallel()
	l := newRelLab(t, false)
	errs := newErrorLog()
	q := l.open(t, nfq.Config{OnError: errs.report})
	defer q.Close()
	ch, err := q.Packets(context.Background())
	require.NoError(t, err)

	l.sendN(t, 1)
	p := lab.RecvPacket(t, ch)
	kq, _ := l.kernelQueue(t)
	require.Equal(t, uint64(1), kq.Waiting)
	flushQueuedPackets(t, l)
	kq, _ = l.kernelQueue(t)
	require.Zero(t, kq.Waiting, "the kernel dropped the queued packet with its device")

	require.NoError(t, p.Accept(), "the verdict is sent; the kernel answers later")
	got := errs.wait(t, 1)[0]
	assert.ErrorIs(t, got, syscall.ENOENT)
	var op *nfq.OpError
	require.True(t, errors.As(got, &op))
	assert.Equal(t, l.queue, op.Queue)
	assert.Contains(t, got.Error(), "no packet waiting with that id")
	assert.Equal(t, uint64(1), q.Stats().VerdictErrors)

	// The loop goes on.
	l.sendN(t, 3)
	for i := 0; i < 3; i++ {
		require.NoError(t, lab.RecvPacket(t, ch).Accept())
	}
	assert.Equal(t, 3, l.waitArrived(3, hang, 50*time.Millisecond))
	assert.Len(t, errs.all(), 1, "nothing else went wrong")
}
