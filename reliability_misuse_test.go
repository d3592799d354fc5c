//go:build linux && cgo

package nfq_test

import (
	"bytes"
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/nfq-go/nfq"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
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
	held := recvPacket(t, ch)
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
	p := recvPacket(t, ch)

	err = p.AcceptWithPayload(make([]byte, nfq.MaxPayloadLen+1))
	require.ErrorIs(t, err, nfq.ErrPayloadTooLarge)
	assert.Contains(t, err.Error(), fmt.Sprintf("%d bytes", nfq.MaxPayloadLen+1))
	assert.Contains(t, err.Error(), fmt.Sprint(nfq.MaxPayloadLen))
	assert.Zero(t, q.Stats().Verdicts, "nothing was sent")
	kq, _ := l.kernelQueue(t)
	assert.Equal(t, uint64(1), kq.Waiting, "the packet still waits for its verdict")

	body := bytes.Repeat([]byte{'x'}, nfq.MaxPayloadLen-28) // IPv4 and UDP headers take 28
	largest := rewriteUDPv4(t, p.Payload, body)
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
