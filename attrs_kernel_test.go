//go:build linux && cgo

package nfq_test

import (
	"errors"
	"fmt"
	"net"
	"syscall"
	"testing"
	"time"

	"github.com/nfq-go/nfq"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestConntrackFlagWorksOrNamesTheKernelOption opens a queue with
// FlagConntrack. A kernel without CONFIG_NETFILTER_NETLINK_GLUE_CT refuses
// the flag with EOPNOTSUPP, and Open must say so; a kernel with it must
// attach the conntrack attributes and apply connection marks.
func TestConntrackFlagWorksOrNamesTheKernelOption(t *testing.T) {
	t.Parallel()
	l := newUDPLab(t)
	var q *nfq.Queue
	var err error
	l.ns.Do(t, func() { q, err = nfq.Open(nfq.Config{Queue: l.queue, Flags: nfq.FlagConntrack}) })
	if err != nil {
		t.Logf("Open: %v", err)
		require.ErrorIs(t, err, nfq.ErrNotSupported)
		require.ErrorIs(t, err, syscall.EOPNOTSUPP, "only the kernel's EOPNOTSUPP means the option is missing")
		var op *nfq.OpError
		require.True(t, errors.As(err, &op))
		assert.Equal(t, "set queue flag conntrack", op.Op)
		assert.Equal(t, l.queue, op.Queue)
		assert.Contains(t, err.Error(), "CONFIG_NETFILTER_NETLINK_GLUE_CT")
		// The failed Open released the queue number: a plain Open takes it.
		openIn(t, l.ns, nfq.Config{Queue: l.queue})
		t.Run("kernel with conntrack glue", func(t *testing.T) {
			t.Skip("the kernel answered EOPNOTSUPP to FlagConntrack (built without CONFIG_NETFILTER_NETLINK_GLUE_CT); its error is checked above")
		})
		return
	}
	t.Cleanup(func() { q.Close() })
	t.Run("kernel with conntrack glue", func(t *testing.T) { conntrackWorks(t, l, q) })
}

// conntrackWorks checks, on a kernel that takes FlagConntrack, the states of
// a UDP exchange (NEW, then ESTABLISHED_REPLY, then ESTABLISHED) and that a
// connection mark given with a verdict is seen by -m connmark.
func conntrackWorks(t *testing.T, l *udpLab, q *nfq.Queue) {
	// The replies go through the queue too; INPUT counts marked packets.
	l.ns.Exec(t, "iptables", "-A", "OUTPUT", "-p", "udp", "--sport", fmt.Sprint(l.port),
		"-j", "NFQUEUE", "--queue-num", fmt.Sprint(l.queue))
	l.ns.Exec(t, "iptables", "-A", "INPUT", "-p", "udp", "--dport", fmt.Sprint(l.port),
		"-m", "connmark", "--mark", "0x42")
	ch, err := q.Packets(t.Context())
	require.NoError(t, err)

	_, err = l.send.Write([]byte("a"))
	require.NoError(t, err)
	p := recvPacket(t, ch)
	require.True(t, p.Has(nfq.AttrConntrack), "a tracked packet")
	require.True(t, p.Has(nfq.AttrConnState))
	assert.Equal(t, nfq.ConnNew, p.ConnState)
	assert.True(t, p.Has(nfq.AttrConnID))
	assert.True(t, p.Has(nfq.AttrConnStatus))
	assert.False(t, p.Has(nfq.AttrConnZone), "the default zone is not sent")
	assert.Zero(t, p.ConnMark)
	id := p.ConnID
	require.NoError(t, p.SetVerdict(nfq.Accept, nfq.WithConnMark(0x42)))

	// The receiver answers: the reply direction of the same connection.
	buf := make([]byte, 16)
	require.NoError(t, l.recv.SetReadDeadline(time.Now().Add(5*time.Second)))
	n, from, err := l.recv.ReadFromUDP(buf)
	require.NoError(t, err)
	require.Equal(t, "a", string(buf[:n]))
	_, err = l.recv.WriteToUDP([]byte("r"), from)
	require.NoError(t, err)
	p = recvPacket(t, ch)
	assert.Equal(t, nfq.ConnEstablishedReply, p.ConnState)
	assert.Equal(t, id, p.ConnID, "the same connection")
	require.True(t, p.Has(nfq.AttrConnMark))
	assert.Equal(t, uint32(0x42), p.ConnMark, "the mark set by the first verdict")
	require.NoError(t, p.Accept())

	_, err = l.send.Write([]byte("b"))
	require.NoError(t, err)
	p = recvPacket(t, ch)
	assert.Equal(t, nfq.ConnEstablished, p.ConnState)
	assert.True(t, p.Has(nfq.AttrConnState), "ESTABLISHED is 0: the presence bit tells it from absent")
	assert.Equal(t, uint32(0x42), p.ConnMark)
	require.NoError(t, p.Accept())
	assert.Equal(t, []string{"b"}, l.received(1, time.Second))

	counters := l.ns.Exec(t, "iptables", "-L", "INPUT", "-v", "-x", "-n")
	assert.Regexp(t, `(?m)^\s*2\s+\d+\s+.*connmark match\s+0x42`, counters,
		"both datagrams to the receiver belonged to the marked connection")
}

// TestPriorityAttribute checks NFQA_PRIORITY: sent when skb->priority is not
// 0, which SO_PRIORITY on the sending socket sets.
func TestPriorityAttribute(t *testing.T) {
	t.Parallel()
	l := newUDPLab(t)
	_, ch := l.consume(t, nfq.Config{})

	_, err := l.send.Write([]byte("plain"))
	require.NoError(t, err)
	p := recvPacket(t, ch)
	assert.False(t, p.Has(nfq.AttrPriority), "priority 0 is not sent")
	assert.Zero(t, p.Priority)
	require.NoError(t, p.Accept())

	setPriority(t, l.send, 5)
	_, err = l.send.Write([]byte("prio"))
	require.NoError(t, err)
	p = recvPacket(t, ch)
	assert.Equal(t, "prio", string(udpPayload(t, p.Payload)))
	require.True(t, p.Has(nfq.AttrPriority), "the kernel sends skb->priority when it is not 0")
	assert.Equal(t, uint32(5), p.Priority)
	require.NoError(t, p.Accept())
	assert.Equal(t, []string{"plain", "prio"}, l.received(2, time.Second))
}

func setPriority(t *testing.T, c *net.UDPConn, prio int) {
	t.Helper()
	raw, err := c.SyscallConn()
	require.NoError(t, err)
	var serr error
	require.NoError(t, raw.Control(func(fd uintptr) {
		serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_PRIORITY, prio)
	}))
	require.NoError(t, serr)
}
