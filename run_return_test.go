//go:build linux && cgo

package nfq_test

import (
	"context"
	"testing"
	"time"

	"github.com/nfq-go/nfq"
	"github.com/nfq-go/nfq/internal/lab"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// hang is how long a Run may take to return before the test calls it a
// deadlock.
const hang = 10 * time.Second

// runResult runs fn (a Run call) on a goroutine and waits for its error.
func runResult(t *testing.T, run func() error) <-chan error {
	t.Helper()
	errc := make(chan error, 1)
	go func() { errc <- run() }()
	return errc
}

func waitErr(t *testing.T, errc <-chan error, what string) error {
	t.Helper()
	select {
	case err := <-errc:
		return err
	case <-time.After(hang):
		t.Fatalf("%s did not return", what)
	}
	return nil
}

// What Run returns says why it ended: ctx.Err() for the context, nil for
// Close.
func TestRunReturnsWhyItEnded(t *testing.T) {
	t.Parallel()
	t.Run("deadline", func(t *testing.T) {
		t.Parallel()
		l := newUDPLab(t)
		q := l.open(t, nfq.Config{})
		ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		defer cancel()
		errc := runResult(t, func() error { return q.Run(ctx, func(p *nfq.Packet) { p.Accept() }) })
		l.sendN(t, 2)
		assert.Len(t, l.received(2, 2*time.Second), 2, "Run served the queue until the deadline")
		assert.Equal(t, context.DeadlineExceeded, waitErr(t, errc, "Run"))
		_, err := q.Packets(context.Background())
		assert.ErrorIs(t, err, nfq.ErrClosed, "the deadline closed the queue")
	})
	t.Run("context already done", func(t *testing.T) {
		t.Parallel()
		l := newUDPLab(t)
		q := l.open(t, nfq.Config{})
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		assert.Equal(t, context.Canceled, q.Run(ctx, func(*nfq.Packet) { t.Error("callback on a done context") }))
	})
	t.Run("Close", func(t *testing.T) {
		t.Parallel()
		l := newUDPLab(t)
		q := l.open(t, nfq.Config{})
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		got := make(chan struct{}, 1)
		errc := runResult(t, func() error {
			return q.Run(ctx, func(p *nfq.Packet) { p.Accept(); got <- struct{}{} })
		})
		l.sendN(t, 1)
		lab.Within(t, hang, "the packet", got)
		require.NoError(t, q.Close())
		assert.NoError(t, waitErr(t, errc, "Run"), "Close is no error")
		cancel()
	})
	t.Run("Close from the callback", func(t *testing.T) {
		t.Parallel()
		l := newUDPLab(t)
		q := l.open(t, nfq.Config{})
		errc := runResult(t, func() error {
			return q.Run(context.Background(), func(p *nfq.Packet) { p.Accept(); q.Close() })
		})
		l.sendN(t, 1)
		assert.NoError(t, waitErr(t, errc, "Run"))
	})
}

func TestQueueSetRunReturnsWhyItEnded(t *testing.T) {
	t.Parallel()
	t.Run("deadline", func(t *testing.T) {
		t.Parallel()
		l := lab.NewFanout(t)
		s := l.Open(t, nfq.Config{})
		ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		defer cancel()
		errc := runResult(t, func() error { return s.Run(ctx, func(p *nfq.Packet) { p.Accept() }) })
		assert.Equal(t, context.DeadlineExceeded, waitErr(t, errc, "QueueSet.Run"), "one error for the set")
		for _, q := range s.Queues() {
			_, err := q.Packets(context.Background())
			assert.ErrorIs(t, err, nfq.ErrClosed, "queue %d closed", q.Num())
		}
	})
	t.Run("Close", func(t *testing.T) {
		t.Parallel()
		l := lab.NewFanout(t)
		s := l.Open(t, nfq.Config{})
		errc := runResult(t, func() error { return s.Run(context.Background(), func(p *nfq.Packet) { p.Accept() }) })
		time.Sleep(50 * time.Millisecond) // let the loops start; Close works either way
		require.NoError(t, s.Close())
		assert.NoError(t, waitErr(t, errc, "QueueSet.Run"))
	})
}
