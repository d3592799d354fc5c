//go:build linux && cgo

package scenario_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nfq-go/nfq"
	"github.com/nfq-go/nfq/internal/lab"
	"github.com/nfq-go/nfq/internal/netnstest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// verdictBound is the longest a verdict waits in the library for company
// before it leaves for the kernel (package doc, "Verdicts"). boundSlack is
// what a loaded machine may add in scheduling. Both are far below what these
// tests catch: verdicts held back until another packet gets its verdict, or
// until the consumer reads again.
const (
	verdictBound = time.Millisecond
	boundSlack   = 100 * time.Millisecond
)

// awaitRelease holds a packet, or a callback, until release is closed; hang
// at most, so that a failed test does not hold it for ever.
func awaitRelease(release <-chan struct{}) {
	select {
	case <-release:
	case <-time.After(hang):
	}
}

// waitQueued waits until ch holds n packets: the receive loop has handed out
// a whole burst before the consumer looks at it.
func waitQueued(t *testing.T, ch <-chan *nfq.Packet, n int) {
	t.Helper()
	require.Eventually(t, func() bool { return len(ch) >= n }, hang, time.Millisecond,
		"the burst of %d reached the channel", n)
}

// burstInChannel opens the lab's queue (closed at cleanup), consumes it with
// Packets, and sends a burst of 10 that it waits to see in the channel.
func burstInChannel(t *testing.T, l *relLab, cfg nfq.Config) <-chan *nfq.Packet {
	t.Helper()
	q := l.open(t, cfg)
	t.Cleanup(func() { q.Close() })
	ch, err := q.Packets(context.Background())
	require.NoError(t, err)
	l.sendN(t, 10)
	waitQueued(t, ch, 10)
	return ch
}

// A consumer keeps one packet of a burst for later and accepts the others:
// they leave within the bound, not when the held one is decided.
func heldLastOfBurst(t *testing.T, l *relLab) { heldLastOfBurstWith(t, l, nfq.Config{}) }

// The same with the loop parking in the poller whenever the socket is
// empty: the deadline rides on the park.
func heldLastOfBurstParking(t *testing.T, l *relLab) {
	heldLastOfBurstWith(t, l, nfq.Config{ThreadWait: -1})
}

func heldLastOfBurstWith(t *testing.T, l *relLab, cfg nfq.Config) {
	ch := burstInChannel(t, l, cfg)
	for range 9 {
		require.NoError(t, lab.RecvPacket(t, ch).Accept())
	}
	held := lab.RecvPacket(t, ch)
	assert.Equal(t, 9, l.waitArrived(9, verdictBound+boundSlack, 0), "the accepted packets arrived while the last one is held")
	assert.False(t, l.has(9), "the held packet waits for its verdict")
	require.NoError(t, held.Accept())
	assert.Equal(t, 10, l.waitArrived(10, hang, 0))
}

// A consumer accepts the first packet of a burst, then is busy before it
// reads the rest: the verdict it gave leaves meanwhile.
func busyBeforeReadingTheRest(t *testing.T, l *relLab) {
	ch := burstInChannel(t, l, nfq.Config{})
	require.NoError(t, lab.RecvPacket(t, ch).Accept())
	assert.Equal(t, 1, l.waitArrived(1, verdictBound+boundSlack, 0), "the verdict left while the consumer is busy")
	for range 9 {
		require.NoError(t, lab.RecvPacket(t, ch).Accept())
	}
	assert.Equal(t, 10, l.waitArrived(10, hang, 0))
}

