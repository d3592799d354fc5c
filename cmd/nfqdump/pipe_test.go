//go:build linux && cgo

package main

import (
	"fmt"
	"net"
	"regexp"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/nfq-go/nfq/internal/netnstest"
	"github.com/nfq-go/nfq/internal/progtest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestClosedStandardOutputStopsCleanlyAndDropsNothing(t *testing.T) {
	t.Parallel()
	bin := progtest.Build(t, ".")
	ns := netnstest.New(t)
	recv := ns.ListenUDP(t, "127.0.0.1:0")
	require.NoError(t, setBuffer(recv, syscall.SO_RCVBUFFORCE, 4<<20))
	send := ns.DialUDP(t, recv.LocalAddr().String())
	// With --queue-bypass the packets pass unseen once nfqdump has gone:
	// every datagram arrives unless one was dropped while nfqdump held it.
	ns.Exec(t, "iptables", "-A", "OUTPUT", "-p", "udp", "--dport", fmt.Sprint(recv.LocalAddr().(*net.UDPAddr).Port),
		"-j", "NFQUEUE", "--queue-num", "33", "--queue-bypass")
	p := progtest.Start(t, ns, "bash", "-c", bin+` -queue 33 | head -2; echo "exit ${PIPESTATUS[0]}" >&2`)
	p.WaitStderr(t, "listening on queue 33", 10*time.Second)

	// Bursts, so that nfqdump holds packets when head has closed the pipe.
	const bursts, perBurst = 40, 25
	for i := range bursts * perBurst {
		_, err := fmt.Fprintf(send, "datagram-%d", i)
		require.NoError(t, err)
		if i%perBurst == perBurst-1 {
			time.Sleep(10 * time.Millisecond)
		}
	}
	require.Equal(t, 0, p.Wait(t, 10*time.Second), p.String())
	assert.Equal(t, bursts*perBurst, len(netnstest.ReadUDP(recv, bursts*perBurst, 2*time.Second)),
		"every datagram arrived: those nfqdump held got the default verdict accept")

	assert.Len(t, lines(p.Stdout()), 2, "head printed its two lines")
	assert.Contains(t, p.Stderr(), "nfqdump: standard output was closed: stopped\n")
	assert.Contains(t, p.Stderr(), "exit 0\n", "nfqdump exited 0, not by SIGPIPE")
	m := regexp.MustCompile(`nfqdump: (\d+) packets, \d+ bytes; (\d+) verdicts, 0 failed, (\d+) default verdicts on close, 0 overruns; kernel dropped 0 \(queue full\), 0 \(socket full\)\n`).
		FindStringSubmatch(p.Stderr())
	require.NotNil(t, m, "the summary: %s", p.Stderr())
	seen, _ := strconv.Atoi(m[1])
	assert.Less(t, seen, bursts*perBurst, "nfqdump stopped while the traffic went on")
}

// setBuffer sets a socket buffer (SO_RCVBUFFORCE, SO_SNDBUFFORCE) to n
// bytes, beyond the system's maximum: room for a burst.
func setBuffer(c *net.UDPConn, opt, n int) error {
	raw, err := c.SyscallConn()
	if err != nil {
		return err
	}
	var serr error
	if err := raw.Control(func(fd uintptr) {
		serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, opt, n)
	}); err != nil {
		return err
	}
	return serr
}
