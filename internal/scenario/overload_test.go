//go:build linux && cgo

package scenario_test

import (
	"context"
	"testing"
	"time"

	"github.com/nfq-go/nfq"
	"github.com/nfq-go/nfq/internal/netnstest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// stalledConsumer accepts the packets of q once resume is called, and not
// before: it stalls on the first one, and the library's receive loop stalls
// behind it once the channel is full.
func stalledConsumer(t *testing.T, q *nfq.Queue) (resume func()) {
	t.Helper()
	ch, err := q.Packets(context.Background())
	require.NoError(t, err)
	gate := make(chan struct{})
	go func() {
		for p := range ch {
			<-gate
			if err := p.Accept(); err != nil {
				assert.ErrorIs(t, err, nfq.ErrClosed)
			}
		}
	}()
	return func() { close(gate) }
}

// settle waits until the kernel has dealt with every packet sent so far:
// each one is waiting in the queue, was accepted (fail-open) and arrived, or
// was dropped and counted.
func settle(t *testing.T, l *relLab) netnstest.QueueLine {
	t.Helper()
	var kq netnstest.QueueLine
	require.Eventually(t, func() bool {
		kq, _ = l.kernelQueue(t)
		arrived, _ := l.count()
		return int(kq.Waiting+kq.Dropped+kq.UserDropped)+arrived == l.sent()
	}, hang, time.Millisecond, "the kernel dealt with every packet: %+v", kq)
	return kq
}

// recovers checks that traffic flows again: n more packets, never more than
// a few in flight, all arrive.
func recovers(t *testing.T, l *relLab, n int) {
	t.Helper()
	before, _ := l.count()
	lost := l.sent() - before // earlier packets that will never arrive
	stop := l.loadPaced(n, 8, func() int { return lost })
	defer stop()
	assert.Equal(t, before+n, l.waitArrived(before+n, hang, 20*time.Millisecond), "all new packets arrived")
}

// Without fail-open, a full queue makes the kernel drop new packets: exactly
// the ones that do not fit, counted in queue_dropped. The library delivers
// every packet that was queued once the consumer resumes, and goes on.
func TestStalledConsumerQueueFull(t *testing.T) {
	t.Parallel()
	const maxLen, burst = 32, 200
	l := newRelLab(t, false)
	errs := newErrorLog()
	q := l.open(t, nfq.Config{MaxQueueLen: maxLen, ReadBufferSize: 4 << 20, OnError: errs.report})
	defer q.Close()
	resume := stalledConsumer(t, q)

	l.sendN(t, burst)
	kq := settle(t, l)
	assert.Equal(t, uint64(maxLen), kq.Waiting, "the queue is full")
	assert.Equal(t, uint64(burst-maxLen), kq.Dropped, "the kernel dropped exactly the excess")
	assert.Zero(t, kq.UserDropped, "the socket never overflowed")
	arrived, _ := l.count()
	assert.Zero(t, arrived, "nothing passes a stalled consumer")

	resume()
	assert.Equal(t, maxLen, l.waitArrived(maxLen, hang, 50*time.Millisecond), "every queued packet arrived")
	recovers(t, l, 100)
	kq = settle(t, l)
	assert.Equal(t, uint64(burst-maxLen), kq.Dropped, "no drop after recovery")
	arrived, dup := l.count()
	assert.Equal(t, l.sent(), arrived+int(kq.Dropped), "sent == arrived + dropped by the kernel")
	assert.Zero(t, dup)
	st := q.Stats()
	assert.Equal(t, uint64(arrived), st.Received)
	assert.Equal(t, uint64(arrived), st.Verdicts)
	assert.Zero(t, st.Overruns)
	assert.Empty(t, errs.all())
	t.Logf("sent %d: %d arrived, %d dropped by the full queue; %+v", l.sent(), arrived, kq.Dropped, st)
}

// A stalled consumer with a small socket buffer overflows it: the kernel
// drops what does not fit (queue_user_dropped) and the socket reports
// ENOBUFS. The library reports each overrun to OnError and counts it, the
// loop survives, and every packet that made it into the socket arrives.
func TestStalledConsumerSocketOverrun(t *testing.T) {
	t.Parallel()
	const burst = 500
	l := newRelLab(t, false)
	errs := newErrorLog()
	q := l.open(t, nfq.Config{MaxQueueLen: 10000, ReadBufferSize: 4096, OnError: errs.report})
	defer q.Close()
	resume := stalledConsumer(t, q)

	l.sendN(t, burst)
	kq := settle(t, l)
	require.NotZero(t, kq.UserDropped, "the socket overflowed: %+v", kq)
	assert.Zero(t, kq.Dropped, "the queue itself had room")

	resume()
	assert.Equal(t, int(kq.Waiting), l.waitArrived(int(kq.Waiting), hang, 50*time.Millisecond),
		"every packet the socket held arrived")
	recovers(t, l, 100)
	final := settle(t, l)
	assert.Equal(t, kq.UserDropped, final.UserDropped, "no loss after recovery")
	arrived, dup := l.count()
	assert.Equal(t, l.sent(), arrived+int(final.UserDropped), "sent == arrived + dropped at the socket")
	assert.Zero(t, dup)

	st := q.Stats()
	reported := errs.all()
	require.NotEmpty(t, reported, "the overrun was reported")
	assert.Equal(t, uint64(len(reported)), st.Overruns, "each overrun reported once and counted once")
	for _, err := range reported {
		assert.ErrorIs(t, err, nfq.ErrOverrun)
		assert.Contains(t, err.Error(), "ReadBufferSize")
	}
	assert.Equal(t, uint64(arrived), st.Received)
	t.Logf("sent %d: %d arrived, %d dropped at the socket, %d overruns reported; %+v",
		l.sent(), arrived, final.UserDropped, len(reported), st)
}

// With NoENOBUFS the kernel still drops and counts, but the socket stays
// quiet: nothing on OnError, and the loop goes on.
func TestSocketOverrunWithNoENOBUFS(t *testing.T) {
	t.Parallel()
	l := newRelLab(t, false)
	errs := newErrorLog()
	q := l.open(t, nfq.Config{MaxQueueLen: 10000, ReadBufferSize: 4096, NoENOBUFS: true, OnError: errs.report})
	defer q.Close()
	resume := stalledConsumer(t, q)
	l.sendN(t, 500)
	kq := settle(t, l)
	require.NotZero(t, kq.UserDropped)
	resume()
	assert.Equal(t, int(kq.Waiting), l.waitArrived(int(kq.Waiting), hang, 50*time.Millisecond))
	recovers(t, l, 100)
	assert.Empty(t, errs.all())
	assert.Zero(t, q.Stats().Overruns)
}

// With fail-open, packets that find the queue or the socket full are
// accepted by the kernel instead of dropped: a stalled consumer loses
// nothing, and the packets it held arrive once it resumes.
func TestFailOpenLosesNothingUnderStall(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		cfg  nfq.Config
	}{
		{"queue full", nfq.Config{MaxQueueLen: 16, ReadBufferSize: 4 << 20}},
		{"socket full", nfq.Config{MaxQueueLen: 10000, ReadBufferSize: 4096}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			const burst = 300
			l := newRelLab(t, false)
			cfg := tc.cfg
			cfg.Flags = nfq.FlagFailOpen
			errs := newErrorLog()
			cfg.OnError = errs.report
			q := l.open(t, cfg)
			defer q.Close()
			resume := stalledConsumer(t, q)

			l.sendN(t, burst)
			kq := settle(t, l)
			assert.Zero(t, kq.Dropped+kq.UserDropped, "nothing dropped: %+v", kq)
			arrived, _ := l.count()
			assert.Equal(t, burst-int(kq.Waiting), arrived, "what did not fit went through")
			if tc.cfg.MaxQueueLen == 16 {
				assert.Equal(t, uint64(16), kq.Waiting)
			}

			resume()
			assert.Equal(t, burst, l.waitArrived(burst, hang, 50*time.Millisecond), "every packet arrived")
			recovers(t, l, 100)
			final := settle(t, l)
			assert.Zero(t, final.Dropped+final.UserDropped)
			assert.Equal(t, kq.Waiting, q.Stats().Received-100, "the queue saw only what it held, then the new ones")
			// A full socket still raises ENOBUFS: reported and counted, once each.
			assert.Equal(t, uint64(len(errs.all())), q.Stats().Overruns)
		})
	}
}
