//go:build linux && cgo

package nfq_test

import (
	"errors"
	"fmt"
	"io"
	"net"
	"syscall"
	"testing"
	"time"

	"github.com/nfq-go/nfq"
	"github.com/nfq-go/nfq/internal/lab"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Queue flags, each shown by its effect on real packets. Fail-open is in
// internal/scenario/overload_test.go.

func TestUIDGIDFlagNamesTheSendingProcess(t *testing.T) {
	t.Parallel()
	for _, flagged := range []bool{true, false} {
		t.Run(fmt.Sprintf("flag=%v", flagged), func(t *testing.T) {
			t.Parallel()
			l := newUDPLab(t)
			cfg := nfq.Config{}
			if flagged {
				cfg.Flags = nfq.FlagUIDGID
			}
			_, ch := l.consume(t, cfg)
			// A sender of its own, running as uid 1234 and gid 4321.
			send := fmt.Sprintf("echo hello >/dev/udp/127.0.0.1/%d", l.port)
			l.ns.Exec(t, "setpriv", "--reuid", "1234", "--regid", "4321", "--clear-groups", "bash", "-c", send)

			p := lab.RecvPacket(t, ch)
			require.NoError(t, p.Accept())
			assert.Equal(t, flagged, p.Has(nfq.AttrUID))
			assert.Equal(t, flagged, p.Has(nfq.AttrGID))
			if flagged {
				assert.EqualValues(t, 1234, p.UID)
				assert.EqualValues(t, 4321, p.GID)
			}
			assert.Equal(t, []string{"hello\n"}, l.received(1, time.Second))
		})
	}
}

// On a loopback with a 1500-byte MTU, TCP hands the stack segments of up to
// 64 KiB for the device to cut (GSO). With FlagGSO the queue sees them
// whole; without it the kernel cuts them before queueing.
func TestGSOFlagDeliversSegmentsUnsegmented(t *testing.T) {
	t.Parallel()
	for _, flagged := range []bool{true, false} {
		t.Run(fmt.Sprintf("flag=%v", flagged), func(t *testing.T) {
			t.Parallel()
			l := newUDPLab(t)
			l.ns.Exec(t, "ip", "link", "set", "lo", "mtu", "1500")
			var ln net.Listener
			l.ns.Do(t, func() {
				var err error
				ln, err = net.Listen("tcp", "127.0.0.1:0")
				require.NoError(t, err)
			})
			defer ln.Close()
			port := ln.Addr().(*net.TCPAddr).Port
			l.ns.Exec(t, "iptables", "-A", "OUTPUT", "-p", "tcp", "--dport", fmt.Sprint(port),
				"-j", "NFQUEUE", "--queue-num", fmt.Sprint(l.queue))
			cfg := nfq.Config{}
			if flagged {
				cfg.Flags = nfq.FlagGSO
			}
			q, ch := l.consume(t, cfg)

			type seen struct {
				maxLen int
				gso    bool
			}
			result := make(chan seen, 1)
			go func() {
				var s seen
				for p := range ch {
					s.maxLen = max(s.maxLen, len(p.Payload))
					s.gso = s.gso || p.SkbInfo&nfq.SkbGSO != 0
					p.Accept()
				}
				result <- s
			}()
			received := make(chan int64, 1)
			go func() {
				c, err := ln.Accept()
				if err != nil {
					received <- -1
					return
				}
				defer c.Close()
				n, _ := io.Copy(io.Discard, c)
				received <- n
			}()
			const total = 1 << 20
			var c net.Conn
			l.ns.Do(t, func() {
				var err error
				c, err = net.Dial("tcp", ln.Addr().String())
				require.NoError(t, err)
			})
			_, err := c.Write(make([]byte, total))
			require.NoError(t, err)
			require.NoError(t, c.Close())
			select {
			case n := <-received:
				assert.EqualValues(t, total, n, "every byte arrived")
			case <-time.After(20 * time.Second):
				t.Fatal("the transfer did not finish")
			}
			require.NoError(t, q.Close()) // ends the channel, and the consumer
			s := <-result
			if flagged {
				assert.Greater(t, s.maxLen, 1500, "a segment larger than the MTU reached the queue")
				assert.True(t, s.gso, "GSO packets carry SkbGSO")
			} else {
				assert.LessOrEqual(t, s.maxLen, 1500, "without the flag the kernel segments before queueing")
				assert.False(t, s.gso)
			}
		})
	}
}

// The kernel attaches a security context only to packets an LSM labelled
// (iptables SECMARK with SELinux or Smack), which this test cannot arrange;
// what it shows is that the flag is taken and unlabelled packets flow
// without the attribute. The attribute itself is parsed in parse_test.go.
func TestSecCtxFlagIsAcceptedAndUnlabelledPacketsHaveNone(t *testing.T) {
	t.Parallel()
	l := newUDPLab(t)
	_, ch := l.consume(t, nfq.Config{Flags: nfq.FlagSecCtx})
	l.sendN(t, 1)
	p := lab.RecvPacket(t, ch)
	require.NoError(t, p.Accept())
	assert.False(t, p.Has(nfq.AttrSecCtx))
	assert.Empty(t, p.SecCtx)
	assert.Equal(t, []string{"msg-0"}, l.received(1, time.Second))
}

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
	p := lab.RecvPacket(t, ch)
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
	p = lab.RecvPacket(t, ch)
	assert.Equal(t, nfq.ConnEstablishedReply, p.ConnState)
	assert.Equal(t, id, p.ConnID, "the same connection")
	require.True(t, p.Has(nfq.AttrConnMark))
	assert.Equal(t, uint32(0x42), p.ConnMark, "the mark set by the first verdict")
	require.NoError(t, p.Accept())

	_, err = l.send.Write([]byte("b"))
	require.NoError(t, err)
	p = lab.RecvPacket(t, ch)
	assert.Equal(t, nfq.ConnEstablished, p.ConnState)
	assert.True(t, p.Has(nfq.AttrConnState), "ESTABLISHED is 0: the presence bit tells it from absent")
	assert.Equal(t, uint32(0x42), p.ConnMark)
	require.NoError(t, p.Accept())
	assert.Equal(t, []string{"b"}, l.received(1, time.Second))

	counters := l.ns.Exec(t, "iptables", "-L", "INPUT", "-v", "-x", "-n")
	assert.Regexp(t, `(?m)^\s*2\s+\d+\s+.*connmark match\s+0x42`, counters,
		"both datagrams to the receiver belonged to the marked connection")
}
