//go:build linux && cgo

package nfq_test

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/nfq-go/nfq"
	"github.com/nfq-go/nfq/internal/lab"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Each verdict kind, shown by what happened to real packets.

// ruleHits returns the packet counter of the rule of chain (in table) whose
// listing matches pattern.
func ruleHits(t *testing.T, l *udpLab, table, chain, pattern string) int {
	t.Helper()
	out := l.ns.Exec(t, "iptables", "-t", table, "-L", chain, "-v", "-x", "-n")
	m := regexp.MustCompile(`(?m)^\s*(\d+)\s+\d+\s+` + pattern).FindStringSubmatch(out)
	require.NotNil(t, m, "no rule matching %q in %s/%s:\n%s", pattern, table, chain, out)
	n, err := strconv.Atoi(m[1])
	require.NoError(t, err)
	return n
}

// noMorePackets fails the test if ch yields a packet within wait.
func noMorePackets(t *testing.T, ch <-chan *nfq.Packet, wait time.Duration) {
	t.Helper()
	select {
	case p := <-ch:
		if p != nil {
			p.Accept()
			t.Fatalf("unexpected packet %d on queue %d", p.ID, p.Queue)
		}
	case <-time.After(wait):
	}
}

func TestRepeatWithMarkRunsTheHookAgainOnce(t *testing.T) {
	t.Parallel()
	l := newUDPLab(t)
	port := fmt.Sprint(l.port)
	// A counting rule ahead of the queue rule sees every pass through the
	// hook; the queue rule lets marked packets by, so a repeat with the
	// mark passes once more and then goes on.
	l.ns.Exec(t, "iptables", "-F", "OUTPUT")
	l.ns.Exec(t, "iptables", "-A", "OUTPUT", "-p", "udp", "--dport", port, "-m", "comment", "--comment", "passes")
	l.ns.Exec(t, "iptables", "-A", "OUTPUT", "-p", "udp", "--dport", port, "-m", "mark", "!", "--mark", "0x5",
		"-j", "NFQUEUE", "--queue-num", fmt.Sprint(l.queue))
	q, ch := l.consume(t, nfq.Config{})

	l.sendN(t, 3)
	for i := 0; i < 3; i++ {
		p := lab.RecvPacket(t, ch)
		assert.False(t, p.Has(nfq.AttrMark) && p.Mark == 5, "a repeated packet came back to the queue")
		require.NoError(t, p.SetVerdict(nfq.Repeat, nfq.WithMark(5)))
	}
	assert.Equal(t, []string{"msg-0", "msg-1", "msg-2"}, l.received(3, time.Second))
	noMorePackets(t, ch, 200*time.Millisecond)
	assert.Equal(t, 6, ruleHits(t, l, "filter", "OUTPUT", `.*passes`), "each packet passed the hook twice")
	assert.EqualValues(t, 3, q.Stats().Received)
}

func TestStopSkipsTheRestOfTheHook(t *testing.T) {
	t.Parallel()
	l := newUDPLab(t)
	port := fmt.Sprint(l.port)
	// Queue from the mangle table, which runs before filter at OUTPUT, and
	// drop in filter: accept continues into filter and is dropped there;
	// stop ends the hook and skips it.
	l.ns.Exec(t, "iptables", "-F", "OUTPUT")
	l.ns.Exec(t, "iptables", "-t", "mangle", "-A", "OUTPUT", "-p", "udp", "--dport", port,
		"-j", "NFQUEUE", "--queue-num", fmt.Sprint(l.queue))
	l.ns.Exec(t, "iptables", "-A", "OUTPUT", "-p", "udp", "--dport", port, "-j", "DROP")
	_, ch := l.consume(t, nfq.Config{})

	l.sendN(t, 2)
	require.NoError(t, lab.RecvPacket(t, ch).Accept())
	require.NoError(t, lab.RecvPacket(t, ch).SetVerdict(nfq.Stop))
	assert.Equal(t, []string{"msg-1"}, l.received(2, 500*time.Millisecond))
	assert.Equal(t, 1, ruleHits(t, l, "filter", "OUTPUT", `DROP`), "only the accepted packet reached the filter table")
}

func TestToQueueHandsThePacketToTheOtherQueue(t *testing.T) {
	t.Parallel()
	l := newUDPLab(t)
	second := lab.QueueNum()
	_, first := l.consume(t, nfq.Config{})
	q2 := openIn(t, l.ns, nfq.Config{Queue: second})
	ch2, err := q2.Packets(context.Background())
	require.NoError(t, err)

	l.sendN(t, 1)
	p := lab.RecvPacket(t, first)
	require.NoError(t, p.SetVerdict(nfq.ToQueue(second, false)))
	p2 := lab.RecvPacket(t, ch2)
	assert.Equal(t, second, p2.Queue)
	assert.Equal(t, []byte("msg-0"), lab.UDPPayload(t, p2.Payload))
	assert.Equal(t, nfq.HookOutput, p2.Hook)
	noMorePackets(t, first, 100*time.Millisecond)
	require.NoError(t, p2.Accept())
	assert.Equal(t, []string{"msg-0"}, l.received(1, time.Second))
}

func TestToQueueWithNobodyListeningDropsUnlessBypass(t *testing.T) {
	t.Parallel()
	l := newUDPLab(t)
	nobody := lab.QueueNum()
	_, ch := l.consume(t, nfq.Config{})

	l.sendN(t, 2)
	require.NoError(t, lab.RecvPacket(t, ch).SetVerdict(nfq.ToQueue(nobody, false)))
	require.NoError(t, lab.RecvPacket(t, ch).SetVerdict(nfq.ToQueue(nobody, true)))
	assert.Equal(t, []string{"msg-1"}, l.received(2, 500*time.Millisecond),
		"without bypass the kernel drops the packet; with it the packet passes")
}
