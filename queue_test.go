//go:build linux && cgo

package nfq_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/nfq-go/nfq"
	"github.com/nfq-go/nfq/internal/lab"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestAcceptedPacketsArriveWithTheirAttributes(t *testing.T) {
	t.Parallel()
	l := newUDPLab(t)
	q, ch := l.consume(t, nfq.Config{})

	l.sendN(t, 5)
	var lastID uint32
	for i := 0; i < 5; i++ {
		p := lab.RecvPacket(t, ch)
		assert.Equal(t, l.queue, p.Queue)
		assert.Greater(t, p.ID, lastID, "ids grow per queue")
		lastID = p.ID
		assert.Equal(t, uint16(0x0800), p.HWProtocol)
		assert.Equal(t, nfq.HookOutput, p.Hook)
		assert.True(t, p.Has(nfq.AttrOutDev))
		assert.Equal(t, l.ifLoop, p.OutDev, "output device is lo")
		assert.False(t, p.Has(nfq.AttrInDev), "no input device at OUTPUT")
		assert.Zero(t, p.InDev)
		assert.False(t, p.Has(nfq.AttrMark))
		assert.False(t, p.Has(nfq.AttrCapLen), "payload not truncated")
		assert.Equal(t, uint32(len(p.Payload)), p.OrigLen)
		assert.Equal(t, fmt.Sprintf("msg-%d", i), string(lab.UDPPayload(t, p.Payload)))
		require.NoError(t, p.Accept())
	}
	assert.Equal(t, []string{"msg-0", "msg-1", "msg-2", "msg-3", "msg-4"}, l.received(5, 2*time.Second))
	st := q.Stats()
	assert.Equal(t, uint64(5), st.Received)
	assert.Equal(t, uint64(5), st.Verdicts)
}

func TestDroppedPacketsDoNotArrive(t *testing.T) {
	t.Parallel()
	l := newUDPLab(t)
	_, ch := l.consume(t, nfq.Config{})

	l.sendN(t, 4)
	for i := 0; i < 4; i++ {
		p := lab.RecvPacket(t, ch)
		if i%2 == 0 {
			require.NoError(t, p.Drop())
		} else {
			require.NoError(t, p.Accept())
		}
	}
	assert.Equal(t, []string{"msg-1", "msg-3"}, l.received(4, 500*time.Millisecond))
	assert.Zero(t, l.ns.Queues(t)[uint64(l.queue)].Waiting, "nothing left waiting in the kernel")
}

func TestMarkFromVerdictIsSeenByLaterRules(t *testing.T) {
	t.Parallel()
	l := newUDPLab(t)
	// After the queue (OUTPUT), loopback packets pass INPUT: drop mark 7 there.
	l.ns.Exec(t, "iptables", "-A", "INPUT", "-p", "udp", "--dport", fmt.Sprint(l.port),
		"-m", "mark", "--mark", "7", "-j", "DROP")
	_, ch := l.consume(t, nfq.Config{})

	l.sendN(t, 4)
	for i := 0; i < 4; i++ {
		p := lab.RecvPacket(t, ch)
		if i < 2 {
			require.NoError(t, p.AcceptWithMark(7))
		} else {
			require.NoError(t, p.AcceptWithMark(8))
		}
	}
	assert.Equal(t, []string{"msg-2", "msg-3"}, l.received(4, 500*time.Millisecond))
	counters := l.ns.Exec(t, "iptables", "-L", "INPUT", "-v", "-x", "-n")
	assert.Regexp(t, `(?m)^\s*2\s+\d+\s+DROP\s+.*mark match 0x7`, counters, "the mark rule dropped exactly the two marked packets")
}

func TestReplacedPayloadArrivesRewritten(t *testing.T) {
	t.Parallel()
	l := newUDPLab(t)
	_, ch := l.consume(t, nfq.Config{})

	_, err := l.send.Write([]byte("hello"))
	require.NoError(t, err)
	_, err = l.send.Write([]byte("short"))
	require.NoError(t, err)

	p := lab.RecvPacket(t, ch)
	require.NoError(t, p.AcceptWithPayload(lab.RewriteUDPv4(t, p.Payload, []byte("HELLO"))))
	p = lab.RecvPacket(t, ch)
	require.NoError(t, p.AcceptWithPayload(lab.RewriteUDPv4(t, p.Payload, []byte("a longer payload than before"))))
	assert.Equal(t, []string{"HELLO", "a longer payload than before"}, l.received(2, 2*time.Second))
}

