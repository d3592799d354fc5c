//go:build linux && cgo

package nfq_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/nfq-go/nfq"
	"github.com/nfq-go/nfq/internal/lab"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A burst larger than the socket buffer overruns it: the kernel drops the
// excess and says so (ENOBUFS). The loop reports it and keeps going.
func TestOverrunIsReportedAndTheLoopKeepsGoing(t *testing.T) {
	t.Parallel()
	l := newUDPLab(t)
	var mu sync.Mutex
	var reported []error
	q := l.open(t, nfq.Config{
		ReadBufferSize: 4096,
		MaxQueueLen:    10000,
		OnError: func(err error) {
			mu.Lock()
			reported = append(reported, err)
			mu.Unlock()
		},
	})
	const burst = 500
	l.sendN(t, burst) // nobody reads yet: the socket buffer overflows

	ch, err := q.Packets(context.Background())
	require.NoError(t, err)
	got := 0
	for quiet := false; !quiet; {
		select {
		case p := <-ch:
			require.NoError(t, p.Accept())
			got++
		case <-time.After(300 * time.Millisecond):
			quiet = true
		}
	}
	assert.Less(t, got, burst, "some packets were lost to the overrun")
	st := q.Stats()
	assert.GreaterOrEqual(t, st.Overruns, uint64(1))
	mu.Lock()
	require.NotEmpty(t, reported)
	assert.True(t, errors.Is(reported[0], nfq.ErrOverrun), "%v", reported[0])
	assert.Contains(t, reported[0].Error(), "ReadBufferSize")
	mu.Unlock()
	kernel := l.ns.Queues(t)[uint64(l.queue)]
	assert.Equal(t, uint64(burst-got), kernel.UserDropped, "the kernel counted exactly the lost ones")
	assert.Zero(t, kernel.Waiting)

	// The loop survived: new traffic still flows.
	l.sendN(t, 1)
	require.NoError(t, lab.RecvPacket(t, ch).Accept())
}

func TestCloseFromOnErrorDoesNotDeadlock(t *testing.T) {
	t.Parallel()
	l := newUDPLab(t)
	var q *nfq.Queue
	closed := make(chan error, 1)
	q = l.open(t, nfq.Config{
		ReadBufferSize: 4096,
		MaxQueueLen:    10000,
		OnError: func(err error) {
			select {
			case closed <- q.Close():
			default:
			}
		},
	})
	l.sendN(t, 500) // overruns the socket buffer
	ch, err := q.Packets(context.Background())
	require.NoError(t, err)
	select {
	case err := <-closed:
		require.NoError(t, err)
	case <-time.After(5 * time.Second):
		t.Fatal("Close from OnError did not return")
	}
	for range ch {
	}
}
