//go:build linux && cgo

package nfq_test

import (
	"context"
	"errors"
	"fmt"
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

// checkFanout asserts that every packet sent went through one of the queues
// and got exactly one verdict, by the library's and the kernel's counts, and
// that several queues carried traffic. seen counts packets by Packet.Queue
// as the consumer saw them.
func checkFanout(t *testing.T, l *lab.Fanout, s *nfq.QueueSet, total int, seen map[uint16]int) {
	t.Helper()
	lines := l.NS.Queues(t)
	busy := 0
	var received, verdicts uint64
	stats := s.Stats()
	require.Len(t, stats, len(s.Queues()), "one entry per queue")
	for _, q := range s.Queues() {
		n := q.Num()
		st, ok := stats[n]
		require.True(t, ok, "queue %d is in Stats", n)
		assert.Equal(t, st.Received, st.Verdicts, "queue %d: one verdict per packet", n)
		assert.Equal(t, st.Received, st.ByVerdict.Accept, "queue %d", n)
		assert.Equal(t, uint64(seen[n]), st.Received, "queue %d: the consumer saw each of its packets once", n)
		k, err := q.KernelStats()
		require.NoError(t, err)
		assert.Equal(t, uint64(k.IDSequence), st.Received, "queue %d: every packet the kernel queued was received", n)
		assert.Zero(t, k.QueueLen, "queue %d: nothing left waiting", n)
		assert.Zero(t, k.Dropped+k.UserDropped, "queue %d: no drops", n)
		assert.Equal(t, lines[uint64(n)].IDSequence, uint64(k.IDSequence), "queue %d", n)
		assert.Zero(t, st.Overruns)
		if st.Received > 0 {
			busy++
		}
		received += st.Received
		verdicts += st.Verdicts
	}
	assert.Equal(t, uint64(total), received, "every datagram went through a queue")
	assert.Equal(t, uint64(total), verdicts)
	assert.GreaterOrEqual(t, busy, 2, "the rule spread the flows over several queues")
	for n := range seen {
		assert.True(t, n >= l.First && n <= l.Last, "Packet.Queue %d is in the range", n)
	}
}

const fanoutRounds = 20

func TestQueueSetMergedChannel(t *testing.T) {
	t.Parallel()
	l := lab.NewFanout(t)
	s := l.Open(t, nfq.Config{})
	require.Len(t, s.Queues(), 4)
	serveMerged(t, l, s)
}

// serveMerged consumes s through its shared channel while every source
// sends, checks that every packet went through once, and closes s.
func serveMerged(t *testing.T, l *lab.Fanout, s *nfq.QueueSet) {
	t.Helper()
	ch, err := s.Packets(context.Background())
	require.NoError(t, err)

	var mu sync.Mutex
	seen := map[uint16]int{}
	var failed atomic.Int32
	consumed := make(chan struct{})
	go func() {
		defer close(consumed)
		for p := range ch {
			mu.Lock()
			seen[p.Queue]++
			mu.Unlock()
			if p.Accept() != nil {
				failed.Add(1)
			}
		}
	}()
	total := lab.FanoutSources * fanoutRounds
	assert.Equal(t, total, l.SendAll(t, fanoutRounds), "every datagram arrived, once")
	mu.Lock()
	checkFanout(t, l, s, total, seen)
	mu.Unlock()
	require.NoError(t, s.Close())
	select {
	case <-consumed:
	case <-time.After(5 * time.Second):
		t.Fatal("the merged channel was not closed")
	}
	assert.Zero(t, failed.Load(), "no verdict failed")
}

func TestQueueSetPerQueueChannels(t *testing.T) {
	t.Parallel()
	l := lab.NewFanout(t)
	s := l.Open(t, nfq.Config{})
	var wg sync.WaitGroup
	var mu sync.Mutex
	seen := map[uint16]int{}
	var wrongQueue, failed atomic.Int32
	for _, q := range s.Queues() {
		ch, err := q.Packets(context.Background())
		require.NoError(t, err)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for p := range ch {
				if p.Queue != q.Num() {
					wrongQueue.Add(1)
				}
				mu.Lock()
				seen[p.Queue]++
				mu.Unlock()
				if p.Accept() != nil {
					failed.Add(1)
				}
			}
		}()
	}
	_, err := s.Packets(context.Background())
	assert.True(t, errors.Is(err, nfq.ErrBusy), "the queues have their consumers: %v", err)

	total := lab.FanoutSources * fanoutRounds
	assert.Equal(t, total, l.SendAll(t, fanoutRounds), "every datagram arrived, once")
	mu.Lock()
	checkFanout(t, l, s, total, seen)
	mu.Unlock()
	require.NoError(t, s.Close())
	wg.Wait()
	assert.Zero(t, wrongQueue.Load(), "each channel carries its own queue's packets")
	assert.Zero(t, failed.Load())
}

func TestQueueSetRun(t *testing.T) {
	t.Parallel()
	l := lab.NewFanout(t)
	s := l.Open(t, nfq.Config{})
	var mu sync.Mutex
	seen := map[uint16]int{}
	var failed, concurrent, maxConcurrent atomic.Int32
	ctx, cancel := context.WithCancel(context.Background())
	runErr := make(chan error, 1)
	go func() {
		runErr <- s.Run(ctx, func(p *nfq.Packet) {
			if c := concurrent.Add(1); c > maxConcurrent.Load() {
				maxConcurrent.Store(c)
			}
			mu.Lock()
			seen[p.Queue]++
			mu.Unlock()
			if p.Accept() != nil {
				failed.Add(1)
			}
			concurrent.Add(-1)
		})
	}()
	total := lab.FanoutSources * fanoutRounds
	assert.Equal(t, total, l.SendAll(t, fanoutRounds), "every datagram arrived, once")
	mu.Lock()
	checkFanout(t, l, s, total, seen)
	mu.Unlock()
	cancel()
	select {
	case err := <-runErr:
		require.Equal(t, context.Canceled, err, "one ctx error for the whole set, not one per queue")
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return after its context ended")
	}
	assert.Zero(t, failed.Load())
	for _, q := range s.Queues() {
		_, err := q.Packets(context.Background())
		assert.True(t, errors.Is(err, nfq.ErrClosed), "%v", err)
	}
}

