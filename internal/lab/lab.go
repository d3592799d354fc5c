//go:build linux

package lab

import (
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nfq-go/nfq"
	"github.com/stretchr/testify/require"
)

var nextQueue atomic.Uint32

// QueueNum returns a queue number no other test in this process uses, so
// that a mistake in namespace handling shows up as a failure, not a clash.
func QueueNum() uint16 { return uint16(100 + nextQueue.Add(1)) }

// QueueRange returns the first of n consecutive queue numbers no other test
// in this process uses.
func QueueRange(n int) uint16 {
	end := nextQueue.Add(uint32(n))
	return uint16(100 + end - uint32(n) + 1)
}

// RecvPacket waits for one packet on ch.
func RecvPacket(t testing.TB, ch <-chan *nfq.Packet) *nfq.Packet {
	t.Helper()
	select {
	case p, ok := <-ch:
		require.True(t, ok, "packet channel closed early")
		return p
	case <-time.After(5 * time.Second):
		t.Fatal("no packet arrived on the queue within 5s")
	}
	return nil
}

// Within waits for done, failing the test with every goroutine's stack if
// it takes longer than d: a hang there is a deadlock.
func Within(t testing.TB, d time.Duration, what string, done <-chan struct{}) {
	t.Helper()
	select {
	case <-done:
	case <-time.After(d):
		buf := make([]byte, 1<<20)
		t.Fatalf("%s did not finish within %v (deadlock?):\n%s", what, d, buf[:runtime.Stack(buf, true)])
	}
}
