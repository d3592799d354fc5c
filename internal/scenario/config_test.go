//go:build linux && cgo

package scenario_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/nfq-go/nfq"
	"github.com/nfq-go/nfq/internal/lab"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// sendRaw sends one datagram with the given UDP payload.
func sendRaw(t *testing.T, l *relLab, payload string) {
	t.Helper()
	_, err := l.send.Write([]byte(payload))
	require.NoError(t, err)
}

// Run must not hand out packets after Close: they already had the default
// verdict, and every verdict on them fails with ErrClosed.
func TestRunCallsNothingAfterClose(t *testing.T) {
	t.Parallel()
	l := newRelLab(t, true)
	q := l.open(t, nfq.Config{DefaultVerdict: nfq.Accept})
	l.sendN(t, 3) // queued before Run starts: one batch of three
	calls := 0
	require.NoError(t, q.Run(context.Background(), func(p *nfq.Packet) {
		calls++
		require.NoError(t, q.Close())
	}))
	assert.Equal(t, 1, calls, "callbacks after Close")
	assert.Equal(t, 3, l.waitArrived(3, hang, 0))
}

// Configuration requests (Open, SetCopyMode, the fail-open step of Close,
// the unbind) wait for their answer on the socket that carries the packets,
// and must hand every packet met meanwhile to the consumer. The C library's
// own wait (libnfnetlink 1.0.2's nfnl_catch) dropped, without a word, a
// packet message whose payload is 3 mod 4 bytes long, and took the first
// error or overrun on the socket for its own answer: these tests keep that
// from coming back.

// Every IP packet length mod 4; each one alone in the queue at Close.
var payloadsByLengthMod4 = []string{"abc", "abcd", "abcde", "abcdef"} // IPv4 lengths 31..34

func TestCloseGivesTheDefaultVerdictToEveryPacketLength(t *testing.T) {
	t.Parallel()
	for _, payload := range payloadsByLengthMod4 {
		l := newRelLab(t, false)
		q := l.open(t, nfq.Config{DefaultVerdict: nfq.Accept})
		sendRaw(t, l, payload)
		require.NoError(t, q.Close())
		assert.Equal(t, []string{payload}, l.waitOthers(1, hang),
			"IPv4 length %d: the packet got the default accept", 28+len(payload))
		assert.Equal(t, uint64(1), q.Stats().DefaultVerdicts, "IPv4 length %d", 28+len(payload))
	}
}

func TestSetCopyModeWhilePacketsWait(t *testing.T) {
	t.Parallel()
	for _, payload := range payloadsByLengthMod4 {
		l := newRelLab(t, false)
		q := l.open(t, nfq.Config{})
		sendRaw(t, l, payload)
		require.NoError(t, q.SetCopyMode(nfq.CopyPacket, 0), "IPv4 length %d", 28+len(payload))
		ch, err := q.Packets(context.Background())
		require.NoError(t, err)
		p := lab.RecvPacket(t, ch)
		assert.Equal(t, payload, string(lab.UDPPayload(t, p.Payload)))
		require.NoError(t, p.Accept())
		assert.Equal(t, []string{payload}, l.waitOthers(1, hang))
		require.NoError(t, q.Close())
	}
}

// A configuration call must not take the kernel's answer to an earlier
// verdict for its own: the verdict error belongs to OnError. (The C
// library's unbind did, failed, and leaked its queue handle.)
func TestSetCopyModeAfterARefusedVerdict(t *testing.T) {
	t.Parallel()
	l := newRelLab(t, false)
	errs := newErrorLog()
	q := l.open(t, nfq.Config{OnError: errs.report})
	l.sendN(t, 1)
	var setErr error
	require.NoError(t, q.Run(context.Background(), func(p *nfq.Packet) {
		flushQueuedPackets(t, l)
		require.NoError(t, p.Accept()) // refused: ENOENT comes back
		setErr = q.SetCopyMode(nfq.CopyMeta, 0)
		go func() {
			select {
			case <-errs.news:
			case <-time.After(2 * time.Second):
			}
			q.Close()
		}()
	}))
	assert.NoError(t, setErr, "the copy mode was set")
	got := errs.all()
	require.NotEmpty(t, got, "the refused verdict was reported")
	assert.True(t, strings.Contains(got[0].Error(), "no packet waiting with that id"), "%v", got[0])
}

// A configuration call on a socket that overflowed must neither fail (the
// kernel applied it) nor swallow the overrun, which belongs to OnError.
func TestSetCopyModeOnAnOverflowedSocket(t *testing.T) {
	t.Parallel()
	l := newRelLab(t, false)
	errs := newErrorLog()
	q := l.open(t, nfq.Config{ReadBufferSize: 4096, MaxQueueLen: 10000, OnError: errs.report})
	defer q.Close()
	l.sendN(t, 200)
	kq, _ := l.kernelQueue(t)
	require.NotZero(t, kq.UserDropped, "the socket overflowed")

	require.NoError(t, q.SetCopyMode(nfq.CopyMeta, 0))
	after, _ := l.kernelQueue(t)
	assert.Equal(t, uint64(1), after.CopyMode, "the kernel applied it (NFQNL_COPY_META)")
	ch, err := q.Packets(context.Background())
	require.NoError(t, err)
	for i := uint64(0); i < kq.Waiting; i++ {
		require.NoError(t, lab.RecvPacket(t, ch).Accept())
	}
	got := errs.wait(t, 1)
	assert.ErrorIs(t, got[0], nfq.ErrOverrun)
	assert.Equal(t, uint64(1), q.Stats().Overruns)
}