func TestTwoQueuesInOneProcessAreIndependent(t *testing.T) {
	t.Parallel()
	a, b := newUDPLab(t), newUDPLab(t)
	qa := a.open(t, nfq.Config{})
	qb := b.open(t, nfq.Config{})
	cha, err := qa.Packets(context.Background())
	require.NoError(t, err)

	// b is consumed with the callback API and drops everything.
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		assert.NoError(t, qb.Run(context.Background(), func(p *nfq.Packet) {
			assert.Equal(t, b.queue, p.Queue)
			assert.NoError(t, p.Drop())
		}))
	}()
	a.sendN(t, 3)
	b.sendN(t, 3)
	for i := 0; i < 3; i++ {
		p := lab.RecvPacket(t, cha)
		assert.Equal(t, a.queue, p.Queue)
		require.NoError(t, p.Accept())
	}
	assert.Len(t, a.received(3, 2*time.Second), 3)
	assert.Empty(t, b.received(3, 300*time.Millisecond))
	require.NoError(t, qb.Close())
	wg.Wait()
	assert.Equal(t, uint64(3), qb.Stats().Verdicts)
	// a still works after b closed.
	a.sendN(t, 1)
	require.NoError(t, lab.RecvPacket(t, cha).Accept())
	assert.Len(t, a.received(1, 2*time.Second), 1)
}

func TestCloseGivesDefaultVerdictToPacketsInFlight(t *testing.T) {
	for _, tc := range []struct {
		def     nfq.Verdict
		arrives bool
	}{{nfq.Accept, true}, {nfq.Drop, false}} {
		t.Run(tc.def.String(), func(t *testing.T) {
			t.Parallel()
			l := newUDPLab(t)
			q := l.open(t, nfq.Config{DefaultVerdict: tc.def})
			ch, err := q.Packets(context.Background())
			require.NoError(t, err)

			l.sendN(t, 6)
			// Take two packets and leave them without a verdict; four more
			// wait in the channel or the socket.
			held := []*nfq.Packet{lab.RecvPacket(t, ch), lab.RecvPacket(t, ch)}
			require.Eventually(t, func() bool { return l.ns.Queues(t)[uint64(l.queue)].Waiting == 6 },
				2*time.Second, 10*time.Millisecond, "six packets wait in the kernel")

			require.NoError(t, q.Close())
			require.NoError(t, q.Close(), "Close is idempotent")
			_, bound := l.ns.Queues(t)[uint64(l.queue)]
			assert.False(t, bound, "the queue is gone from the kernel")
			for range ch {
				// the channel is closed; leftovers are not handed out
			}
			got := l.received(6, 500*time.Millisecond)
			if tc.arrives {
				assert.Len(t, got, 6, "default accept lets every packet through")
			} else {
				assert.Empty(t, got)
			}
			assert.Equal(t, uint64(6), q.Stats().DefaultVerdicts)
			for _, p := range held {
				err := p.Accept()
				assert.ErrorIs(t, err, nfq.ErrClosed)
				assert.Contains(t, err.Error(), "default verdict ("+tc.def.String()+")")
			}
		})
	}
}

func TestCloseWhileTrafficFlowsLeavesNothingBehind(t *testing.T) {
	l := newUDPLab(t)
	before := goroutines()
	q, ch := l.consume(t, nfq.Config{DefaultVerdict: nfq.Accept})

	stop := make(chan struct{})
	var sent sync.WaitGroup
	sent.Add(1)
	go func() { // keep traffic flowing during Close
		defer sent.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
				_, _ = l.send.Write([]byte(fmt.Sprintf("flow-%d", i)))
				time.Sleep(100 * time.Microsecond)
			}
		}
	}()
	var consumed sync.WaitGroup
	consumed.Add(1)
	go func() {
		defer consumed.Done()
		for p := range ch {
			if err := p.Accept(); err != nil {
				assert.ErrorIs(t, err, nfq.ErrClosed)
			}
		}
	}()
	time.Sleep(100 * time.Millisecond)
	require.NoError(t, q.Close())
	consumed.Wait()
	close(stop)
	sent.Wait()

	_, bound := l.ns.Queues(t)[uint64(l.queue)]
	assert.False(t, bound, "no queue, so no packet waits in the kernel")
	st := q.Stats()
	assert.Equal(t, st.Received, st.Verdicts+st.DefaultVerdicts, "every received packet got exactly one verdict: %+v", st)
	assertNoGoroutinesAbove(t, before)
}

