//go:build linux && cgo

package scenario_test

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/nfq-go/nfq"
	"github.com/nfq-go/nfq/internal/lab"
	"github.com/nfq-go/nfq/internal/netnstest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

// After Close every method still answers, from any goroutine, with
// ErrClosed where something was asked of the kernel, and nothing reaches
// it: the packet held across Close keeps the default verdict it got.
func TestEveryMethodAfterClose(t *testing.T) {
	t.Parallel()
	l := newRelLab(t, false)
	q := l.open(t, nfq.Config{})
	ch, err := q.Packets(context.Background())
	require.NoError(t, err)
	l.sendN(t, 1)
	held := lab.RecvPacket(t, ch)
	require.NoError(t, q.Close())
	_, ok := <-ch
	assert.False(t, ok, "the channel is closed")

	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			assert.NoError(t, q.Close(), "Close is idempotent")
			assert.Equal(t, l.queue, q.Num())
			assertClosed(t, q.SetCopyMode(nfq.CopyMeta, 0), l.queue)
			_, err := q.Packets(context.Background())
			assertClosed(t, err, l.queue)
			assertClosed(t, q.Run(context.Background(), func(*nfq.Packet) { t.Error("callback after Close") }), l.queue)
			for _, err := range []error{
				held.Accept(),
				held.Drop(),
				held.AcceptWithMark(7),
				held.AcceptWithPayload(held.Payload),
				held.SetVerdict(nfq.Repeat, nfq.WithMark(1)),
				held.SetVerdict(nfq.ToQueue(9, true)),
			} {
				assertClosed(t, err, l.queue)
				assert.Contains(t, err.Error(), "default verdict (drop)")
			}
			assert.ErrorIs(t, held.SetVerdict(nfq.Verdict(2)), nfq.ErrInvalidVerdict, "arguments are checked first")
		}()
	}
	wg.Wait()
	_, err = q.KernelStats()
	assert.ErrorIs(t, err, nfq.ErrClosed, "a closed queue has no kernel counters")
	st := q.Stats()
	st.Waits = nfq.WaitCounts{} // how the loop waited, not what it sent
	assert.Equal(t, nfq.Stats{Received: 1, DefaultVerdicts: 1}, st, "nothing was sent after Close")
	_, bound := l.kernelQueue(t)
	assert.False(t, bound)
	assert.Zero(t, l.waitArrived(1, 200*time.Millisecond, 0), "the held packet had the default drop")
}

func assertClosed(t *testing.T, err error, queue uint16) {
	t.Helper()
	assert.ErrorIs(t, err, nfq.ErrClosed)
	var op *nfq.OpError
	if assert.ErrorAs(t, err, &op) {
		assert.Equal(t, queue, op.Queue)
	}
}

// A replacement payload over the kernel's limit is refused before anything
// is sent; the packet keeps waiting for its one verdict, and a payload of
// exactly the limit goes through.
func TestReplacementPayloadAtAndOverTheLimit(t *testing.T) {
	t.Parallel()
	l := newRelLab(t, false)
	q := l.open(t, nfq.Config{})
	defer q.Close()
	ch, err := q.Packets(context.Background())
	require.NoError(t, err)
	l.sendN(t, 1)
	p := lab.RecvPacket(t, ch)

	err = p.AcceptWithPayload(make([]byte, nfq.MaxPayloadLen+1))
	require.ErrorIs(t, err, nfq.ErrPayloadTooLarge)
	assert.Contains(t, err.Error(), fmt.Sprintf("%d bytes", nfq.MaxPayloadLen+1))
	assert.Contains(t, err.Error(), fmt.Sprint(nfq.MaxPayloadLen))
	assert.Zero(t, q.Stats().Verdicts, "nothing was sent")
	kq, _ := l.kernelQueue(t)
	assert.Equal(t, uint64(1), kq.Waiting, "the packet still waits for its verdict")

	body := bytes.Repeat([]byte{'x'}, nfq.MaxPayloadLen-28) // IPv4 and UDP headers take 28
	largest := lab.RewriteUDPv4(t, p.Payload, body)
	require.Len(t, largest, nfq.MaxPayloadLen)
	require.NoError(t, p.AcceptWithPayload(largest))
	got := l.waitOthers(1, hang)
	require.Len(t, got, 1)
	assert.Equal(t, string(body), got[0], "the largest replacement arrived whole")
	kq, _ = l.kernelQueue(t)
	assert.Zero(t, kq.Waiting)
}

