//go:build linux && cgo

package scenario_test

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/nfq-go/nfq"
	"github.com/nfq-go/nfq/internal/lab"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Every packet gets exactly one verdict, also when the queue ends in the
// middle of the stream: the consumer drops every packet whose number is
// divisible by 3 and accepts the others; the queue is closed (or its context
// cancelled) half-way; DefaultVerdict Accept and the rule's --queue-bypass
// let the rest through. Then each packet sent either arrived or was dropped
// by a Drop that succeeded, never both, never neither.
func TestEveryPacketGetsExactlyOneVerdict(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name string
		run  bool // Run instead of Packets
		stop func(q *nfq.Queue, cancel context.CancelFunc)
	}{
		{"Packets/Close", false, func(q *nfq.Queue, _ context.CancelFunc) { q.Close() }},
		{"Packets/cancel", false, func(_ *nfq.Queue, cancel context.CancelFunc) { cancel() }},
		{"Run/Close", true, func(q *nfq.Queue, _ context.CancelFunc) { q.Close() }},
		{"Run/cancel", true, func(_ *nfq.Queue, cancel context.CancelFunc) { cancel() }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			const total = 3000
			l := newRelLab(t, true)
			q := l.open(t, nfq.Config{DefaultVerdict: nfq.Accept, ReadBufferSize: 1 << 20})
			defer q.Close()
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()

			var mu sync.Mutex
			dropped := map[int]bool{} // drops the kernel got
			seen, refused := 0, 0     // packets handed out; verdicts refused with ErrClosed
			var stopOnce sync.Once
			consume := func(p *nfq.Packet) {
				n, err := strconv.Atoi(string(lab.UDPPayload(t, p.Payload)))
				require.NoError(t, err)
				if n%3 == 0 {
					err = p.Drop()
				} else {
					err = p.Accept()
				}
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil && n%3 == 0:
					dropped[n] = true
				case errors.Is(err, nfq.ErrClosed):
					refused++
				case err != nil:
					t.Errorf("verdict for packet %d: %v", n, err)
				}
				if seen++; seen == total/2 {
					go stopOnce.Do(func() { tc.stop(q, cancel) })
				}
			}
			consumed := make(chan struct{})
			if tc.run {
				go func() {
					defer close(consumed)
					err := q.Run(ctx, consume)
					if ctx.Err() != nil {
						assert.ErrorIs(t, err, context.Canceled, "ctx ended Run")
					} else {
						assert.NoError(t, err, "Close ended Run")
					}
				}()
			} else {
				ch, err := q.Packets(ctx)
				require.NoError(t, err)
				go func() {
					defer close(consumed)
					for p := range ch {
						consume(p)
					}
				}()
			}
			// At most 100 packets in flight: the kernel queue never fills, so
			// no packet is lost to overload (see the overload tests for that).
			stopLoad := l.loadPaced(total, 100, func() int {
				mu.Lock()
				defer mu.Unlock()
				return len(dropped)
			})
			lab.Within(t, hang, "the consumer's end", consumed)
			// The rest of the stream goes on after the queue's end.
			for deadline := time.Now().Add(hang); l.sent() < total && time.Now().Before(deadline); {
				time.Sleep(time.Millisecond)
			}
			stopLoad()
			require.Equal(t, total, l.sent())

			mu.Lock()
			drops := len(dropped)
			mu.Unlock()
			arrived := l.waitArrived(total-drops, hang, 100*time.Millisecond)
			_, dup := l.count()
			for n := 0; n < total; n++ {
				if l.has(n) == dropped[n] {
					t.Errorf("packet %d: arrived %v, dropped on request %v", n, l.has(n), dropped[n])
				}
			}
			assert.Equal(t, total, arrived+drops, "arrived + dropped on request == sent")
			assert.Zero(t, dup, "no packet arrived twice")
			_, bound := l.kernelQueue(t)
			assert.False(t, bound, "the kernel queue is gone")
			st := q.Stats()
			assert.Equal(t, st.Received, st.Verdicts+st.DefaultVerdicts, "%+v", st)
			t.Logf("%d sent: %d arrived, %d dropped on request; %d handed out (%d after Close), %+v",
				total, arrived, drops, seen, refused, st)
		})
	}
}
