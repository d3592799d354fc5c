//go:build linux && cgo

package nfq_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/nfq-go/nfq"
	"github.com/nfq-go/nfq/internal/lab"
	"github.com/nfq-go/nfq/internal/netnstest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// ifIndex returns the index of interface name in ns.
func ifIndex(t *testing.T, ns *netnstest.NS, name string) uint32 {
	t.Helper()
	var idx uint32
	ns.Do(t, func() {
		ifc, err := net.InterfaceByName(name)
		require.NoError(t, err)
		idx = uint32(ifc.Index)
	})
	return idx
}

// A router namespace between a sender and a receiver, joined by veth pairs
// with names only the router has. Its packets are queued at PREROUTING and at
// FORWARD; names are resolved from this goroutine, which is in none of the
// namespaces, and still are the router's.
func TestInterfaceNamesAreTheQueuesNamespaces(t *testing.T) {
	t.Parallel()
	queue := lab.QueueNum()
	wan, lan := fmt.Sprintf("nqwan%d", queue), fmt.Sprintf("nqlan%d", queue)
	router, sender, dest := netnstest.New(t), netnstest.New(t), netnstest.New(t)
	router.Exec(t, "ip", "link", "add", wan, "type", "veth", "peer", "name", "eth0", "netns", sender.Name)
	router.Exec(t, "ip", "link", "add", lan, "type", "veth", "peer", "name", "eth0", "netns", dest.Name)
	for _, c := range [][]string{
		{"ip", "addr", "add", "10.61.0.1/24", "dev", wan}, {"ip", "link", "set", wan, "up"},
		{"ip", "addr", "add", "10.62.0.1/24", "dev", lan}, {"ip", "link", "set", lan, "up"},
		{"sysctl", "-qw", "net.ipv4.ip_forward=1"},
		{"iptables", "-t", "mangle", "-A", "PREROUTING", "-p", "udp", "--dport", "9999", "-j", "NFQUEUE", "--queue-num", fmt.Sprint(queue)},
		{"iptables", "-A", "FORWARD", "-p", "udp", "--dport", "9999", "-j", "NFQUEUE", "--queue-num", fmt.Sprint(queue)},
	} {
		router.Exec(t, c...)
	}
	sender.Exec(t, "ip", "addr", "add", "10.61.0.2/24", "dev", "eth0")
	sender.Exec(t, "ip", "link", "set", "eth0", "up")
	sender.Exec(t, "ip", "route", "add", "default", "via", "10.61.0.1")
	dest.Exec(t, "ip", "addr", "add", "10.62.0.2/24", "dev", "eth0")
	dest.Exec(t, "ip", "link", "set", "eth0", "up")
	dest.Exec(t, "ip", "route", "add", "default", "via", "10.62.0.1")
	recv := dest.ListenUDP(t, "10.62.0.2:9999")
	send := sender.DialUDP(t, "10.62.0.2:9999")

	q := openIn(t, router, nfq.Config{Queue: queue})
	ch, err := q.Packets(context.Background())
	require.NoError(t, err)
	_, err = send.Write([]byte("through"))
	require.NoError(t, err)

	p := lab.RecvPacket(t, ch)
	require.Equal(t, nfq.HookPrerouting, p.Hook)
	in, err := p.InDevName()
	require.NoError(t, err)
	assert.Equal(t, wan, in)
	out, err := p.OutDevName()
	require.NoError(t, err)
	assert.Empty(t, out, "no output interface yet at PREROUTING")
	phys, err := p.PhysInDevName()
	require.NoError(t, err)
	assert.Empty(t, phys, "no bridge")
	require.NoError(t, p.Accept())

	p = lab.RecvPacket(t, ch)
	require.Equal(t, nfq.HookForward, p.Hook)
	in, err = p.InDevName()
	require.NoError(t, err)
	assert.Equal(t, wan, in)
	out, err = p.OutDevName()
	require.NoError(t, err)
	assert.Equal(t, lan, out)
	// This goroutine's own namespace has no such interfaces.
	if host, err := net.InterfaceByIndex(int(p.OutDev)); err == nil {
		assert.NotEqual(t, lan, host.Name)
	}
	require.NoError(t, p.Accept())
	assert.Equal(t, []string{"through"}, stringsOf(netnstest.ReadUDP(recv, 1, 2*time.Second)))

	// Every lookup asks the kernel: a renamed interface keeps its index and
	// shows its new name at once, a deleted one is gone.
	wanIdx, lanIdx := ifIndex(t, router, wan), ifIndex(t, router, lan)
	renamed := fmt.Sprintf("nqren%d", queue)
	router.Exec(t, "ip", "link", "set", wan, "down")
	router.Exec(t, "ip", "link", "set", wan, "name", renamed)
	name, err := q.InterfaceName(wanIdx)
	require.NoError(t, err)
	assert.Equal(t, renamed, name, "the new name, with no other lookup in between")
	in, err = p.InDevName()
	require.NoError(t, err)
	assert.Equal(t, renamed, in, "a packet's interface by its current name")
	router.Exec(t, "ip", "link", "del", lan)
	_, err = q.InterfaceName(lanIdx)
	assert.True(t, errors.Is(err, nfq.ErrNoInterface), "deleted: %v", err)
	_, err = p.OutDevName()
	assert.True(t, errors.Is(err, nfq.ErrNoInterface), "the packet's deleted output interface: %v", err)

	_, err = q.InterfaceName(999999)
	assert.True(t, errors.Is(err, nfq.ErrNoInterface), "%v", err)
	_, err = q.InterfaceName(0)
	assert.True(t, errors.Is(err, nfq.ErrNoInterface), "%v", err)

	require.NoError(t, q.Close())
	_, err = q.InterfaceName(999998)
	assert.True(t, errors.Is(err, nfq.ErrClosed), "%v", err)
}

func stringsOf(bs [][]byte) []string {
	var out []string
	for _, b := range bs {
		out = append(out, string(b))
	}
	return out
}
