//go:build linux && cgo

package main

import (
	"fmt"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/nfq-go/nfq/internal/netnstest"
	"github.com/nfq-go/nfq/internal/progtest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

// sendFrom sends msg over UDP from src (a local address) to dst, inside ns.
func sendFrom(t *testing.T, ns *netnstest.NS, src, dst, msg string) {
	t.Helper()
	ns.Do(t, func() {
		c, err := net.DialUDP("udp", net.UDPAddrFromAddrPort(netip.MustParseAddrPort(src)), net.UDPAddrFromAddrPort(netip.MustParseAddrPort(dst)))
		require.NoError(t, err)
		defer c.Close()
		_, err = c.Write([]byte(msg))
		require.NoError(t, err)
	})
}

func TestFirewallDropsByRuleAndAcceptsTheRest(t *testing.T) {
	bin := progtest.Build(t, ".")
	ns := netnstest.New(t)
	// A server at 10.9.0.1, a trusted client at 10.9.0.2, an untrusted
	// network 10.9.1.0/24; all on loopback.
	for _, a := range []string{"10.9.0.1/32", "10.9.0.2/32", "10.9.1.1/32"} {
		ns.Exec(t, "ip", "addr", "add", a, "dev", "lo")
	}
	open := ns.ListenUDP(t, "10.9.0.1:0")
	closed := ns.ListenUDP(t, "10.9.0.1:0")
	openPort := open.LocalAddr().(*net.UDPAddr).Port
	closedPort := closed.LocalAddr().(*net.UDPAddr).Port
	ns.Exec(t, "iptables", "-A", "OUTPUT", "-d", "10.9.0.1", "-j", "NFQUEUE", "--queue-num", "31")

	fw := progtest.Start(t, ns, bin, "-queue", "31",
		"-drop", fmt.Sprintf("udp,dport=%d", closedPort),
		"-drop", "src=10.9.1.0/24")
	fw.WaitStderr(t, "firewall: queue 31, 2 rules", 10*time.Second)

	server := func(port int) string { return fmt.Sprintf("10.9.0.1:%d", port) }
	sendFrom(t, ns, "10.9.0.2:0", server(openPort), "trusted to open port")
	sendFrom(t, ns, "10.9.0.2:0", server(closedPort), "trusted to closed port")
	sendFrom(t, ns, "10.9.1.1:0", server(openPort), "untrusted to open port")
	assert.Equal(t, [][]byte{[]byte("trusted to open port")}, netnstest.ReadUDP(open, 2, time.Second))
	assert.Empty(t, netnstest.ReadUDP(closed, 1, 200*time.Millisecond), "rule 1 dropped it")

	// ICMP: the untrusted network's pings die, the trusted client's pass.
	ns.Exec(t, "ping", "-c", "1", "-W", "2", "-I", "10.9.0.2", "10.9.0.1")
	err := ns.Command("ping", "-c", "1", "-W", "1", "-I", "10.9.1.1", "10.9.0.1").Run()
	assert.Error(t, err, "ping from 10.9.1.0/24 must go unanswered")

	require.Equal(t, 0, fw.Stop(t), fw.String())
	out := fw.Stdout()
	assert.Regexp(t, fmt.Sprintf(`drop   udp 10\.9\.0\.2:\d+ > 10\.9\.0\.1:%d \(rule 1: udp,dport=%d\)`, closedPort, closedPort), out)
	assert.Regexp(t, `drop   udp 10\.9\.1\.1:\d+ > 10\.9\.0\.1:\d+ \(rule 2: src=10\.9\.1\.0/24\)`, out)
	assert.Contains(t, out, "drop   icmp 10.9.1.1 > 10.9.0.1 (rule 2: src=10.9.1.0/24)")
	assert.Contains(t, out, "firewall: 2 accepted, 3 dropped", "accepted: the trusted datagram and ping")
	assert.Contains(t, out, fmt.Sprintf("firewall: rule 1 (udp,dport=%d): 1 dropped", closedPort))
	assert.Contains(t, out, "firewall: rule 2 (src=10.9.1.0/24): 2 dropped")
}

// IPv6 extension headers for the kernel test, as the IPV6_HOPOPTS and
// IPV6_DSTOPTS socket options take them (the kernel fills in the
// next-header byte): an 8-byte hop-by-hop header with one PadN option, and
// a 16-byte destination options header (length byte 1: 8-byte units less
// one) with one option of an unknown type the receiver skips.
var (
	hopOpts = []byte{0, 0, 1, 4, 0, 0, 0, 0}
	dstOpts = []byte{0, 1, 0x1e, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}
)

// sendWithExtensionHeaders sends msg over UDP from [::1] to dst inside ns,
// with the extension headers that opts give per socket option.
func sendWithExtensionHeaders(t *testing.T, ns *netnstest.NS, dst, msg string, opts map[int][]byte) {
	t.Helper()
	c := ns.DialUDP(t, dst)
	raw, err := c.SyscallConn()
	require.NoError(t, err)
	require.NoError(t, raw.Control(func(fd uintptr) {
		for opt, hdr := range opts {
			require.NoError(t, unix.SetsockoptString(int(fd), unix.IPPROTO_IPV6, opt, string(hdr)))
		}
	}))
	_, err = c.Write([]byte(msg))
	require.NoError(t, err)
}

// receiveWithExtensionHeaders makes c report the hop-by-hop and destination
// options headers of what it receives.
func receiveWithExtensionHeaders(t *testing.T, c *net.UDPConn) {
	raw, err := c.SyscallConn()
	require.NoError(t, err)
	require.NoError(t, raw.Control(func(fd uintptr) {
		require.NoError(t, unix.SetsockoptInt(int(fd), unix.IPPROTO_IPV6, unix.IPV6_RECVHOPOPTS, 1))
		require.NoError(t, unix.SetsockoptInt(int(fd), unix.IPPROTO_IPV6, unix.IPV6_RECVDSTOPTS, 1))
	}))
}

// readWithExtensionHeaders reads one datagram from c and says which of the
// options headers it carried ("hop-by-hop", "destination"), with their
// lengths; ok is false when nothing came within a second.
func readWithExtensionHeaders(t *testing.T, c *net.UDPConn) (msg string, hdrs map[string]int, ok bool) {
	buf, oob := make([]byte, 1500), make([]byte, 512)
	require.NoError(t, c.SetReadDeadline(time.Now().Add(time.Second)))
	n, oobn, _, _, err := c.ReadMsgUDP(buf, oob)
	if err != nil {
		return "", nil, false
	}
	msgs, err := unix.ParseSocketControlMessage(oob[:oobn])
	require.NoError(t, err)
	hdrs = map[string]int{}
	for _, m := range msgs {
		switch {
		case m.Header.Level == unix.IPPROTO_IPV6 && m.Header.Type == unix.IPV6_HOPOPTS:
			hdrs["hop-by-hop"] = len(m.Data)
		case m.Header.Level == unix.IPPROTO_IPV6 && m.Header.Type == unix.IPV6_DSTOPTS:
			hdrs["destination"] = len(m.Data)
		}
	}
	return string(buf[:n]), hdrs, true
}

// The rule's ports are found behind IPv6 extension headers: a DNS datagram
// that carries a destination options header, or a hop-by-hop and a
// destination options header, is dropped, while the same datagrams to
// another port pass (and arrive with their headers).
func TestFirewallDropsIPv6BehindExtensionHeaders(t *testing.T) {
	bin := progtest.Build(t, ".")
	ns := netnstest.New(t)
	dns := ns.ListenUDP(t, "[::1]:53")
	other := ns.ListenUDP(t, "[::1]:0")
	receiveWithExtensionHeaders(t, dns)
	receiveWithExtensionHeaders(t, other)
	otherAddr := other.LocalAddr().String()
	ns.Exec(t, "ip6tables", "-A", "OUTPUT", "-o", "lo", "-p", "udp", "-j", "NFQUEUE", "--queue-num", "32")

	fw := progtest.Start(t, ns, bin, "-queue", "32", "-v", "-drop", "udp,dport=53")
	fw.WaitStderr(t, "firewall: queue 32, 1 rules", 10*time.Second)

	for _, tc := range []struct {
		name string
		opts map[int][]byte
		want map[string]int
	}{
		{"destination options", map[int][]byte{unix.IPV6_DSTOPTS: dstOpts}, map[string]int{"destination": 16}},
		{"hop-by-hop and destination options", map[int][]byte{unix.IPV6_HOPOPTS: hopOpts, unix.IPV6_DSTOPTS: dstOpts},
			map[string]int{"hop-by-hop": 8, "destination": 16}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sendWithExtensionHeaders(t, ns, "[::1]:53", "query with "+tc.name, tc.opts)
			sendWithExtensionHeaders(t, ns, otherAddr, "datagram with "+tc.name, tc.opts)
			msg, hdrs, ok := readWithExtensionHeaders(t, other)
			require.True(t, ok, "the datagram to another port must pass")
			assert.Equal(t, "datagram with "+tc.name, msg)
			assert.Equal(t, tc.want, hdrs, "it arrived with its extension headers")
			_, _, ok = readWithExtensionHeaders(t, dns)
			assert.False(t, ok, "the datagram to port 53 must be dropped")
		})
	}

	require.Equal(t, 0, fw.Stop(t), fw.String())
	out := fw.Stdout()
	assert.Equal(t, 2, strings.Count(out, "drop   udp [::1]:"), out)
	assert.Regexp(t, `drop   udp \[::1\]:\d+ > \[::1\]:53 \(rule 1: udp,dport=53\)`, out)
	assert.Contains(t, out, "firewall: 2 accepted, 2 dropped")
}
