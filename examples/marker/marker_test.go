//go:build linux && cgo

package main

import (
	"fmt"
	"net"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nfq-go/nfq/internal/netnstest"
	"github.com/nfq-go/nfq/internal/progtest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// markCounts reads how many packets each "-m mark --mark M" rule of INPUT
// matched, by mark.
func markCounts(t *testing.T, ns *netnstest.NS) map[string]int {
	t.Helper()
	re := regexp.MustCompile(`^\s*(\d+)\s+\d+\s.*mark match (0x[0-9a-f]+)`)
	counts := map[string]int{}
	for _, line := range strings.Split(ns.Exec(t, "iptables", "-L", "INPUT", "-v", "-x", "-n"), "\n") {
		if m := re.FindStringSubmatch(line); m != nil {
			n, err := strconv.Atoi(m[1])
			require.NoError(t, err)
			counts[m[2]] = n
		}
	}
	return counts
}

func TestMarkerMarksFlowsForLaterRules(t *testing.T) {
	bin := progtest.Build(t, ".")
	ns := netnstest.New(t)
	// Four services: 1 and 2 by port, 3 turns bulk, 4 is not classified.
	var recv [4]*net.UDPConn
	var ports [4]string
	for i := range recv {
		recv[i] = ns.ListenUDP(t, "127.0.0.1:0")
		ports[i] = fmt.Sprint(recv[i].LocalAddr().(*net.UDPAddr).Port)
	}
	ns.Exec(t, "iptables", "-A", "OUTPUT", "-p", "udp", "-m", "multiport", "--dports", strings.Join(ports[:], ","),
		"-j", "NFQUEUE", "--queue-num", "51")
	// Loopback packets pass INPUT after the queue: the marks act there.
	for _, rule := range [][]string{
		{"-m", "mark", "--mark", "0x1"},
		{"-m", "mark", "--mark", "0x2", "-j", "DROP"},
		{"-m", "mark", "--mark", "0x3"},
		{"-m", "mark", "--mark", "0x4"},
		{"-p", "udp", "--dport", ports[3], "-m", "mark", "--mark", "0x0"},
	} {
		ns.Exec(t, append([]string{"iptables", "-A", "INPUT"}, rule...)...)
	}

	m := progtest.Start(t, ns, bin, "-queue", "51", "-port", ports[0]+"=0x1", "-port", ports[1]+"=0x2",
		"-port", ports[2]+"=0x4", "-bulk", "300", "-bulk-mark", "0x3")
	m.WaitStderr(t, "marker: queue 51", 10*time.Second)

	send := func(i, n, size int) {
		c := ns.DialUDP(t, recv[i].LocalAddr().String())
		for range n {
			_, err := c.Write(make([]byte, size))
			require.NoError(t, err)
		}
	}
	send(0, 2, 10)
	send(1, 2, 10)
	send(2, 5, 100) // 128 bytes each: over 300 from the third on
	send(3, 1, 10)
	got := func(i, want int) int { return len(netnstest.ReadUDP(recv[i], want, time.Second)) }
	assert.Equal(t, 2, got(0, 2))
	assert.Equal(t, 0, got(1, 2), "mark 0x2 is dropped at INPUT")
	assert.Equal(t, 5, got(2, 5))
	assert.Equal(t, 1, got(3, 1))
	assert.Equal(t, map[string]int{"0x1": 2, "0x2": 2, "0x3": 3, "0x4": 2, "0x0": 1}, markCounts(t, ns))

	require.Equal(t, 0, m.Stop(t), m.String())
	out := m.Stdout()
	assert.Regexp(t, `flow udp 127\.0\.0\.1:\d+ <-> 127\.0\.0\.1:\d+: mark 0x1\n`, out)
	assert.Regexp(t, `flow udp 127\.0\.0\.1:\d+ <-> 127\.0\.0\.1:\d+: bulk after 384 bytes: mark 0x3\n`, out)
	assert.Contains(t, out, "marker: 10 packets in 4 flows\nmarker: unmarked: 1 packets\n"+
		"marker: mark 0x1: 2 packets\nmarker: mark 0x2: 2 packets\nmarker: mark 0x3: 3 packets\nmarker: mark 0x4: 2 packets\n")
}