// Run callbacks that take their time over packets of a batch (a lookup done
// inline): the verdicts given before each leave once it returns, not at the
// end of the batch. (While a callback runs, the loop cannot send verdicts:
// the ones given before it in its batch wait for it, as the queue does.)
func slowCallbacksInABatch(t *testing.T, l *relLab) {
	q := l.open(t, nfq.Config{})
	defer q.Close()
	l.sendN(t, 10) // queued before Run starts: one receive batch
	inside := []chan struct{}{make(chan struct{}), make(chan struct{})}
	release := []chan struct{}{make(chan struct{}), make(chan struct{})}
	done := make(chan error, 1)
	go func() {
		calls := 0
		done <- q.Run(context.Background(), func(p *nfq.Packet) {
			if calls++; calls == 6 || calls == 7 {
				close(inside[calls-6])
				awaitRelease(release[calls-6])
			}
			acceptOrClosed(t, p)
		})
	}()
	lab.Within(t, hang, "the first slow callback", inside[0])
	time.Sleep(10 * verdictBound) // slow: the verdicts before it are due when it returns
	close(release[0])
	lab.Within(t, hang, "the second slow callback", inside[1])
	assert.Equal(t, 6, l.waitArrived(6, verdictBound+boundSlack, 0),
		"the verdicts up to the first slow callback left while the second runs")
	close(release[1])
	assert.Equal(t, 10, l.waitArrived(10, hang, 0))
	require.NoError(t, q.Close())
	require.NoError(t, <-done)
}

// A Run callback hands the last packet of a batch to a goroutine that
// decides later.
func handedOffLastOfBatch(t *testing.T, l *relLab) {
	q := l.open(t, nfq.Config{})
	defer q.Close()
	l.sendN(t, 10)
	handed, release, decided := make(chan struct{}), make(chan struct{}), make(chan struct{})
	done := make(chan error, 1)
	go func() {
		calls := 0
		done <- q.Run(context.Background(), func(p *nfq.Packet) {
			if calls++; calls < 10 {
				acceptOrClosed(t, p)
				return
			}
			close(handed)
			go func() {
				defer close(decided)
				<-release
				acceptOrClosed(t, p)
			}()
		})
	}()
	lab.Within(t, hang, "the hand-off", handed)
	assert.Equal(t, 9, l.waitArrived(9, verdictBound+boundSlack, 0), "the accepted packets arrived while the last one is held")
	assert.False(t, l.has(9))
	close(release)
	lab.Within(t, hang, "the held packet's verdict", decided)
	assert.Equal(t, 10, l.waitArrived(10, hang, 0))
	require.NoError(t, q.Close())
	require.NoError(t, <-done)
}

var heldVerdictCases = []struct {
	name string
	run  func(t *testing.T, l *relLab)
}{
	{"Packets, the last of a burst held", heldLastOfBurst},
	{"Packets, the last of a burst held, the loop parking", heldLastOfBurstParking},
	{"Packets, the consumer busy before reading the rest", busyBeforeReadingTheRest},
	{"Run, slow callbacks in a batch", slowCallbacksInABatch},
	{"Run, the last of a batch handed to a goroutine", handedOffLastOfBatch},
}

func TestHeldPacketHoldsBackNoOtherVerdict(t *testing.T) {
	t.Parallel()
	for _, c := range heldVerdictCases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			c.run(t, newRelLab(t, false))
		})
	}
}

// The same with one P: the library's own deadline must not depend on a
// second one. Not parallel: GOMAXPROCS is the whole process's.
func TestHeldPacketHoldsBackNoOtherVerdictWithOneP(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	for _, c := range heldVerdictCases {
		t.Run(c.name, func(t *testing.T) { c.run(t, newRelLab(t, false)) })
	}
}