// A callback that panics: Run closes the queue, giving the default verdict
// to the packet it was handling and to every packet not yet answered, and
// re-panics. The kernel queue is gone; the packet answered before stays
// answered.
func TestPanicInCallbackLeavesTheKernelClean(t *testing.T) {
	t.Parallel()
	l := newRelLab(t, false)
	q := l.open(t, nfq.Config{DefaultVerdict: nfq.Drop})
	l.sendN(t, 5)
	calls := 0
	func() {
		defer func() {
			r := recover()
			require.NotNil(t, r)
			assert.Equal(t, "consumer bug", fmt.Sprint(r))
		}()
		q.Run(context.Background(), func(p *nfq.Packet) {
			if calls++; calls == 1 {
				require.NoError(t, p.Accept())
				return
			}
			panic("consumer bug")
		})
	}()
	_, bound := l.kernelQueue(t)
	assert.False(t, bound, "the kernel queue is gone")
	assert.Equal(t, 1, l.waitArrived(1, hang, 100*time.Millisecond), "only the accepted packet arrived")
	assert.True(t, l.has(0))
	st := q.Stats()
	assert.Equal(t, uint64(5), st.Received)
	assert.Equal(t, uint64(1), st.Verdicts)
	assert.Equal(t, uint64(4), st.DefaultVerdicts, "the panicking packet and the rest got the default drop")
	assert.ErrorIs(t, q.Run(context.Background(), func(*nfq.Packet) {}), nfq.ErrClosed)
}

// closeWithin closes c on another goroutine and fails the test, with every
// goroutine's stack, if that takes longer than hang.
func closeWithin(t *testing.T, c interface{ Close() error }) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		defer close(done)
		assert.NoError(t, c.Close())
	}()
	lab.Within(t, hang, "Close", done)
}

// consumer is what Queue and QueueSet have in common.
type consumer interface {
	Packets(context.Context) (<-chan *nfq.Packet, error)
	Run(context.Context, func(*nfq.Packet)) error
}

// refusesNilContext checks that Packets and Run refuse a nil context with an
// error, not a panic.
func refusesNilContext(t *testing.T, c consumer) {
	t.Helper()
	var nilCtx context.Context
	var err error
	require.NotPanics(t, func() { _, err = c.Packets(nilCtx) })
	require.Error(t, err)
	assert.Contains(t, err.Error(), "nil context")
	require.NotPanics(t, func() { err = c.Run(nilCtx, func(*nfq.Packet) {}) })
	require.Error(t, err)
	assert.Contains(t, err.Error(), "nil context")
}

// A nil context is refused before the queue counts as consumed: the queue
// stays usable and closes.
func TestNilContextIsRefusedAndTheQueueStaysUsable(t *testing.T) {
	t.Parallel()
	l := newRelLab(t, false)
	q := l.open(t, nfq.Config{})
	refusesNilContext(t, q)
	ch, err := q.Packets(context.Background())
	require.NoError(t, err, "the queue still takes its one consumer")
	l.sendN(t, 1)
	require.NoError(t, lab.RecvPacket(t, ch).Accept())
	assert.Equal(t, 1, l.waitArrived(1, hang, 0))
	closeWithin(t, q)
}

