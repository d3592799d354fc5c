//go:build linux && cgo

package nfq_test

import (
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/nfq-go/nfq"
	"github.com/nfq-go/nfq/internal/lab"
	"github.com/nfq-go/nfq/internal/netnstest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// eventually waits until cond holds, for counters the kernel updates as the
// packets go by.
func eventually(t *testing.T, cond func() bool, msg string) {
	t.Helper()
	require.Eventually(t, cond, 3*time.Second, 10*time.Millisecond, msg)
}

func kernelStats(t *testing.T, q *nfq.Queue) nfq.KernelStats {
	t.Helper()
	k, err := q.KernelStats()
	require.NoError(t, err)
	return k
}

// Packets held without a verdict show in the kernel's queue length, and the
// verdicts given are counted by kind.
func TestStatsCountHeldPacketsAndVerdictKinds(t *testing.T) {
	t.Parallel()
	l := newUDPLab(t)
	// A repeated packet comes back to OUTPUT: let it through by its mark.
	l.ns.Exec(t, "iptables", "-I", "OUTPUT", "-m", "mark", "--mark", "7", "-j", "ACCEPT")
	q, ch := l.consume(t, nfq.Config{})

	const n = 7
	l.sendN(t, n)
	held := make([]*nfq.Packet, n)
	for i := range held {
		held[i] = lab.RecvPacket(t, ch)
	}
	k := kernelStats(t, q)
	assert.Equal(t, uint32(n), k.QueueLen, "every held packet waits in the kernel")
	assert.Equal(t, uint32(n), k.IDSequence)
	kernel := l.ns.Queues(t)[uint64(l.queue)]
	assert.Equal(t, kernel.Waiting, uint64(k.QueueLen))
	assert.Equal(t, kernel.PortID, uint64(k.PortID))
	assert.NotZero(t, k.PortID)

	unused := lab.QueueNum() // nobody listens: bypass accepts
	require.NoError(t, held[0].Accept())
	require.NoError(t, held[1].Accept())
	require.NoError(t, held[2].Drop())
	require.NoError(t, held[3].SetVerdict(nfq.Stop))
	require.NoError(t, held[4].SetVerdict(nfq.Repeat, nfq.WithMark(7)))
	require.NoError(t, held[5].SetVerdict(nfq.ToQueue(unused, true)))
	require.NoError(t, held[6].SetVerdict(nfq.ToQueue(unused, true)))
	assert.ElementsMatch(t, []string{"msg-0", "msg-1", "msg-3", "msg-4", "msg-5", "msg-6"},
		l.received(n-1, 500*time.Millisecond), "every packet but the dropped one arrived")

	st := q.Stats()
	assert.Equal(t, nfq.VerdictCounts{Accept: 2, Drop: 1, Stop: 1, Repeat: 1, ToQueue: 2}, st.ByVerdict)
	assert.Equal(t, uint64(n), st.Verdicts)
	assert.Equal(t, uint64(n), st.Received)
	k = kernelStats(t, q)
	assert.Zero(t, k.QueueLen, "nothing waits any more")
	assert.Zero(t, k.Dropped)
	assert.Zero(t, k.UserDropped)

	require.NoError(t, q.Close())
	_, err := q.KernelStats()
	assert.ErrorIs(t, err, nfq.ErrClosed, "a closed queue has no kernel counters")
	assert.ErrorContains(t, err, fmt.Sprintf("queue %d: read kernel stats: queue closed", l.queue))
	st = q.Stats()
	assert.Equal(t, nfq.VerdictCounts{Accept: 2, Drop: 1, Stop: 1, Repeat: 1, ToQueue: 2}, st.ByVerdict, "library counters stay")
}

// A full queue (small MaxQueueLen, nobody consuming) makes the kernel drop
// the excess and count it as queue_dropped.
func TestStatsShowFullQueueDrops(t *testing.T) {
	t.Parallel()
	l := newUDPLab(t)
	const maxLen, sent = 4, 10
	q := l.open(t, nfq.Config{MaxQueueLen: maxLen})
	l.sendN(t, sent)
	k := kernelStats(t, q)
	assert.Equal(t, uint32(maxLen), k.QueueLen)
	assert.Equal(t, uint64(sent-maxLen), k.Dropped)
	assert.Zero(t, k.UserDropped)
	kernel := l.ns.Queues(t)[uint64(l.queue)]
	assert.Equal(t, kernel.Dropped, k.Dropped)
	assert.Equal(t, kernel.Waiting, uint64(k.QueueLen))
}

// A stalled consumer with a small socket buffer makes the kernel drop for
// want of buffer space: queue_user_dropped.
func TestStatsShowSocketBufferDrops(t *testing.T) {
	t.Parallel()
	l := newUDPLab(t)
	q := l.open(t, nfq.Config{ReadBufferSize: 4096, MaxQueueLen: 10000, NoENOBUFS: true})
	const burst = 300
	l.sendN(t, burst)
	k := kernelStats(t, q)
	assert.NotZero(t, k.UserDropped, "the small buffer overflowed")
	assert.Equal(t, uint64(burst), uint64(k.QueueLen)+k.UserDropped,
		"each packet either waits or was dropped for want of buffer")
	assert.Equal(t, l.ns.Queues(t)[uint64(l.queue)].UserDropped, k.UserDropped)
}

// The counters are the queue's namespace's, read from any thread: two
// namespaces bind the same queue number and see different traffic.
func TestStatsReadTheQueuesOwnNamespace(t *testing.T) {
	t.Parallel()
	a := newUDPLab(t)
	nsB := netnstest.New(t)
	recvB := nsB.ListenUDP(t, "127.0.0.1:0")
	sendB := nsB.DialUDP(t, recvB.LocalAddr().String())
	nsB.Exec(t, "iptables", "-A", "OUTPUT", "-p", "udp", "--dport", fmt.Sprint(recvB.LocalAddr().(*net.UDPAddr).Port),
		"-j", "NFQUEUE", "--queue-num", fmt.Sprint(a.queue))

	qa, cha := a.consume(t, nfq.Config{})
	qb := openIn(t, nsB, nfq.Config{Queue: a.queue})
	a.sendN(t, 3)
	for range 3 {
		lab.RecvPacket(t, cha)
	}
	_, err := sendB.Write([]byte("b"))
	require.NoError(t, err)
	eventually(t, func() bool { return kernelStats(t, qb).QueueLen == 1 }, "one packet waits in B")

	// Read from this goroutine, which is in neither namespace.
	sa, sb := kernelStats(t, qa), kernelStats(t, qb)
	assert.Equal(t, uint32(3), sa.QueueLen)
	assert.Equal(t, uint32(3), sa.IDSequence)
	assert.Equal(t, uint32(1), sb.QueueLen)
	assert.Equal(t, uint32(1), sb.IDSequence)
	assert.Equal(t, a.ns.Queues(t)[uint64(a.queue)].PortID, uint64(sa.PortID))
	assert.Equal(t, nsB.Queues(t)[uint64(a.queue)].PortID, uint64(sb.PortID))
}