// A pool of workers reads the shared channel of a QueueSet; each worker
// comes to a packet it holds (a slow path) while the channel still has
// packets. The packets the workers accepted before leave meanwhile, from
// whichever queue they came.
func TestWorkerPoolHoldingPacketsHoldsBackNoOtherVerdict(t *testing.T) {
	t.Parallel()
	const total, workers = 40, 4
	l := lab.NewFanout(t)
	s := l.Open(t, nfq.Config{})
	ch, err := s.Packets(context.Background())
	require.NoError(t, err)
	for i := range total {
		_, err := fmt.Fprintf(l.Conns[i%lab.FanoutSources], "packet %d", i)
		require.NoError(t, err)
	}
	waitQueued(t, ch, total)

	release, allHolding := make(chan struct{}), make(chan struct{})
	var taken, holding atomic.Int32
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for p := range ch {
				// Every fifth packet taken, up to one per worker, is held.
				if k := taken.Add(1); k%5 == 0 && k <= 5*workers {
					if holding.Add(1) == workers {
						close(allHolding)
					}
					awaitRelease(release)
				}
				acceptOrClosed(t, p)
			}
		}()
	}
	lab.Within(t, hang, "every worker holding a packet", allHolding)
	accepted := 4 * workers // the packets taken before each worker's held one
	got := netnstest.ReadUDP(l.Recv, accepted, verdictBound+boundSlack)
	assert.Len(t, got, accepted, "the accepted packets arrived while every worker holds one")
	close(release)
	rest := netnstest.ReadUDP(l.Recv, total-accepted, hang)
	assert.Len(t, rest, total-accepted, "the held packets and the rest arrived")
	require.NoError(t, s.Close())
	wg.Wait()
}

// Thousands of packets, each held for a random time (0-200 ms) and then
// accepted from a timer's goroutine, while the consumer now and then stops
// reading for a while: every packet arrives within the bound of its verdict,
// exactly once.
func TestRandomHoldsEveryVerdictLeavesWithinTheBound(t *testing.T) {
	t.Parallel()
	const total, burst, maxHold = 3000, 30, 200 * time.Millisecond
	l := newRelLab(t, false)
	q := l.open(t, nfq.Config{MaxQueueLen: 10000, ReadBufferSize: 8 << 20})
	defer q.Close()
	ch, err := q.Packets(context.Background())
	require.NoError(t, err)

	var mu sync.Mutex
	given := map[int]time.Time{} // packet number -> when its verdict was given
	var verdicts sync.WaitGroup
	readerDone := make(chan struct{})
	go func() {
		defer close(readerDone)
		rng := rand.New(rand.NewPCG(1, 2)) // the same holds every run
		read := 0
		for p := range ch {
			n, err := strconv.Atoi(string(lab.UDPPayload(t, p.Payload)))
			require.NoError(t, err)
			verdicts.Add(1)
			time.AfterFunc(time.Duration(rng.Int64N(int64(maxHold))), func() {
				defer verdicts.Done()
				at := time.Now()
				if err := p.Accept(); err != nil {
					t.Errorf("packet %d: %v", n, err)
					return
				}
				mu.Lock()
				given[n] = at
				mu.Unlock()
			})
			if read++; read%500 == 0 {
				// Busy elsewhere: packets pile up in the channel
				// while the verdicts of earlier ones come due.
				time.Sleep(300 * time.Millisecond)
			}
		}
	}()
	for range total / burst {
		l.sendN(t, burst)
		time.Sleep(5 * time.Millisecond)
	}
	assert.Equal(t, total, l.waitArrived(total, hang+2*time.Second, 50*time.Millisecond), "every packet arrived")
	verdicts.Wait()
	require.NoError(t, q.Close())
	<-readerDone

	_, dup := l.count()
	assert.Zero(t, dup, "no packet arrived twice")
	st := q.Stats()
	assert.Equal(t, uint64(total), st.Received)
	assert.Equal(t, uint64(total), st.Verdicts)
	mu.Lock()
	defer mu.Unlock()
	delays := make([]time.Duration, 0, total)
	late := 0
	for n := range total {
		at, ok := l.when(n)
		v, decided := given[n]
		if !ok || !decided {
			continue // counted above
		}
		d := at.Sub(v)
		delays = append(delays, d)
		if d > verdictBound+boundSlack && late < 10 {
			late++
			t.Errorf("packet %d arrived %v after its verdict", n, d)
		}
	}
	slices.Sort(delays)
	if len(delays) > 0 {
		t.Logf("verdict to arrival over %d packets: median %v, p99 %v, max %v", len(delays),
			delays[len(delays)/2], delays[len(delays)*99/100], delays[len(delays)-1])
	}
}
