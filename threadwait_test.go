//go:build linux && cgo

package nfq_test

import (
	"context"
	"runtime"
	"testing"
	"time"

	"github.com/nfq-go/nfq"
	"github.com/nfq-go/nfq/internal/lab"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// These tests are not parallel: loops waiting in their thread share
// GOMAXPROCS-1 slots across the process, and a parallel test's loop could
// hold the slot these count on.

// spacedRun runs q with Run, sends n datagrams 2ms apart, each sent once the
// previous one arrived, and returns the queue's stats.
func spacedRun(t *testing.T, l *udpLab, q *nfq.Queue, n int) nfq.Stats {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- q.Run(ctx, func(p *nfq.Packet) { p.Accept() }) }()
	for i := 0; i < n; i++ {
		l.sendN(t, 1)
		require.Len(t, l.received(1, 2*time.Second), 1, "datagram %d did not arrive", i)
		time.Sleep(2 * time.Millisecond)
	}
	st := q.Stats()
	cancel()
	lab.Within(t, 5*time.Second, "Run after cancel", doneOf(done))
	return st
}

func doneOf(errc <-chan error) <-chan struct{} {
	done := make(chan struct{})
	go func() { <-errc; close(done) }()
	return done
}

// atLeastProcs raises GOMAXPROCS to n for the test.
func atLeastProcs(t *testing.T, n int) {
	if old := runtime.GOMAXPROCS(0); old < n {
		runtime.GOMAXPROCS(n)
		t.Cleanup(func() { runtime.GOMAXPROCS(old) })
	}
}

func TestSpacedPacketsAreReadByTheWaitingThread(t *testing.T) {
	atLeastProcs(t, 2)
	l := newUDPLab(t)
	q := l.open(t, nfq.Config{ThreadWait: 200 * time.Millisecond})
	const n = 40
	st := spacedRun(t, l, q, n)
	assert.Equal(t, uint64(n), st.Verdicts)
	// The first datagram may find the loop parked; the gaps after it are
	// far shorter than the wait.
	assert.GreaterOrEqual(t, st.Waits.InThread, uint64(n-2), "%+v", st.Waits)
	assert.LessOrEqual(t, st.Waits.Parked, uint64(2), "%+v", st.Waits)
}

func TestNegativeThreadWaitParksInThePoller(t *testing.T) {
	atLeastProcs(t, 2)
	l := newUDPLab(t)
	q := l.open(t, nfq.Config{ThreadWait: -1})
	const n = 20
	st := spacedRun(t, l, q, n)
	assert.Equal(t, uint64(n), st.Verdicts)
	assert.Zero(t, st.Waits.InThread)
	assert.GreaterOrEqual(t, st.Waits.Parked, uint64(n))
}

func TestOneProcLeavesNoPToWaitWith(t *testing.T) {
	old := runtime.GOMAXPROCS(1)
	t.Cleanup(func() { runtime.GOMAXPROCS(old) })
	l := newUDPLab(t)
	q := l.open(t, nfq.Config{ThreadWait: 200 * time.Millisecond})
	const n = 10
	st := spacedRun(t, l, q, n)
	assert.Equal(t, uint64(n), st.Verdicts)
	assert.Zero(t, st.Waits.InThread, "a wait would hold the only P")
}

func TestCloseEndsAWaitInTheThread(t *testing.T) {
	atLeastProcs(t, 2)
	for _, mode := range []string{"run", "packets"} {
		t.Run(mode, func(t *testing.T) {
			l := newUDPLab(t)
			q := l.open(t, nfq.Config{ThreadWait: nfq.MaxThreadWait})
			ended := make(chan struct{})
			got := make(chan struct{}, 1)
			accept := func(p *nfq.Packet) {
				p.Accept()
				got <- struct{}{}
			}
			if mode == "run" {
				go func() {
					q.Run(context.Background(), accept)
					close(ended)
				}()
			} else {
				ch, err := q.Packets(context.Background())
				require.NoError(t, err)
				go func() {
					for p := range ch {
						accept(p)
					}
					close(ended)
				}()
			}
			l.sendN(t, 1)
			<-got
			require.Len(t, l.received(1, 2*time.Second), 1)
			// The loop is now waiting in its thread, for up to a second.
			time.Sleep(20 * time.Millisecond)
			start := time.Now()
			closed := make(chan struct{})
			go func() { q.Close(); close(closed) }()
			lab.Within(t, 5*time.Second, "Close", closed)
			lab.Within(t, 5*time.Second, "the consumer", ended)
			assert.Less(t, time.Since(start), 300*time.Millisecond, "Close waited for the thread wait to time out")
		})
	}
}
