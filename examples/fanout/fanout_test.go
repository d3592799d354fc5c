//go:build linux && cgo

package main

import (
	"fmt"
	"net"
	"net/netip"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nfq-go/nfq/internal/netnstest"
	"github.com/nfq-go/nfq/internal/progtest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const (
	sources = 64 // the kernel spreads by address: many sources reach every queue
	rounds  = 25
)

func TestFanoutVerdictsEveryPacketOnce(t *testing.T) {
	bin := progtest.Build(t, ".")
	ns := netnstest.New(t)
	var batch strings.Builder
	for i := 1; i <= sources; i++ {
		fmt.Fprintf(&batch, "addr add 10.20.0.%d/32 dev lo\n", i)
	}
	batch.WriteString("addr add 10.20.1.1/32 dev lo\n")
	cmd := ns.Command("ip", "-batch", "-")
	cmd.Stdin = strings.NewReader(batch.String())
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", out)

	recv := ns.ListenUDP(t, "10.20.1.1:0")
	dst := recv.LocalAddr().(*net.UDPAddr)
	ns.Exec(t, "iptables", "-A", "OUTPUT", "-d", "10.20.1.1", "-p", "udp", "--dport", fmt.Sprint(dst.Port),
		"-j", "NFQUEUE", "--queue-balance", "60:63")

	f := progtest.Start(t, ns, bin, "-queues", "60:63", "-workers", "3")
	f.WaitStderr(t, "fanout: queues 60-63 open, 3 workers", 10*time.Second)

	// Read while sending, so the receiver's buffer never overflows.
	got := map[string]bool{}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for _, b := range netnstest.ReadUDP(recv, sources*rounds, 3*time.Second) {
			got[string(b)] = true
		}
	}()
	conns := make([]*net.UDPConn, sources)
	ns.Do(t, func() {
		for i := range conns {
			src := netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 20, 0, byte(i + 1)}), 0)
			conns[i], err = net.DialUDP("udp", net.UDPAddrFromAddrPort(src), dst)
			require.NoError(t, err)
		}
	})
	for r := range rounds {
		for i, c := range conns {
			_, err := fmt.Fprintf(c, "source %d round %d", i, r)
			require.NoError(t, err)
		}
		time.Sleep(5 * time.Millisecond) // a steady flow, not one burst
	}
	wg.Wait()
	for _, c := range conns {
		c.Close()
	}
	assert.Len(t, got, sources*rounds, "every datagram arrived, once")

	var queued uint64
	lines := ns.Queues(t)
	for n := uint64(60); n <= 63; n++ {
		l, ok := lines[n]
		require.True(t, ok, "queue %d is bound", n)
		assert.Zero(t, l.Dropped, "queue %d: kernel drops", n)
		assert.Zero(t, l.UserDropped, "queue %d: drops for want of socket buffer", n)
		assert.Zero(t, l.Waiting, "queue %d: packets left waiting", n)
		assert.NotZero(t, l.IDSequence, "queue %d got no packet", n)
		queued += l.IDSequence
	}
	assert.Equal(t, uint64(sources*rounds), queued, "every datagram went through a queue")

	require.Equal(t, 0, f.Stop(t), f.String())
	stdout := f.Stdout()
	re := regexp.MustCompile(`fanout: queue (\d+): (\d+) received, (\d+) verdicts, 0 default verdicts, 0 overruns`)
	perQueue := re.FindAllStringSubmatch(stdout, -1)
	require.Len(t, perQueue, 4, stdout)
	for _, m := range perQueue {
		assert.Equal(t, m[2], m[3], "queue %s: one verdict per packet", m[1])
	}
	assert.Contains(t, stdout, fmt.Sprintf("fanout: %d packets on 4 queues, %d verdicts from the workers, 0 failed", sources*rounds, sources*rounds))
}
