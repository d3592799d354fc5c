//go:build linux && cgo

package nfq_test

import (
	"fmt"
	"net"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nfq-go/nfq"
	"github.com/nfq-go/nfq/internal/netnstest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

// The libipq compat API against the kernel: every scenario of the C
// library's tests (ipq_clib_test.go), through the Go functions.

// readPacket reads messages until a packet comes, failing after timeout.
func readPacket(t *testing.T, h *nfq.IPQHandle, buf []byte) (int, *nfq.IPQPacketMsg) {
	t.Helper()
	n := nfq.IPQRead(h, buf, 5_000_000)
	require.Greater(t, n, 0, "ipq_read: %s", nfq.IPQErrStr())
	require.Equal(t, nfq.IPQMPacket, nfq.IPQMessageType(buf))
	return n, nfq.IPQGetPacket(buf[:n])
}

func fdReadable(t *testing.T, h *nfq.IPQHandle, timeout time.Duration) bool {
	t.Helper()
	fds := []unix.PollFd{{Fd: int32(h.Fd()), Events: unix.POLLIN}}
	for {
		n, err := unix.Poll(fds, int(timeout.Milliseconds()))
		if err == unix.EINTR {
			continue
		}
		require.NoError(t, err)
		return n == 1
	}
}

func TestIPQPasserPassesPingAndUDPAndWithoutItTrafficIsDropped(t *testing.T) {
	netnstest.RequireKernel(t)
	l := newIPQLab(t, false, true)
	p := newPinger(t, l.ns, false)
	h := l.createIn(t, nfq.NFProtoIPv4)
	require.Greater(t, nfq.IPQSetMode(h, nfq.IPQCopyPacket, 2048), 0)
	stop := goPasser(t, h)

	assert.True(t, p.ping(3*time.Second), "ping through the passer")
	assert.Equal(t, []string{"one", "two"}, l.sendUDP(t, 3*time.Second, "one", "two"))
	assert.GreaterOrEqual(t, stop(), 4, "echo request and reply and two datagrams were queued")

	assert.False(t, p.ping(500*time.Millisecond), "no listener on queue 0: the kernel drops")
	assert.Empty(t, l.sendUDP(t, 300*time.Millisecond, "three"))
}

func TestIPQCopyMetaHasNoPayloadAndCopyPacketHasRangeBytes(t *testing.T) {
	netnstest.RequireKernel(t)
	l := newIPQLab(t, false, false)
	h := l.createIn(t, nfq.NFProtoIPv4)
	buf := make([]byte, 4096)

	require.Equal(t, 40, nfq.IPQSetMode(h, nfq.IPQCopyMeta, 0))
	_, err := l.send.Write([]byte("meta"))
	require.NoError(t, err)
	n, m := readPacket(t, h, buf)
	assert.Equal(t, 16+96, n)
	assert.Zero(t, m.DataLen)
	assert.Empty(t, m.Payload)
	assert.Equal(t, uint32(nfq.HookOutput), m.Hook)
	assert.Equal(t, "", m.IndevName)
	assert.Equal(t, "lo", m.OutdevName)
	assert.Equal(t, uint16(0x0800), m.HWProtocol)
	assert.Zero(t, m.HWType, "no input device")
	assert.Zero(t, m.TimestampSec, "no timestamp from the kernel: 0, as ip_queue gave")
	assert.Zero(t, m.TimestampUsec)
	require.Greater(t, nfq.IPQSetVerdict(h, m.PacketID, nfq.Accept, 0, nil), 0)
	assert.Equal(t, []string{"meta"}, netnstestRead(l, 1))

	require.Equal(t, 40, nfq.IPQSetMode(h, nfq.IPQCopyPacket, 10))
	_, err = l.send.Write([]byte("ranged"))
	require.NoError(t, err)
	_, m = readPacket(t, h, buf)
	assert.EqualValues(t, 10, m.DataLen)
	require.Len(t, m.Payload, 10)
	assert.Equal(t, byte(0x45), m.Payload[0], "the packet from its IPv4 header")
	require.Greater(t, nfq.IPQSetVerdict(h, m.PacketID, nfq.Accept, 0, nil), 0)
	assert.Equal(t, []string{"ranged"}, netnstestRead(l, 1))

	require.Equal(t, 40, nfq.IPQSetMode(h, nfq.IPQCopyPacket, 0))
	_, err = l.send.Write([]byte("whole"))
	require.NoError(t, err)
	_, m = readPacket(t, h, buf)
	assert.EqualValues(t, 20+8+5, m.DataLen)
	assert.True(t, strings.HasSuffix(string(m.Payload), "whole"))
	require.Greater(t, nfq.IPQSetVerdict(h, m.PacketID, nfq.Accept, 0, nil), 0)
	assert.Equal(t, []string{"whole"}, netnstestRead(l, 1))
}

func netnstestRead(l *ipqLab, want int) []string {
	var got []string
	for _, b := range netnstest.ReadUDP(l.recv, want, 3*time.Second) {
		got = append(got, string(b))
	}
	return got
}

func TestIPQReadTimeoutAndBufferChecks(t *testing.T) {
	netnstest.RequireKernel(t)
	l := newIPQLab(t, false, false)
	h := l.createIn(t, nfq.NFProtoIPv4)
	require.Greater(t, nfq.IPQSetMode(h, nfq.IPQCopyPacket, 0), 0)
	buf := make([]byte, 256)

	start := time.Now()
	assert.Equal(t, 0, nfq.IPQRead(h, buf, 200_000), "timeout in microseconds")
	assert.Equal(t, "Timeout", nfq.IPQErrStr())
	assert.InDelta(t, 200, time.Since(start).Milliseconds(), 150)

	start = time.Now()
	assert.Equal(t, 0, nfq.IPQRead(h, buf, -1), "negative: poll")
	assert.Equal(t, nfq.IPQErrTimeout, nfq.IPQErrno())
	assert.Less(t, time.Since(start), 50*time.Millisecond)

	assert.Equal(t, -1, nfq.IPQRead(h, buf[:19], 0))
	assert.Equal(t, "Receive buffer size invalid", nfq.IPQErrStr())
	assert.False(t, fdReadable(t, h, 0))
}

func TestIPQTruncatedMessageStillNamesThePacket(t *testing.T) {
	netnstest.RequireKernel(t)
	l := newIPQLab(t, false, false)
	h := l.createIn(t, nfq.NFProtoIPv4)
	require.Greater(t, nfq.IPQSetMode(h, nfq.IPQCopyPacket, 0), 0)

	_, err := l.send.Write([]byte("too big for the buffer"))
	require.NoError(t, err)
	small := make([]byte, 40)
	require.True(t, fdReadable(t, h, 5*time.Second))
	assert.Equal(t, -1, nfq.IPQRead(h, small, 0))
	assert.Equal(t, "Received message truncated", nfq.IPQErrStr())
	m := nfq.IPQGetPacket(small)
	require.NotZero(t, m.PacketID)
	assert.Greater(t, nfq.IPQSetVerdict(h, m.PacketID, nfq.Drop, 0, nil), 0)
	assert.Empty(t, netnstest.ReadUDP(l.recv, 1, 300*time.Millisecond), "dropped by id")

	// the next one reads whole
	_, err = l.send.Write([]byte("fits"))
	require.NoError(t, err)
	_, m = readPacket(t, h, make([]byte, 2048))
	require.Greater(t, nfq.IPQSetVerdict(h, m.PacketID, nfq.Accept, 0, nil), 0)
	assert.Equal(t, []string{"fits"}, netnstestRead(l, 1))
}

// upperUDP upper-cases the UDP payload of an IPv4 packet and clears the
// UDP checksum (0: none), so the kernel takes the new packet as it is.
func upperUDP(pkt []byte) []byte {
	out := append([]byte(nil), pkt...)
	ihl := int(out[0]&0x0f) * 4
	out[ihl+6], out[ihl+7] = 0, 0
	copy(out[ihl+8:], strings.ToUpper(string(out[ihl+8:])))
	return out
}

func TestIPQVerdictWithPayloadRewritesThePacket(t *testing.T) {
	netnstest.RequireKernel(t)
	l := newIPQLab(t, false, false)
	h := l.createIn(t, nfq.NFProtoIPv4)
	require.Greater(t, nfq.IPQSetMode(h, nfq.IPQCopyPacket, 0), 0)
	_, err := l.send.Write([]byte("rewrite me"))
	require.NoError(t, err)
	_, m := readPacket(t, h, make([]byte, 2048))
	out := upperUDP(m.Payload)
	assert.Equal(t, 40+len(out), nfq.IPQSetVerdict(h, m.PacketID, nfq.Accept, uint(len(out)), out))
	assert.Equal(t, []string{"REWRITE ME"}, netnstestRead(l, 1))
}

// As on ip_queue, a replacement shorter than an IP header is left out and
// the verdict applies to the original packet: NFQUEUE would drop it.
func TestIPQShortReplacementKeepsTheOriginalPacket(t *testing.T) {
	l := newIPQLab(t, false, false)
	h := l.createIn(t, nfq.NFProtoIPv4)
	require.Greater(t, nfq.IPQSetMode(h, nfq.IPQCopyPacket, 0), 0)
	_, err := l.send.Write([]byte("keep me"))
	require.NoError(t, err)
	_, m := readPacket(t, h, make([]byte, 2048))
	assert.Equal(t, 40+10, nfq.IPQSetVerdict(h, m.PacketID, nfq.Accept, 10, m.Payload[:10]))
	assert.Equal(t, []string{"keep me"}, netnstestRead(l, 1))
}

func TestIPQRefusedRequestsComeBackAsErrorMessages(t *testing.T) {
	netnstest.RequireKernel(t)
	l := newIPQLab(t, false, false)
	h := l.createIn(t, nfq.NFProtoIPv4)
	buf := make([]byte, 256)

	assert.Equal(t, 40, nfq.IPQSetVerdict(h, 4242, nfq.Accept, 0, nil), "sent, as on ip_queue")
	require.True(t, fdReadable(t, h, time.Second), "the error message makes the fd readable")
	assert.Equal(t, 36, nfq.IPQRead(h, buf, 0))
	assert.Equal(t, nfq.NLMsgError, nfq.IPQMessageType(buf))
	assert.Equal(t, int(syscall.ENOENT), nfq.IPQGetMsgErr(buf))
	assert.False(t, fdReadable(t, h, 0))

	assert.Equal(t, 40, nfq.IPQSetMode(h, 7, 0))
	assert.Equal(t, 36, nfq.IPQRead(h, buf, 1_000_000))
	assert.Equal(t, int(syscall.EINVAL), nfq.IPQGetMsgErr(buf))

	var h2 *nfq.IPQHandle
	l.ns.Do(t, func() { h2 = nfq.IPQCreateHandle(0, nfq.NFProtoIPv4) })
	assert.Nil(t, h2, "one handle per queue and family")
	assert.Equal(t, "Unable to bind netlink socket", nfq.IPQErrStr())
	assert.Equal(t, syscall.EBUSY, nfq.IPQSyscallErrno())
}

func TestIPQUntilSetModePacketsAreDropped(t *testing.T) {
	netnstest.RequireKernel(t)
	l := newIPQLab(t, false, false)
	h := l.createIn(t, nfq.NFProtoIPv4)
	assert.Empty(t, l.sendUDP(t, 300*time.Millisecond, "early"), "IPQ_COPY_NONE drops")
	assert.Equal(t, 0, nfq.IPQRead(h, make([]byte, 256), -1))
}

func TestIPQQueueNumberFromEnvironmentOrCall(t *testing.T) {
	netnstest.RequireKernel(t)
	ns := netnstest.New(t)
	recv := ns.ListenUDP(t, "127.0.0.1:0")
	send := ns.DialUDP(t, recv.LocalAddr().String())
	port := fmt.Sprint(recv.LocalAddr().(*net.UDPAddr).Port)
	ns.Exec(t, "iptables", "-A", "OUTPUT", "-p", "udp", "--dport", port, "-j", "NFQUEUE", "--queue-num", "3")

	t.Setenv("LIBIPQ_QUEUE", "3")
	var h, h4 *nfq.IPQHandle
	ns.Do(t, func() {
		h = nfq.IPQCreateHandle(0, nfq.NFProtoIPv4)
		h4 = nfq.IPQCreateHandleQueue(0, nfq.NFProtoIPv4, 4)
	})
	require.NotNil(t, h, nfq.IPQErrStr())
	require.NotNil(t, h4, nfq.IPQErrStr())
	defer nfq.IPQDestroyHandle(h)
	defer nfq.IPQDestroyHandle(h4)
	assert.Contains(t, ns.Queues(t), uint64(4))

	require.Greater(t, nfq.IPQSetMode(h, nfq.IPQCopyMeta, 0), 0)
	_, err := send.Write([]byte("three"))
	require.NoError(t, err)
	_, m := readPacket(t, h, make([]byte, 256))
	require.Greater(t, nfq.IPQSetVerdict(h, m.PacketID, nfq.Accept, 0, nil), 0)
	got := netnstest.ReadUDP(recv, 1, 3*time.Second)
	require.Len(t, got, 1)
	assert.Equal(t, "three", string(got[0]))
}

func TestIPQDestroyDropsWhatItHeld(t *testing.T) {
	netnstest.RequireKernel(t)
	l := newIPQLab(t, false, false)
	var h *nfq.IPQHandle
	l.ns.Do(t, func() { h = nfq.IPQCreateHandle(0, nfq.NFProtoIPv4) })
	require.NotNil(t, h)
	require.Greater(t, nfq.IPQSetMode(h, nfq.IPQCopyPacket, 0), 0)
	_, err := l.send.Write([]byte("held"))
	require.NoError(t, err)
	require.True(t, fdReadable(t, h, 5*time.Second))
	assert.Equal(t, 0, nfq.IPQDestroyHandle(h))
	assert.Equal(t, 0, nfq.IPQDestroyHandle(h), "twice is harmless")
	assert.Empty(t, netnstest.ReadUDP(l.recv, 1, 300*time.Millisecond))
	assert.NotContains(t, l.ns.Queues(t), uint64(0), "queue 0 unbound")
	assert.Equal(t, -1, nfq.IPQRead(h, make([]byte, 64), -1))
}