func TestSecondVerdictIsAnErrorAndSendsNothing(t *testing.T) {
	t.Parallel()
	l := newUDPLab(t)
	q, ch := l.consume(t, nfq.Config{})
	l.sendN(t, 1)
	p := lab.RecvPacket(t, ch)
	require.NoError(t, p.Drop())
	err := p.Accept()
	require.ErrorIs(t, err, nfq.ErrVerdictGiven)
	assert.Contains(t, err.Error(), fmt.Sprintf("queue %d", l.queue))
	assert.Contains(t, err.Error(), fmt.Sprintf("packet %d", p.ID))
	assert.Empty(t, l.received(1, 300*time.Millisecond), "the first verdict (drop) stands")
	assert.Equal(t, uint64(1), q.Stats().Verdicts)
}

func TestVerdictsFromManyGoroutinesLater(t *testing.T) {
	t.Parallel()
	l := newUDPLab(t)
	_, ch := l.consume(t, nfq.Config{})
	const n = 40
	l.sendN(t, n)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		p := lab.RecvPacket(t, ch)
		wg.Add(1)
		go func() {
			defer wg.Done()
			time.Sleep(time.Duration(p.ID%7) * time.Millisecond) // answer out of order
			assert.NoError(t, p.Accept())
		}()
	}
	wg.Wait()
	assert.Len(t, l.received(n, 2*time.Second), n)
}

func TestRunCallbackAndContextCancel(t *testing.T) {
	t.Parallel()
	l := newUDPLab(t)
	q := l.open(t, nfq.Config{})
	ctx, cancel := context.WithCancel(context.Background())
	var seen []string
	done := make(chan error, 1)
	go func() {
		done <- q.Run(ctx, func(p *nfq.Packet) {
			seen = append(seen, string(lab.UDPPayload(t, p.Payload)))
			assert.NoError(t, p.Accept())
			if len(seen) == 3 {
				cancel()
			}
		})
	}()
	l.sendN(t, 3)
	select {
	case err := <-done:
		require.Equal(t, context.Canceled, err, "Run returns ctx.Err()")
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return after the context ended")
	}
	assert.Equal(t, []string{"msg-0", "msg-1", "msg-2"}, seen)
	assert.Len(t, l.received(3, 2*time.Second), 3)
	_, err := q.Packets(context.Background())
	assert.ErrorIs(t, err, nfq.ErrClosed, "context end closed the queue")
}

func TestPacketsChannelClosesWhenContextEnds(t *testing.T) {
	t.Parallel()
	l := newUDPLab(t)
	q := l.open(t, nfq.Config{})
	ctx, cancel := context.WithCancel(context.Background())
	ch, err := q.Packets(ctx)
	require.NoError(t, err)
	_, err = q.Packets(ctx)
	assert.ErrorIs(t, err, nfq.ErrBusy, "one consumer per queue")
	assert.ErrorIs(t, q.Run(ctx, func(*nfq.Packet) {}), nfq.ErrBusy)
	cancel()
	select {
	case _, ok := <-ch:
		assert.False(t, ok)
	case <-time.After(5 * time.Second):
		t.Fatal("channel not closed after the context ended")
	}
}

func TestCloseFromInsideRunCallback(t *testing.T) {
	t.Parallel()
	l := newUDPLab(t)
	q := l.open(t, nfq.Config{DefaultVerdict: nfq.Accept})
	l.sendN(t, 3)
	err := q.Run(context.Background(), func(p *nfq.Packet) {
		assert.NoError(t, q.Close())
	})
	require.NoError(t, err)
	assert.Len(t, l.received(3, time.Second), 3, "all three got the default accept")
}

func TestPanicInCallbackClosesQueueWithDefaultVerdict(t *testing.T) {
	t.Parallel()
	l := newUDPLab(t)
	q := l.open(t, nfq.Config{DefaultVerdict: nfq.Accept})
	l.sendN(t, 1)
	assert.PanicsWithValue(t, "consumer bug", func() {
		_ = q.Run(context.Background(), func(p *nfq.Packet) { panic("consumer bug") })
	})
	assert.Len(t, l.received(1, time.Second), 1, "the packet got the default verdict")
	assert.ErrorIs(t, q.Run(context.Background(), func(*nfq.Packet) {}), nfq.ErrClosed)
}

