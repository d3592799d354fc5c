//go:build linux && cgo

package nfq_test

import (
	"fmt"
	"net"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/nfq-go/nfq"
	"github.com/nfq-go/nfq/internal/netnstest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Two handles of one process on queue 0, and handles destroyed while read.

// dualLab is newIPQLab with an IPv6 pair next to the IPv4 one, both queued
// to queue 0.
func dualLab(t *testing.T) (l4, l6 *ipqLab) {
	t.Helper()
	l4 = newIPQLab(t, false, false)
	l6 = &ipqLab{ns: l4.ns}
	l6.recv = l4.ns.ListenUDP(t, "[::1]:0")
	l6.send = l4.ns.DialUDP(t, l6.recv.LocalAddr().String())
	l4.ns.Exec(t, "ip6tables-legacy", "-A", "OUTPUT", "-p", "udp", "--dport",
		fmt.Sprint(l6.recv.LocalAddr().(*net.UDPAddr).Port), "-j", "QUEUE")
	return l4, l6
}

// A program with one thread per handle, each blocked reading its own: every
// packet reaches the handle of its family, whichever thread read the queue.
func TestIPQTwoHandlesReadByTheirOwnGoroutines(t *testing.T) {
	requireRoot(t)
	l4, l6 := dualLab(t)
	h4 := l4.createIn(t, nfq.NFProtoIPv4)
	h6 := l4.createIn(t, nfq.NFProtoIPv6)
	require.Greater(t, nfq.IPQSetMode(h4, nfq.IPQCopyPacket, 0), 0)
	require.Greater(t, nfq.IPQSetMode(h6, nfq.IPQCopyPacket, 0), 0)

	var wg sync.WaitGroup
	seen := make([][]string, 2)
	for i, h := range []*nfq.IPQHandle{h4, h6} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := make([]byte, 2048)
			for nfq.IPQRead(h, buf, 0) > 0 { // until IPQDestroyHandle
				if nfq.IPQMessageType(buf) != nfq.IPQMPacket {
					continue
				}
				m := nfq.IPQGetPacket(buf)
				seen[i] = append(seen[i], fmt.Sprintf("%#x", m.HWProtocol))
				nfq.IPQSetVerdict(h, m.PacketID, nfq.Accept, 0, nil)
			}
		}()
	}
	var want4, want6 []string
	for i := 0; i < 20; i++ {
		p4, p6 := fmt.Sprintf("four-%02d", i), fmt.Sprintf("six-%02d", i)
		want4, want6 = append(want4, p4), append(want6, p6)
		_, err := l4.send.Write([]byte(p4))
		require.NoError(t, err)
		_, err = l6.send.Write([]byte(p6))
		require.NoError(t, err)
	}
	got4, got6 := netnstestRead(l4, 20), netnstestRead(l6, 20)
	sort.Strings(got4)
	sort.Strings(got6)
	assert.Equal(t, want4, got4)
	assert.Equal(t, want6, got6)
	start := time.Now()
	nfq.IPQDestroyHandle(h4)
	nfq.IPQDestroyHandle(h6)
	wg.Wait()
	assert.Less(t, time.Since(start), 2*time.Second, "destroying a handle ends the read blocked on it")
	assert.Len(t, seen[0], 20)
	assert.Len(t, seen[1], 20)
	for _, p := range seen[0] {
		assert.Equal(t, "0x800", p, "the IPv4 handle saw an IPv6 packet")
	}
	for _, p := range seen[1] {
		assert.Equal(t, "0x86dd", p, "the IPv6 handle saw an IPv4 packet")
	}
}

// Read in turn from one thread, in the order the packets did not come.
func TestIPQTwoHandlesReadInTurn(t *testing.T) {
	requireRoot(t)
	l4, l6 := dualLab(t)
	h4 := l4.createIn(t, nfq.NFProtoIPv4)
	h6 := l4.createIn(t, nfq.NFProtoIPv6)
	require.Greater(t, nfq.IPQSetMode(h4, nfq.IPQCopyPacket, 0), 0)
	require.Greater(t, nfq.IPQSetMode(h6, nfq.IPQCopyPacket, 0), 0)
	_, err := l4.send.Write([]byte("four"))
	require.NoError(t, err)
	_, err = l6.send.Write([]byte("six"))
	require.NoError(t, err)

	buf := make([]byte, 2048)
	_, m := readPacket(t, h6, buf)
	assert.Equal(t, uint16(0x86dd), m.HWProtocol, "the IPv6 packet behind the IPv4 one")
	require.Greater(t, nfq.IPQSetVerdict(h6, m.PacketID, nfq.Accept, 0, nil), 0)
	_, m = readPacket(t, h4, buf)
	assert.Equal(t, uint16(0x0800), m.HWProtocol)
	require.Greater(t, nfq.IPQSetVerdict(h4, m.PacketID, nfq.Accept, 0, nil), 0)
	assert.Equal(t, []string{"six"}, netnstestRead(l6, 1))
	assert.Equal(t, []string{"four"}, netnstestRead(l4, 1))

	// one family's handle gone: its packets are dropped, the other's pass
	nfq.IPQDestroyHandle(h6)
	_, err = l6.send.Write([]byte("six again"))
	require.NoError(t, err)
	_, err = l4.send.Write([]byte("four again"))
	require.NoError(t, err)
	_, m = readPacket(t, h4, buf)
	require.Greater(t, nfq.IPQSetVerdict(h4, m.PacketID, nfq.Accept, 0, nil), 0)
	assert.Equal(t, []string{"four again"}, netnstestRead(l4, 1))
	assert.Empty(t, netnstest.ReadUDP(l6.recv, 1, 300*time.Millisecond), "no IPv6 handle: dropped")
}

func TestIPQDestroyEndsABlockedRead(t *testing.T) {
	requireRoot(t)
	l := newIPQLab(t, false, false)
	var h *nfq.IPQHandle
	l.ns.Do(t, func() { h = nfq.IPQCreateHandle(0, nfq.NFProtoIPv4) })
	require.NotNil(t, h)
	done := make(chan int)
	go func() { done <- nfq.IPQRead(h, make([]byte, 256), 0) }()
	time.Sleep(100 * time.Millisecond)
	assert.Equal(t, 0, nfq.IPQDestroyHandle(h))
	select {
	case n := <-done:
		assert.Equal(t, -1, n)
		assert.Equal(t, nfq.IPQErrRecv, nfq.IPQErrno())
	case <-time.After(2 * time.Second):
		t.Fatal("the read went on after its handle was destroyed")
	}
	assert.Equal(t, -1, h.Fd())
}
