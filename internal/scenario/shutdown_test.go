//go:build linux && cgo

package scenario_test

import (
	"context"
	"errors"
	"runtime"
	"runtime/cgo"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nfq-go/nfq"
	"github.com/nfq-go/nfq/internal/lab"
	"github.com/nfq-go/nfq/internal/leaktest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// hang is how long any step of a round may take before the test calls it a
// deadlock.
const hang = 10 * time.Second

// loadPerRound caps the packets sent in the background of each round.
const loadPerRound = 200

// shutdownRounds opens and closes a queue under traffic again and again, in
// every way a queue can end. It runs alone (not in parallel) because it
// counts the process's goroutines and descriptors exactly.
//
// Besides the packets each ending sends, a sender keeps traffic flowing from
// the moment the queue is open until Close has returned (up to loadPerRound
// packets). All packets are
// accepted: by the consumer, by the default verdict on Close, by fail-open
// during Close, or by the rule's --queue-bypass once the queue is gone; so
// every packet sent must arrive, exactly once.
func TestShutdownUnderLoadRounds(t *testing.T) {
	rounds := 1000
	if testing.Short() {
		rounds = 100
	}
	l := newRelLab(t, true)
	cfg := nfq.Config{DefaultVerdict: nfq.Accept, ReadBufferSize: 1 << 20}

	var opened, collected atomic.Int64
	roundStart := make([]int, 0, rounds)
	before := leaktest.Take()
	start := time.Now()
	for i := 0; i < rounds && !t.Failed(); i++ {
		end := shutdownEndings[i%len(shutdownEndings)]
		roundStart = append(roundStart, l.sent())
		func() {
			q := l.open(t, cfg)
			opened.Add(1)
			runtime.AddCleanup(q, func(c *atomic.Int64) { c.Add(1) }, &collected)
			stopLoad := l.load(loadPerRound)
			end.run(t, l, q)
			stopLoad()
			require.NoError(t, q.Close(), "round %d (%s): Close again", i, end.name)
			_, bound := l.kernelQueue(t)
			require.False(t, bound, "round %d (%s): the kernel queue is gone after Close", i, end.name)
			st := q.Stats()
			require.Equal(t, st.Received, st.Verdicts+st.DefaultVerdicts,
				"round %d (%s): every received packet got exactly one verdict: %+v", i, end.name, st)
		}()
	}
	elapsed := time.Since(start)

	sent := l.sent()
	arrived := l.waitArrived(sent, hang, 50*time.Millisecond)
	_, dup := l.count()
	if arrived != sent {
		for i := 0; i < sent; i++ {
			if !l.has(i) {
				r := 0
				for r+1 < len(roundStart) && roundStart[r+1] <= i {
					r++
				}
				t.Errorf("packet %d (round %d, %s) never arrived", i, r, shutdownEndings[r%len(shutdownEndings)].name)
			}
		}
	}
	require.Equal(t, sent, arrived, "every packet sent arrived")
	require.Zero(t, dup, "no packet arrived twice")

	// Every queue's cgo handle was deleted: the runtime's handle table
	// would otherwise keep the Queue reachable, and it would never be
	// collected.
	for deadline := time.Now().Add(5 * time.Second); collected.Load() < opened.Load() && time.Now().Before(deadline); {
		runtime.GC()
		time.Sleep(10 * time.Millisecond)
	}
	assert.Equal(t, opened.Load(), collected.Load(), "queues still reachable after Close (cgo handle not deleted?)")
	assert.Empty(t, leaktest.Since(before, 5*time.Second), "resources left behind by %d rounds", rounds)
	t.Logf("%d rounds (%d endings) in %v, %.2f ms per round; %d packets sent, all arrived",
		rounds, len(shutdownEndings), elapsed.Round(time.Millisecond),
		float64(elapsed.Microseconds())/1000/float64(rounds), sent)
}

// A shutdownEnding sends traffic to an open queue and ends it one way; it
// returns once every goroutine it started has finished.
type shutdownEnding struct {
	name string
	run  func(t *testing.T, l *relLab, q *nfq.Queue)
}

var shutdownEndings = []shutdownEnding{
	{"close while the Packets consumer gives verdicts", closeWhileConsuming},
	{"close from another goroutine during a Run callback", closeDuringCallback},
	{"close while the consumer holds packets without verdicts", closeWhileHolding},
	{"cancel the Packets context", cancelPackets},
	{"cancel the Run context", cancelRun},
	{"close inside the Run callback", closeInsideCallback},
	{"close with no consumer", closeWithoutConsumer},
	{"panic in the Run callback", panicInCallback},
}

// acceptOrClosed gives p an accept verdict; after Close that fails with
// ErrClosed, and the packet had the default verdict.
func acceptOrClosed(t *testing.T, p *nfq.Packet) {
	if err := p.Accept(); err != nil && !errors.Is(err, nfq.ErrClosed) {
		t.Errorf("verdict: %v", err)
	}
}

func closeWhileConsuming(t *testing.T, l *relLab, q *nfq.Queue) {
	ch, err := q.Packets(context.Background())
	require.NoError(t, err)
	l.sendN(t, 4)
	first, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		n := 0
		for p := range ch {
			acceptOrClosed(t, p)
			if n++; n == 1 {
				close(first)
			}
		}
	}()
	lab.Within(t, hang, "first packet", first)
	l.sendN(t, 2) // still in flight during Close
	require.NoError(t, q.Close())
	lab.Within(t, hang, "consumer end", done)
}