func TestCopyRangeTruncatesAndMetaModeHasNoPayload(t *testing.T) {
	t.Parallel()
	l := newUDPLab(t)
	q, ch := l.consume(t, nfq.Config{CopyRange: 24})

	l.sendN(t, 1)
	p := lab.RecvPacket(t, ch)
	assert.Len(t, p.Payload, 24)
	assert.True(t, p.Has(nfq.AttrCapLen))
	assert.Equal(t, uint32(20+8+len("msg-0")), p.OrigLen)
	require.NoError(t, p.Accept())

	require.NoError(t, q.SetCopyMode(nfq.CopyMeta, 0), "copy mode changes while consuming")
	l.sendN(t, 1)
	p = lab.RecvPacket(t, ch)
	assert.Nil(t, p.Payload)
	assert.False(t, p.Has(nfq.AttrPayload))
	assert.False(t, p.Has(nfq.AttrCapLen), "the kernel sends no length with metadata only")
	assert.Zero(t, p.OrigLen)
	require.NoError(t, p.Accept())
	assert.Len(t, l.received(2, 2*time.Second), 2)
}

// Each spelling of the copy mode does what it says on the kernel: the zero
// value and CopyPacket copy whole packets, CopyMeta none of the bytes, and
// CopyNone, with which the kernel would drop every packet, is refused by
// Open and by SetCopyMode.
func TestCopyModeSpellingsOnTheKernel(t *testing.T) {
	t.Parallel()
	l := newUDPLab(t)
	const wholeLen = 20 + 8 + len("msg-0")
	for _, tc := range []struct {
		name       string
		cfg        nfq.Config
		kernelMode uint64 // NFQNL_COPY_* as /proc shows it
		payload    int
		origLen    int
	}{
		{"zero value", nfq.Config{}, 2, wholeLen, wholeLen},
		{"CopyPacket", nfq.Config{CopyMode: nfq.CopyPacket}, 2, wholeLen, wholeLen},
		{"CopyMeta", nfq.Config{CopyMode: nfq.CopyMeta}, 1, 0, 0},
	} {
		q, ch := l.consume(t, tc.cfg)
		line := l.ns.Queues(t)[uint64(l.queue)]
		assert.Equal(t, tc.kernelMode, line.CopyMode, tc.name)
		if tc.kernelMode == 2 {
			assert.Equal(t, uint64(nfq.MaxCopyRange), line.CopyRange, "%s: the kernel's limit is MaxCopyRange", tc.name)
		}
		l.sendN(t, 1)
		p := lab.RecvPacket(t, ch)
		assert.Len(t, p.Payload, tc.payload, tc.name)
		assert.Equal(t, uint32(tc.origLen), p.OrigLen, tc.name)
		require.NoError(t, p.Accept())
		assert.Len(t, l.received(1, 2*time.Second), 1, tc.name)

		err := q.SetCopyMode(nfq.CopyNone, 0)
		assert.ErrorIs(t, err, nfq.ErrInvalidConfig, tc.name)
		assert.ErrorContains(t, err, "drop every packet")
		assert.Equal(t, tc.kernelMode, l.ns.Queues(t)[uint64(l.queue)].CopyMode, "%s: nothing was changed", tc.name)
		require.NoError(t, q.Close())
	}

	var err error
	l.ns.Do(t, func() { _, err = nfq.Open(nfq.Config{Queue: l.queue, CopyMode: nfq.CopyNone}) })
	assert.ErrorIs(t, err, nfq.ErrInvalidConfig)
	assert.ErrorContains(t, err, "copy mode none makes the kernel drop every packet")
	_, bound := l.ns.Queues(t)[uint64(l.queue)]
	assert.False(t, bound, "nothing was bound")
}

