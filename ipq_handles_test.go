//go:build linux && cgo

package nfq_test

import (
	"fmt"
	"net"
	"sort"
	"strings"
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
// to queue 0, and a handle of each family in the given copy modes.
type dualLab struct {
	l4, l6 *ipqLab
	h4, h6 *nfq.IPQHandle
}

func newDualLab(t *testing.T, mode4, mode6 uint8) *dualLab {
	t.Helper()
	d := &dualLab{l4: newIPQLab(t, false, false)}
	d.l6 = &ipqLab{ns: d.l4.ns}
	d.l6.recv = d.l4.ns.ListenUDP(t, "[::1]:0")
	d.l6.send = d.l4.ns.DialUDP(t, d.l6.recv.LocalAddr().String())
	d.l4.ns.Exec(t, "ip6tables-legacy", "-A", "OUTPUT", "-p", "udp", "--dport",
		fmt.Sprint(d.l6.recv.LocalAddr().(*net.UDPAddr).Port), "-j", "QUEUE")
	d.h4 = d.l4.createIn(t, nfq.NFProtoIPv4)
	d.h6 = d.l4.createIn(t, nfq.NFProtoIPv6)
	require.Greater(t, nfq.IPQSetMode(d.h4, mode4, 0), 0)
	require.Greater(t, nfq.IPQSetMode(d.h6, mode6, 0), 0)
	return d
}

// A program with one thread per handle, each blocked reading its own: every
// packet reaches the handle of its family, whichever thread read the queue.
func TestIPQTwoHandlesReadByTheirOwnGoroutines(t *testing.T) {
	netnstest.RequireKernel(t)
	d := newDualLab(t, nfq.IPQCopyPacket, nfq.IPQCopyPacket)
	var wg sync.WaitGroup
	seen := make([][]string, 2)
	for i, h := range []*nfq.IPQHandle{d.h4, d.h6} {
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
		d.l4.write(t, p4)
		d.l6.write(t, p6)
	}
	got4, got6 := netnstestRead(d.l4, 20), netnstestRead(d.l6, 20)
	sort.Strings(got4)
	sort.Strings(got6)
	assert.Equal(t, want4, got4)
	assert.Equal(t, want6, got6)
	start := time.Now()
	nfq.IPQDestroyHandle(d.h4)
	nfq.IPQDestroyHandle(d.h6)
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

// Read in turn from one thread, in either order of arrival, each handle
// with its own copy mode.
func TestIPQIPv4AndIPv6HandlesShareQueueZero(t *testing.T) {
	netnstest.RequireKernel(t)
	for _, v4First := range []bool{false, true} {
		d := newDualLab(t, nfq.IPQCopyPacket, nfq.IPQCopyMeta)
		if v4First {
			d.l4.write(t, "four")
		}
		d.l6.write(t, "six")
		if !v4First {
			d.l4.write(t, "four")
		}
		buf := make([]byte, 2048)
		_, m := readPacket(t, d.h6, buf)
		assert.Equal(t, uint16(0x86dd), m.HWProtocol)
		assert.Empty(t, m.Payload, "the IPv6 handle's own copy mode")
		require.Greater(t, nfq.IPQSetVerdict(d.h6, m.PacketID, nfq.Accept, 0, nil), 0)
		_, m = readPacket(t, d.h4, buf)
		assert.Equal(t, uint16(0x0800), m.HWProtocol)
		assert.True(t, strings.HasSuffix(string(m.Payload), "four"))
		require.Greater(t, nfq.IPQSetVerdict(d.h4, m.PacketID, nfq.Accept, 0, nil), 0)
		assert.Equal(t, []string{"six"}, netnstestRead(d.l6, 1))
		assert.Equal(t, []string{"four"}, netnstestRead(d.l4, 1))
		assert.Equal(t, 0, nfq.IPQRead(d.h4, buf, -1), "nothing crossed over")
		assert.Equal(t, 0, nfq.IPQRead(d.h6, buf, -1))

		// one family's handle gone: its packets are dropped, the other's pass
		nfq.IPQDestroyHandle(d.h6)
		d.l6.write(t, "six again")
		d.l4.write(t, "four again")
		_, m = readPacket(t, d.h4, buf)
		require.Greater(t, nfq.IPQSetVerdict(d.h4, m.PacketID, nfq.Accept, 0, nil), 0)
		assert.Equal(t, []string{"four again"}, netnstestRead(d.l4, 1))
		assert.Empty(t, netnstest.ReadUDP(d.l6.recv, 1, 300*time.Millisecond), "no IPv6 handle: dropped")
	}
}

func TestIPQDestroyEndsABlockedRead(t *testing.T) {
	netnstest.RequireKernel(t)
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
