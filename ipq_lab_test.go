//go:build linux && cgo

package nfq_test

import (
	"encoding/binary"
	"fmt"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/nfq-go/nfq"
	"github.com/nfq-go/nfq/internal/netnstest"
	"github.com/stretchr/testify/require"
)

// ipqLab is a namespace where `-j QUEUE` (queue 0, as ip_queue programs
// expect; iptables-legacy, since the nft backend cannot express it) takes
// UDP to one port, and optionally ICMP echo.
type ipqLab struct {
	ns   *netnstest.NS
	recv *net.UDPConn
	send *net.UDPConn
}

func newIPQLab(t *testing.T, v6, icmp bool) *ipqLab {
	t.Helper()
	ns := netnstest.New(t)
	ipt, loop, icmpProto := "iptables-legacy", "127.0.0.1", "icmp"
	if v6 {
		ipt, loop, icmpProto = "ip6tables-legacy", "[::1]", "ipv6-icmp"
	}
	l := &ipqLab{ns: ns}
	l.recv = ns.ListenUDP(t, loop+":0")
	l.send = ns.DialUDP(t, l.recv.LocalAddr().String())
	port := l.recv.LocalAddr().(*net.UDPAddr).Port
	ns.Exec(t, ipt, "-A", "OUTPUT", "-p", "udp", "--dport", fmt.Sprint(port), "-j", "QUEUE")
	if icmp {
		ns.Exec(t, ipt, "-A", "OUTPUT", "-p", icmpProto, "-j", "QUEUE")
	}
	return l
}

// sendUDP sends each payload and returns what arrived within quiet.
func (l *ipqLab) sendUDP(t *testing.T, quiet time.Duration, payloads ...string) []string {
	t.Helper()
	for _, p := range payloads {
		_, err := l.send.Write([]byte(p))
		require.NoError(t, err)
	}
	var got []string
	for _, b := range netnstest.ReadUDP(l.recv, len(payloads), quiet) {
		got = append(got, string(b))
	}
	return got
}

// write sends one datagram.
func (l *ipqLab) write(t *testing.T, payload string) {
	t.Helper()
	_, err := l.send.Write([]byte(payload))
	require.NoError(t, err)
}

// createIn opens a compat handle inside the lab's namespace.
func (l *ipqLab) createIn(t *testing.T, protocol uint32) *nfq.IPQHandle {
	t.Helper()
	var h *nfq.IPQHandle
	l.ns.Do(t, func() { h = nfq.IPQCreateHandle(0, protocol) })
	require.NotNil(t, h, "ipq_create_handle: %s (%v)", nfq.IPQErrStr(), nfq.IPQSyscallErrno())
	t.Cleanup(func() { nfq.IPQDestroyHandle(h) })
	return h
}

// pinger sends ICMP echo requests inside a namespace through a raw
// socket, so the tests need no ping binary.
type pinger struct {
	c   net.PacketConn
	dst net.Addr
	v6  bool
	id  uint16
	seq uint16
}

func newPinger(t *testing.T, ns *netnstest.NS, v6 bool) *pinger {
	t.Helper()
	p := &pinger{v6: v6, id: uint16(time.Now().UnixNano())}
	network, addr := "ip4:icmp", "127.0.0.1"
	if v6 {
		network, addr = "ip6:ipv6-icmp", "::1"
	}
	ns.Do(t, func() {
		var err error
		p.c, err = net.ListenPacket(network, addr)
		require.NoError(t, err)
	})
	t.Cleanup(func() { p.c.Close() })
	p.dst = &net.IPAddr{IP: net.ParseIP(addr)}
	return p
}

// ping reports whether an echo reply came back within timeout.
func (p *pinger) ping(timeout time.Duration) bool {
	p.seq++
	req, reply := byte(8), byte(0)
	if p.v6 {
		req, reply = 128, 129 // the kernel fills in the ICMPv6 checksum
	}
	msg := []byte{req, 0, 0, 0, 0, 0, 0, 0, 'n', 'f', 'q'}
	binary.BigEndian.PutUint16(msg[4:], p.id)
	binary.BigEndian.PutUint16(msg[6:], p.seq)
	if !p.v6 {
		binary.BigEndian.PutUint16(msg[2:], inetChecksum(msg))
	}
	if _, err := p.c.WriteTo(msg, p.dst); err != nil {
		return false
	}
	buf := make([]byte, 1500)
	deadline := time.Now().Add(timeout)
	for {
		p.c.SetReadDeadline(deadline)
		n, _, err := p.c.ReadFrom(buf)
		if err != nil {
			return false
		}
		if n >= 8 && buf[0] == reply && binary.BigEndian.Uint16(buf[4:]) == p.id &&
			binary.BigEndian.Uint16(buf[6:]) == p.seq {
			return true
		}
	}
}

func inetChecksum(b []byte) uint16 {
	var sum uint32
	for i := 0; i+1 < len(b); i += 2 {
		sum += uint32(b[i])<<8 | uint32(b[i+1])
	}
	if len(b)%2 == 1 {
		sum += uint32(b[len(b)-1]) << 8
	}
	for sum>>16 != 0 {
		sum = sum&0xffff + sum>>16
	}
	return ^uint16(sum)
}

// goPasser runs the man-page passer loop through the compat API until
// stopped; it returns the stop function, which destroys the handle.
func goPasser(t *testing.T, h *nfq.IPQHandle) (stop func() int) {
	t.Helper()
	var (
		mu      sync.Mutex
		stopped bool
		passed  int
		done    = make(chan struct{})
	)
	go func() {
		defer close(done)
		buf := make([]byte, 2048)
		for {
			mu.Lock()
			s := stopped
			mu.Unlock()
			if s {
				return
			}
			n := nfq.IPQRead(h, buf, 50_000)
			if n <= 0 {
				continue
			}
			if nfq.IPQMessageType(buf) == nfq.IPQMPacket {
				if nfq.IPQSetVerdict(h, nfq.IPQGetPacket(buf).PacketID, nfq.Accept, 0, nil) > 0 {
					mu.Lock()
					passed++
					mu.Unlock()
				}
			}
		}
	}()
	return func() int {
		mu.Lock()
		stopped = true
		mu.Unlock()
		<-done
		nfq.IPQDestroyHandle(h)
		return passed
	}
}