// With one channel for all queues, a verdict waits for company while the
// channel holds packets, including other queues' ones. The verdict of the
// last of them must send it too: otherwise it would wait for a packet of its
// own queue that never comes.
func TestQueueSetSharedChannelFlushesEveryQueuesVerdicts(t *testing.T) {
	t.Parallel()
	l := lab.NewFanout(t)
	s := l.Open(t, nfq.Config{})
	ch, err := s.Packets(context.Background())
	require.NoError(t, err)

	// Find two sources whose flows land on different queues.
	srcOf := map[uint16]int{}
	for i := 0; i < lab.FanoutSources && len(srcOf) < 2; i++ {
		_, err := fmt.Fprintf(l.Conns[i], "probe %d", i)
		require.NoError(t, err)
		p := lab.RecvPacket(t, ch)
		if _, ok := srcOf[p.Queue]; !ok {
			srcOf[p.Queue] = i
		}
		require.NoError(t, p.Accept())
	}
	require.Len(t, srcOf, 2, "the sources cover two queues")
	require.Len(t, netnstest.ReadUDP(l.Recv, len(srcOf)+lab.FanoutSources, 300*time.Millisecond), 0+countProbes(srcOf), "probes arrived")

	var srcs []int
	for _, i := range srcOf {
		srcs = append(srcs, i)
	}
	for _, i := range srcs {
		_, err := fmt.Fprintf(l.Conns[i], "pair %d", i)
		require.NoError(t, err)
	}
	require.Eventually(t, func() bool { return len(ch) == 2 }, 3*time.Second, 5*time.Millisecond, "both packets wait in the channel")
	a := lab.RecvPacket(t, ch)
	require.NoError(t, a.Accept()) // the other packet is still in the channel: this one waits
	b := lab.RecvPacket(t, ch)
	require.NotEqual(t, a.Queue, b.Queue)
	require.NoError(t, b.Accept())
	got := stringsOf(netnstest.ReadUDP(l.Recv, 2, time.Second))
	assert.ElementsMatch(t, []string{fmt.Sprintf("pair %d", srcs[0]), fmt.Sprintf("pair %d", srcs[1])}, got,
		"both verdicts left without waiting for more traffic")
}

// countProbes is how many probe datagrams were sent to find the sources.
func countProbes(srcOf map[uint16]int) int {
	m := 0
	for _, i := range srcOf {
		m = max(m, i+1)
	}
	return m
}

func TestOpenRangeErrors(t *testing.T) {
	t.Parallel()
	_, err := nfq.OpenRange(5, 4, nfq.Config{})
	require.True(t, errors.Is(err, nfq.ErrInvalidConfig), "%v", err)
	assert.Contains(t, err.Error(), "A <= B")
	_, err = nfq.OpenRange(4, 5, nfq.Config{Queue: 4})
	require.True(t, errors.Is(err, nfq.ErrInvalidConfig), "%v", err)
	assert.Contains(t, err.Error(), "leave Config.Queue zero")

	// A queue in the middle of the range is taken: the error names it and
	// the queues opened before it are closed again.
	ns := netnstest.New(t)
	first := lab.QueueRange(3)
	taken := openIn(t, ns, nfq.Config{Queue: first + 1})
	ns.Do(t, func() { _, err = nfq.OpenRange(first, first+2, nfq.Config{}) })
	require.True(t, errors.Is(err, nfq.ErrQueueInUse), "%v", err)
	var opErr *nfq.OpError
	require.True(t, errors.As(err, &opErr))
	assert.Equal(t, first+1, opErr.Queue)
	_, bound := ns.Queues(t)[uint64(first)]
	assert.False(t, bound, "queue %d, opened before the failure, was closed", first)
	require.NoError(t, taken.Close())
}

// A panic in the callback closes the whole set and comes out of Run, on the
// caller's goroutine; the packet gets the default verdict.
func TestQueueSetRunPanicClosesTheSet(t *testing.T) {
	t.Parallel()
	l := lab.NewFanout(t)
	s := l.Open(t, nfq.Config{DefaultVerdict: nfq.Accept})
	done := make(chan any, 1)
	go func() {
		defer func() { done <- recover() }()
		s.Run(context.Background(), func(p *nfq.Packet) { panic("boom") })
	}()
	_, err := fmt.Fprint(l.Conns[0], "one")
	require.NoError(t, err)
	select {
	case v := <-done:
		assert.Equal(t, "boom", v)
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return after the panic")
	}
	assert.Equal(t, []string{"one"}, stringsOf(netnstest.ReadUDP(l.Recv, 1, time.Second)), "the default verdict accepted it")
	for _, q := range s.Queues() {
		_, err := q.Packets(context.Background())
		assert.True(t, errors.Is(err, nfq.ErrClosed), "queue %d: %v", q.Num(), err)
	}
	var defaults uint64
	for _, st := range s.Stats() {
		defaults += st.DefaultVerdicts
	}
	assert.Equal(t, uint64(1), defaults)
}
