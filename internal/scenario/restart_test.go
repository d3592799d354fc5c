//go:build linux && cgo

package scenario_test

import (
	"context"
	"testing"
	"time"

	"github.com/nfq-go/nfq"
	"github.com/nfq-go/nfq/internal/lab"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A consumer restarted again and again while traffic flows (during Close,
// between Close and the next Open, while consuming) loses nothing with
// DefaultVerdict Accept and a rule with --queue-bypass: every packet is
// accepted by the consumer, by the default verdict or fail-open during
// Close, or by the bypass while no queue is bound.
//
// Traffic pauses during Open only: between binding a queue and setting its
// copy mode the kernel holds the queue in COPY_NONE and drops what arrives,
// silently (nfqnl_enqueue_packet returns -EINVAL). That window is the
// kernel's; Open can only make it short.
func TestRestartUnderTrafficLosesNothing(t *testing.T) {
	t.Parallel()
	const restarts = 300
	l := newRelLab(t, true)
	stopLoad := l.loadPaced(1<<30, 100, func() int { return 0 })
	for i := 0; i < restarts && !t.Failed(); i++ {
		l.pause.Lock()
		q := l.open(t, nfq.Config{DefaultVerdict: nfq.Accept, ReadBufferSize: 1 << 20})
		l.pause.Unlock()
		ch, err := q.Packets(context.Background())
		require.NoError(t, err)
		done := make(chan struct{})
		go func() {
			defer close(done)
			for p := range ch {
				acceptOrClosed(t, p)
			}
		}()
		time.Sleep(time.Duration(i%4) * 250 * time.Microsecond)
		require.NoError(t, q.Close())
		lab.Within(t, hang, "consumer end", done)
	}
	stopLoad()
	sent := l.sent()
	arrived := l.waitArrived(sent, hang, 100*time.Millisecond)
	var missing []int
	for i := 0; i < sent && len(missing) < 20; i++ {
		if !l.has(i) {
			missing = append(missing, i)
		}
	}
	assert.Equal(t, sent, arrived, "packets lost across %d restarts, first ones: %v", restarts, missing)
	t.Logf("%d restarts under traffic: %d packets sent, %d arrived", restarts, sent, arrived)
}