func closeDuringCallback(t *testing.T, l *relLab, q *nfq.Queue) {
	l.sendN(t, 4)
	inside := make(chan struct{}, 1)
	errc := make(chan error, 1)
	go func() {
		errc <- q.Run(context.Background(), func(p *nfq.Packet) {
			select {
			case inside <- struct{}{}:
			default:
			}
			acceptOrClosed(t, p) // races with Close
		})
	}()
	lab.Within(t, hang, "first callback", inside)
	require.NoError(t, q.Close())
	select {
	case err := <-errc:
		require.NoError(t, err)
	case <-time.After(hang):
		t.Fatal("Run did not return after Close")
	}
}

func closeWhileHolding(t *testing.T, l *relLab, q *nfq.Queue) {
	ch, err := q.Packets(context.Background())
	require.NoError(t, err)
	l.sendN(t, 3)
	held := []*nfq.Packet{lab.RecvPacket(t, ch), lab.RecvPacket(t, ch)}
	require.NoError(t, q.Close())
	for _, p := range held {
		require.ErrorIs(t, p.Accept(), nfq.ErrClosed, "a held packet had the default verdict")
	}
	for range ch {
		t.Error("a packet was handed out after Close")
	}
}

func cancelPackets(t *testing.T, l *relLab, q *nfq.Queue) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ch, err := q.Packets(ctx)
	require.NoError(t, err)
	l.sendN(t, 4)
	acceptOrClosed(t, lab.RecvPacket(t, ch))
	cancel()
	done := make(chan struct{})
	go func() {
		defer close(done)
		for p := range ch {
			acceptOrClosed(t, p)
		}
	}()
	lab.Within(t, hang, "channel close after cancel", done)
}

func cancelRun(t *testing.T, l *relLab, q *nfq.Queue) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	l.sendN(t, 4)
	first := make(chan struct{}, 1)
	errc := make(chan error, 1)
	go func() {
		errc <- q.Run(ctx, func(p *nfq.Packet) {
			acceptOrClosed(t, p)
			select {
			case first <- struct{}{}:
			default:
			}
		})
	}()
	lab.Within(t, hang, "first callback", first)
	cancel()
	select {
	case err := <-errc:
		require.ErrorIs(t, err, context.Canceled)
	case <-time.After(hang):
		t.Fatal("Run did not return after its context ended")
	}
}

func closeInsideCallback(t *testing.T, l *relLab, q *nfq.Queue) {
	l.sendN(t, 3)
	err := q.Run(context.Background(), func(p *nfq.Packet) {
		require.NoError(t, q.Close())
		require.ErrorIs(t, p.Accept(), nfq.ErrClosed)
	})
	require.NoError(t, err)
}

func closeWithoutConsumer(t *testing.T, l *relLab, q *nfq.Queue) {
	l.sendN(t, 3)
	require.NoError(t, q.Close())
	require.GreaterOrEqual(t, q.Stats().DefaultVerdicts, uint64(3), "the queued packets were read and accepted by Close: %+v", q.Stats())
}

func panicInCallback(t *testing.T, l *relLab, q *nfq.Queue) {
	l.sendN(t, 3)
	defer func() {
		require.Equal(t, "consumer bug", recover(), "Run re-panics with the callback's value")
	}()
	_ = q.Run(context.Background(), func(p *nfq.Packet) { panic("consumer bug") })
	t.Error("Run returned instead of panicking")
}

// The round test finds undeleted cgo handles by garbage collection: a value
// behind a live handle stays reachable. This checks that premise.
func TestHandleLeakIsVisibleToTheCollector(t *testing.T) {
	t.Parallel()
	var collected atomic.Bool
	v := new([64]byte)
	runtime.AddCleanup(v, func(c *atomic.Bool) { c.Store(true) }, &collected)
	h := cgo.NewHandle(v)
	v = nil
	for i := 0; i < 5; i++ {
		runtime.GC()
		time.Sleep(5 * time.Millisecond)
	}
	require.False(t, collected.Load(), "a value behind a live handle is never collected")
	h.Delete()
	assert.Eventually(t, func() bool { runtime.GC(); return collected.Load() }, 5*time.Second, 5*time.Millisecond,
		"collected once the handle is deleted")
}
