//go:build linux && cgo

package scenario_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/nfq-go/nfq"
	"github.com/nfq-go/nfq/internal/lab"
	"github.com/nfq-go/nfq/internal/netnstest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// stallBound is how long Close or a configuration request may take right
// after an overrun: milliseconds. The kernel's answer to a request is lost
// when the socket is full, and waiting for it used to cost seconds.
const stallBound = 100 * time.Millisecond

// overrunConfig has a socket buffer far too small for a burst of 500.
var overrunConfig = nfq.Config{ReadBufferSize: 4096, MaxQueueLen: 10000}

// overflow sends a burst into the lab's queue before anything reads it: the
// kernel drops what does not fit in the socket, and the first read reports
// the overrun. It returns the kernel's view once the burst has settled.
func overflow(t *testing.T, l *relLab) netnstest.QueueLine {
	t.Helper()
	l.sendN(t, 500)
	kq := settle(t, l)
	require.NotZero(t, kq.UserDropped, "the socket overflowed: %+v", kq)
	return kq
}

// acceptAll consumes q's packets with Packets, accepting each, until the
// channel closes; the returned channel is closed then.
func acceptAll(t *testing.T, q *nfq.Queue) <-chan struct{} {
	t.Helper()
	ch, err := q.Packets(context.Background())
	require.NoError(t, err)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for p := range ch {
			acceptOrClosed(t, p)
		}
	}()
	return done
}

// onFirstOverrun returns an OnError that runs fn once, for the first overrun.
func onFirstOverrun(fn func()) func(error) {
	var once sync.Once
	return func(err error) {
		if errors.Is(err, nfq.ErrOverrun) {
			once.Do(fn)
		}
	}
}

// checkClosedAfterOverrun checks what the kernel and the receiver saw after
// Close: the queue is gone, every packet received got one verdict, and with
// a default accept every packet the kernel held (kq.Waiting) arrived.
func checkClosedAfterOverrun(t *testing.T, l *relLab, q *nfq.Queue, def nfq.Verdict, kq netnstest.QueueLine) {
	t.Helper()
	_, bound := l.kernelQueue(t)
	assert.False(t, bound, "the kernel queue is gone")
	st := q.Stats()
	assert.Equal(t, st.Received, st.Verdicts+st.DefaultVerdicts, "%+v", st)
	if def == nfq.Accept {
		assert.Equal(t, int(kq.Waiting), l.waitArrived(int(kq.Waiting), hang, 50*time.Millisecond),
			"every packet the kernel held was accepted")
	} else {
		time.Sleep(50 * time.Millisecond)
		arrived, _ := l.count()
		assert.Equal(t, int(st.Verdicts), arrived, "only the packets accepted by the consumer arrived")
	}
}

func TestCloseFromOnErrorRightAfterAnOverrunIsPrompt(t *testing.T) {
	t.Parallel()
	for _, def := range []nfq.Verdict{nfq.Accept, nfq.Drop} {
		t.Run(def.String(), func(t *testing.T) {
			t.Parallel()
			l := newRelLab(t, false)
			var q *nfq.Queue
			took := make(chan time.Duration, 1)
			cfg := overrunConfig
			cfg.DefaultVerdict = def
			cfg.OnError = onFirstOverrun(func() {
				start := time.Now()
				assert.NoError(t, q.Close())
				took <- time.Since(start)
			})
			q = l.open(t, cfg)
			defer q.Close()
			kq := overflow(t, l)
			consumed := acceptAll(t, q)
			select {
			case d := <-took:
				assert.Less(t, d, stallBound, "Close from OnError took %v", d)
				t.Logf("Close from OnError: %v", d)
			case <-time.After(hang):
				t.Fatal("OnError was not called with the overrun")
			}
			lab.Within(t, hang, "the channel's end", consumed)
			checkClosedAfterOverrun(t, l, q, def, kq)
		})
	}
}

func TestCloseDuringASlowOnErrorIsPrompt(t *testing.T) {
	t.Parallel()
	for _, def := range []nfq.Verdict{nfq.Accept, nfq.Drop} {
		t.Run(def.String(), func(t *testing.T) {
			t.Parallel()
			l := newRelLab(t, false)
			inside, release := make(chan struct{}), make(chan struct{})
			cfg := overrunConfig
			cfg.DefaultVerdict = def
			cfg.OnError = onFirstOverrun(func() {
				close(inside)
				awaitRelease(release) // slow: say, a report over the network
			})
			q := l.open(t, cfg)
			defer q.Close()
			kq := overflow(t, l)
			consumed := acceptAll(t, q)
			lab.Within(t, hang, "OnError with the overrun", inside)
			start := time.Now()
			require.NoError(t, q.Close())
			took := time.Since(start)
			assert.Less(t, took, stallBound, "Close while the loop is inside OnError")
			t.Logf("Close during OnError: %v", took)
			checkClosedAfterOverrun(t, l, q, def, kq)
			close(release)
			lab.Within(t, hang, "the channel's end", consumed)
		})
	}
}

// SetCopyMode right after an overrun: prompt, no error, and the kernel has
// the new mode.
func TestSetCopyModeFromOnErrorRightAfterAnOverrun(t *testing.T) {
	t.Parallel()
	l := newRelLab(t, false)
	var q *nfq.Queue
	type result struct {
		err  error
		took time.Duration
	}
	res := make(chan result, 1)
	cfg := overrunConfig
	cfg.OnError = onFirstOverrun(func() {
		start := time.Now()
		err := q.SetCopyMode(nfq.CopyMeta, 0)
		res <- result{err, time.Since(start)}
	})
	q = l.open(t, cfg)
	defer q.Close()
	kq := overflow(t, l)
	consumed := acceptAll(t, q)
	select {
	case r := <-res:
		assert.NoError(t, r.err, "the kernel applied it")
		assert.Less(t, r.took, stallBound, "SetCopyMode from OnError took %v", r.took)
		t.Logf("SetCopyMode from OnError: %v", r.took)
	case <-time.After(hang):
		t.Fatal("OnError was not called with the overrun")
	}
	after, bound := l.kernelQueue(t)
	require.True(t, bound)
	assert.Equal(t, uint64(nfq.CopyMeta), after.CopyMode, "the kernel's copy mode")
	assert.Equal(t, int(kq.Waiting), l.waitArrived(int(kq.Waiting), hang, 50*time.Millisecond),
		"every packet the kernel held was delivered and accepted")
	require.NoError(t, q.Close())
	lab.Within(t, hang, "the channel's end", consumed)
	st := q.Stats()
	assert.Equal(t, kq.Waiting, st.Verdicts)
	assert.Zero(t, st.DefaultVerdicts)
}
