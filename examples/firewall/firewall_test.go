//go:build linux && cgo

package main

import (
	"fmt"
	"net"
	"net/netip"
	"testing"
	"time"

	"github.com/nfq-go/nfq/internal/netnstest"
	"github.com/nfq-go/nfq/internal/progtest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
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