func TestNilContextIsRefusedByAQueueSet(t *testing.T) {
	t.Parallel()
	l := lab.NewFanout(t)
	var s *nfq.QueueSet
	var err error
	l.NS.Do(t, func() { s, err = nfq.OpenRange(l.First, l.Last, nfq.Config{}) })
	require.NoError(t, err)
	refusesNilContext(t, s)
	ch, err := s.Packets(context.Background())
	require.NoError(t, err, "the set still takes its one consumer")
	_, err = l.Conns[0].Write([]byte("after the refusal"))
	require.NoError(t, err)
	require.NoError(t, lab.RecvPacket(t, ch).Accept())
	assert.Len(t, netnstest.ReadUDP(l.Recv, 1, hang), 1)
	closeWithin(t, s)
}

// A read buffer size the socket option cannot take is refused, not cut to
// 32 bits (which made it the default size, or a tiny one).
func TestReadBufferSizeOverTheSocketOptionIsRefused(t *testing.T) {
	t.Parallel()
	l := newRelLab(t, false)
	sizes := []int{math.MaxInt}
	if strconv.IntSize == 64 {
		wide := uint64(1) << 31
		sizes = append(sizes, int(wide), int(wide<<1+4096))
	}
	for _, size := range sizes {
		var q *nfq.Queue
		var err error
		l.ns.Do(t, func() { q, err = nfq.Open(nfq.Config{Queue: l.queue, ReadBufferSize: size}) })
		if q != nil {
			q.Close()
		}
		require.ErrorIs(t, err, nfq.ErrInvalidConfig, "ReadBufferSize %d", size)
		assert.Contains(t, err.Error(), strconv.Itoa(size))
	}
	q := l.open(t, nfq.Config{ReadBufferSize: math.MaxInt32})
	require.NoError(t, q.Close(), "the largest size the option takes")
}

// A replacement shorter than the packet's IP header makes the kernel drop
// the packet without a word: it is refused before anything is sent, and the
// packet keeps waiting for its one verdict.
func TestReplacementShorterThanTheIPHeaderIsRefused(t *testing.T) {
	t.Parallel()
	l := newRelLab(t, false)
	q := l.open(t, nfq.Config{})
	defer q.Close()
	ch, err := q.Packets(context.Background())
	require.NoError(t, err)

	// A datagram with 4 bytes of IP options: a 24-byte IP header.
	opts := l.ns.DialUDP(t, l.recv.LocalAddr().String())
	raw, err := opts.SyscallConn()
	require.NoError(t, err)
	var serr error
	require.NoError(t, raw.Control(func(fd uintptr) {
		serr = unix.SetsockoptString(int(fd), unix.IPPROTO_IP, unix.IP_OPTIONS, "\x01\x01\x01\x00") // NOP NOP NOP EOL
	}))
	require.NoError(t, serr)
	l.sendN(t, 1)
	_, err = opts.Write([]byte("with options"))
	require.NoError(t, err)

	for i, c := range []struct {
		name   string
		header int
	}{{"plain", 20}, {"with options", 24}} {
		p := lab.RecvPacket(t, ch)
		require.Equal(t, c.header, int(p.Payload[0]&0x0f)*4, c.name)
		for n := 1; n < c.header; n++ {
			err := p.AcceptWithPayload(p.Payload[:n])
			require.ErrorIs(t, err, nfq.ErrInvalidVerdict, "%s: %d bytes", c.name, n)
			assert.Contains(t, err.Error(), fmt.Sprintf("%d-byte IP header", c.header))
		}
		// The packets still waiting: this one, and the next until it is
		// handed out (a verdict given before may take up to the bound).
		var kq netnstest.QueueLine
		assert.Eventually(t, func() bool { kq, _ = l.kernelQueue(t); return kq.Waiting == uint64(2-i) }, hang, time.Millisecond,
			"%s: the packet still waits for its verdict: %+v", c.name, kq)
		require.NoError(t, p.AcceptWithPayload(p.Payload), c.name)
	}
	assert.Equal(t, 1, l.waitArrived(1, hang, 0))
	assert.Equal(t, []string{"with options"}, l.waitOthers(1, hang))
	st := q.Stats()
	assert.Equal(t, uint64(2), st.Verdicts, "only the two valid verdicts were sent")
	assert.Zero(t, st.VerdictErrors)
}
