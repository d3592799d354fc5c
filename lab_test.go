//go:build linux && cgo

package nfq_test

import (
	"context"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/nfq-go/nfq"
	"github.com/nfq-go/nfq/internal/lab"
	"github.com/nfq-go/nfq/internal/netnstest"
	"github.com/stretchr/testify/require"
)

// udpLab is a namespace with a UDP receiver on loopback whose traffic goes
// through an NFQUEUE rule.
type udpLab struct {
	ns     *netnstest.NS
	recv   *net.UDPConn
	send   *net.UDPConn
	port   int
	queue  uint16
	ifLoop uint32
}

// newUDPLab makes a namespace where UDP to the receiver's port goes to a
// fresh queue at OUTPUT.
func newUDPLab(t *testing.T) *udpLab {
	t.Helper()
	ns := netnstest.New(t)
	l := &udpLab{ns: ns, queue: lab.QueueNum()}
	l.recv = ns.ListenUDP(t, "127.0.0.1:0")
	l.port = l.recv.LocalAddr().(*net.UDPAddr).Port
	l.send = ns.DialUDP(t, l.recv.LocalAddr().String())
	ns.Exec(t, "iptables", "-A", "OUTPUT", "-p", "udp", "--dport", fmt.Sprint(l.port),
		"-j", "NFQUEUE", "--queue-num", fmt.Sprint(l.queue))
	ns.Do(t, func() {
		lo, err := net.InterfaceByName("lo")
		require.NoError(t, err)
		l.ifLoop = uint32(lo.Index)
	})
	return l
}

// open opens the lab's queue inside its namespace and closes it at cleanup.
func (l *udpLab) open(t *testing.T, cfg nfq.Config) *nfq.Queue {
	t.Helper()
	cfg.Queue = l.queue
	return openIn(t, l.ns, cfg)
}

// consume opens the lab's queue and starts its Packets channel.
func (l *udpLab) consume(t *testing.T, cfg nfq.Config) (*nfq.Queue, <-chan *nfq.Packet) {
	t.Helper()
	q := l.open(t, cfg)
	ch, err := q.Packets(context.Background())
	require.NoError(t, err)
	return q, ch
}

func openIn(t *testing.T, ns *netnstest.NS, cfg nfq.Config) *nfq.Queue {
	t.Helper()
	var q *nfq.Queue
	var err error
	ns.Do(t, func() { q, err = nfq.Open(cfg) })
	require.NoError(t, err)
	t.Cleanup(func() { q.Close() })
	return q
}

// sendN sends n datagrams "msg-0", "msg-1", ...
func (l *udpLab) sendN(t *testing.T, n int) {
	t.Helper()
	for i := 0; i < n; i++ {
		_, err := l.send.Write([]byte(fmt.Sprintf("msg-%d", i)))
		require.NoError(t, err)
	}
}

// received returns what reached the receiver within quiet of the last one.
func (l *udpLab) received(want int, quiet time.Duration) []string {
	var out []string
	for _, b := range netnstest.ReadUDP(l.recv, want, quiet) {
		out = append(out, string(b))
	}
	return out
}