// A second socket of this process on the same queue: the kernel's EPERM is
// reported as a queue in use, naming the holder, and not as a privilege
// problem.
func TestQueueNumberInUse(t *testing.T) {
	t.Parallel()
	l := newUDPLab(t)
	first := l.open(t, nfq.Config{})
	k, err := first.KernelStats()
	require.NoError(t, err)
	l.ns.Do(t, func() { _, err = nfq.Open(nfq.Config{Queue: l.queue}) })
	require.Error(t, err)
	assert.ErrorIs(t, err, nfq.ErrQueueInUse)
	assert.NotErrorIs(t, err, os.ErrPermission, "a taken queue is no privilege problem")
	assert.NotErrorIs(t, err, nfq.ErrNoPermission)
	assert.ErrorIs(t, err, syscall.EBUSY)
	var op *nfq.OpError
	require.True(t, errors.As(err, &op))
	assert.Equal(t, l.queue, op.Queue)
	assert.NotContains(t, err.Error(), "operation not permitted")
	assert.Contains(t, err.Error(), fmt.Sprintf("queue %d is bound by another socket (port id %d, this process: ", l.queue, k.PortID))
	assert.Contains(t, err.Error(), fmt.Sprintf("pid %d)", os.Getpid()))
}

func TestUseAfterClose(t *testing.T) {
	t.Parallel()
	l := newUDPLab(t)
	q := l.open(t, nfq.Config{})
	require.NoError(t, q.Close())
	_, err := q.Packets(context.Background())
	assert.ErrorIs(t, err, nfq.ErrClosed)
	assert.ErrorIs(t, q.SetCopyMode(nfq.CopyMeta, 0), nfq.ErrClosed)
}

func TestInvalidVerdictsAreRefusedBeforeSending(t *testing.T) {
	t.Parallel()
	l := newUDPLab(t)
	_, ch := l.consume(t, nfq.Config{})
	l.sendN(t, 1)
	p := lab.RecvPacket(t, ch)
	assert.ErrorIs(t, p.SetVerdict(nfq.Verdict(2)), nfq.ErrInvalidVerdict, "NF_STOLEN is not for userspace")
	assert.ErrorIs(t, p.AcceptWithPayload(make([]byte, nfq.MaxPayloadLen+1)), nfq.ErrPayloadTooLarge)
	assert.ErrorIs(t, p.SetVerdict(nfq.Drop, nfq.WithPayload([]byte{1})), nfq.ErrInvalidVerdict)
	require.NoError(t, p.Accept(), "the packet still takes its one verdict")
	assert.Len(t, l.received(1, 2*time.Second), 1)
}

func goroutines() int { return runtime.NumGoroutine() }

// assertNoGoroutinesAbove waits up to 2s for the goroutine count to fall to
// limit, and shows the stacks if it does not.
func assertNoGoroutinesAbove(t *testing.T, limit int) {
	t.Helper()
	for deadline := time.Now().Add(2 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if goroutines() <= limit {
			return
		}
	}
	buf := make([]byte, 1<<20)
	t.Errorf("goroutines left behind: %d, expected at most %d:\n%s", goroutines(), limit, buf[:runtime.Stack(buf, true)])
}

// Verdicts that leave together may go as one batch message; a packet still
// waiting for its verdict must not be swept up by it.
func TestHeldPacketIsNotSweptUpByLaterVerdicts(t *testing.T) {
	t.Parallel()
	l := newUDPLab(t)
	_, ch := l.consume(t, nfq.Config{})
	l.sendN(t, 6)
	held := lab.RecvPacket(t, ch)
	for i := 1; i < 6; i++ {
		require.NoError(t, lab.RecvPacket(t, ch).Accept())
	}
	assert.Equal(t, []string{"msg-1", "msg-2", "msg-3", "msg-4", "msg-5"}, l.received(5, time.Second))
	assert.Equal(t, uint64(1), l.ns.Queues(t)[uint64(l.queue)].Waiting, "the held packet still waits")
	require.NoError(t, held.Drop())
	assert.Empty(t, l.received(1, 300*time.Millisecond), "and takes its own verdict")
}

// A program that runs others must not hand them its queue: a child that
// kept the socket would keep the queue bound after the program exits.
func TestQueueSocketIsNotInheritedByPrograms(t *testing.T) {
	l := newUDPLab(t)
	q := l.open(t, nfq.Config{})
	// ls lists its own descriptors: stdin, stdout, stderr, its directory,
	// and whatever it inherited.
	out, err := exec.Command("ls", "-l", "/proc/self/fd/").CombinedOutput()
	require.NoError(t, err, "%s", out)
	assert.NotContains(t, string(out), "socket:", "a child inherited a socket of the queue")
	require.NoError(t, q.Close())
}
