//go:build linux

package lab

import (
	"fmt"
	"net"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nfq-go/nfq"
	"github.com/nfq-go/nfq/internal/netnstest"
	"github.com/stretchr/testify/require"
)

// Fanout is a namespace where UDP to one receiver is spread over four
// queues by an iptables --queue-balance rule. The kernel picks the queue by
// a hash of the addresses (not the ports), so the senders use many source
// addresses.
type Fanout struct {
	NS          *netnstest.NS
	First, Last uint16
	Recv        *net.UDPConn
	Conns       []*net.UDPConn // one per source address
}

// FanoutSources is how many source addresses a Fanout sends from.
const FanoutSources = 32

// NewFanout makes the namespace, the addresses, the receiver and the rule
// for queues First..Last.
func NewFanout(t *testing.T) *Fanout {
	t.Helper()
	l := &Fanout{NS: netnstest.New(t)}
	l.First = QueueRange(4)
	l.Last = l.First + 3
	var batch strings.Builder
	for i := 1; i <= FanoutSources; i++ {
		fmt.Fprintf(&batch, "addr add 10.30.0.%d/32 dev lo\n", i)
	}
	batch.WriteString("addr add 10.30.1.1/32 dev lo\n")
	cmd := l.NS.Command("ip", "-batch", "-")
	cmd.Stdin = strings.NewReader(batch.String())
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", out)

	l.Recv = l.NS.ListenUDP(t, "10.30.1.1:0")
	dst := l.Recv.LocalAddr().(*net.UDPAddr)
	l.NS.Exec(t, "iptables", "-A", "OUTPUT", "-d", "10.30.1.1", "-p", "udp", "--dport", fmt.Sprint(dst.Port),
		"-j", "NFQUEUE", "--queue-balance", fmt.Sprintf("%d:%d", l.First, l.Last))
	l.Conns = make([]*net.UDPConn, FanoutSources)
	l.NS.Do(t, func() {
		for i := range l.Conns {
			src := netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 30, 0, byte(i + 1)}), 0)
			l.Conns[i], err = net.DialUDP("udp", net.UDPAddrFromAddrPort(src), dst)
			require.NoError(t, err)
		}
	})
	t.Cleanup(func() {
		for _, c := range l.Conns {
			c.Close()
		}
	})
	return l
}

// Open opens the set of the lab's queues in its namespace and closes it at
// cleanup.
func (l *Fanout) Open(t *testing.T, cfg nfq.Config) *nfq.QueueSet {
	t.Helper()
	var s *nfq.QueueSet
	var err error
	l.NS.Do(t, func() { s, err = nfq.OpenRange(l.First, l.Last, cfg) })
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	return s
}

// SendAll sends rounds datagrams from every source while reading them at
// the receiver, and returns how many distinct datagrams arrived.
func (l *Fanout) SendAll(t *testing.T, rounds int) int {
	t.Helper()
	got := map[string]bool{}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for _, b := range netnstest.ReadUDP(l.Recv, FanoutSources*rounds, 2*time.Second) {
			got[string(b)] = true
		}
	}()
	for r := range rounds {
		for i, c := range l.Conns {
			_, err := fmt.Fprintf(c, "source %d round %d", i, r)
			require.NoError(t, err)
		}
		time.Sleep(2 * time.Millisecond) // a steady flow, not one burst
	}
	wg.Wait()
	return len(got)
}
