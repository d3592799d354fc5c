//go:build linux && cgo

package nfq_test

import (
	"context"
	"fmt"
	"net"
	"syscall"
	"testing"
	"time"

	"github.com/nfq-go/nfq"
	"github.com/nfq-go/nfq/internal/lab"
	"github.com/nfq-go/nfq/internal/netnstest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The attributes real packets carry. Loopback cannot show an input device,
// the sender's hardware address, a receive timestamp or bridge ports: those
// come through a veth pair or a bridge.

const senderMAC = "02:00:5e:10:00:01"

// vethPeer makes a veth pair from ns (named local) to a new namespace (named
// eth0 there, with senderMAC and address peerAddr/24), and returns the new
// namespace.
func vethPeer(t *testing.T, ns *netnstest.NS, local, peerAddr string) *netnstest.NS {
	t.Helper()
	peer := netnstest.New(t)
	ns.Exec(t, "ip", "link", "add", local, "type", "veth", "peer", "name", "eth0", "netns", peer.Name)
	ns.Exec(t, "ip", "link", "set", local, "up")
	peer.Exec(t, "ip", "link", "set", "eth0", "address", senderMAC)
	peer.Exec(t, "ip", "addr", "add", peerAddr+"/24", "dev", "eth0")
	peer.Exec(t, "ip", "link", "set", "eth0", "up")
	return peer
}

// askForTimestamps makes c ask for receive timestamps, which makes the stack
// stamp incoming packets (soon after, not at once); the stamp travels with
// them to the queue.
func askForTimestamps(t *testing.T, c *net.UDPConn) {
	t.Helper()
	raw, err := c.SyscallConn()
	require.NoError(t, err)
	require.NoError(t, raw.Control(func(fd uintptr) {
		require.NoError(t, syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_TIMESTAMP, 1))
	}))
}

func TestAttributesOfAPacketArrivingOnAVeth(t *testing.T) {
	t.Parallel()
	queue := lab.QueueNum()
	host := netnstest.New(t)
	dev := fmt.Sprintf("nqin%d", queue)
	sender := vethPeer(t, host, dev, "10.71.0.2")
	host.Exec(t, "ip", "addr", "add", "10.71.0.1/24", "dev", dev)
	host.Exec(t, "iptables", "-t", "mangle", "-A", "PREROUTING", "-p", "udp", "--dport", "9999",
		"-j", "NFQUEUE", "--queue-num", fmt.Sprint(queue))
	recv := host.ListenUDP(t, "10.71.0.1:9999")
	askForTimestamps(t, recv)
	send := sender.DialUDP(t, "10.71.0.1:9999")

	q := openIn(t, host, nfq.Config{Queue: queue})
	ch, err := q.Packets(context.Background())
	require.NoError(t, err)
	// When no socket on the machine asked for timestamps before, the kernel
	// turns stamping on in a deferred work item (net_enable_timestamp), so
	// the first packets may still come unstamped: send until one is stamped.
	var p *nfq.Packet
	var sent time.Time
	datagrams := 0
	for datagrams < 20 && (p == nil || !p.Has(nfq.AttrTimestamp)) {
		if p != nil {
			time.Sleep(50 * time.Millisecond)
		}
		sent = time.Now()
		_, err = send.Write([]byte("over the wire"))
		require.NoError(t, err)
		datagrams++
		p = lab.RecvPacket(t, ch)
		require.NoError(t, p.Accept())
	}
	assert.Equal(t, nfq.HookPrerouting, p.Hook)
	assert.EqualValues(t, 0x0800, p.HWProtocol)
	assert.True(t, p.Has(nfq.AttrInDev))
	assert.Equal(t, ifIndex(t, host, dev), p.InDev)
	name, err := p.InDevName()
	require.NoError(t, err)
	assert.Equal(t, dev, name)
	assert.False(t, p.Has(nfq.AttrOutDev), "no output device before routing")
	assert.False(t, p.Has(nfq.AttrPhysInDev), "no bridge")
	require.True(t, p.Has(nfq.AttrHWAddr))
	assert.Equal(t, senderMAC, p.HWAddr.String())
	require.True(t, p.Has(nfq.AttrTimestamp), "the stack stamped the packet on arrival")
	assert.WithinDuration(t, sent, p.Timestamp, 5*time.Second)
	assert.False(t, p.Has(nfq.AttrUID), "a forwarded or incoming packet has no local socket owner")
	assert.Equal(t, []byte("over the wire"), lab.UDPPayload(t, p.Payload))
	if datagrams > 1 {
		t.Logf("the stack stamped datagram %d, not the ones before", datagrams)
	}
	want := make([]string, datagrams)
	for i := range want {
		want[i] = "over the wire"
	}
	assert.Equal(t, want, stringsOf(netnstest.ReadUDP(recv, datagrams, time.Second)))
}

func TestBridgePortsOfABridgedPacket(t *testing.T) {
	t.Parallel()
	queue := lab.QueueNum()
	bridge := netnstest.New(t)
	inPort, outPort := fmt.Sprintf("nqpa%d", queue), fmt.Sprintf("nqpb%d", queue)
	sender := vethPeer(t, bridge, inPort, "10.72.0.2")
	receiver := vethPeer(t, bridge, outPort, "10.72.0.3")
	receiver.Exec(t, "ip", "link", "set", "eth0", "address", "02:00:5e:10:00:02")
	for _, c := range [][]string{
		{"ip", "link", "add", "br0", "type", "bridge"},
		{"ip", "link", "set", inPort, "master", "br0"},
		{"ip", "link", "set", outPort, "master", "br0"},
		{"ip", "link", "set", "br0", "up"},
		// Bridged IPv4 traffic goes through iptables (br_netfilter).
		{"sysctl", "-qw", "net.bridge.bridge-nf-call-iptables=1"},
		{"iptables", "-A", "FORWARD", "-p", "udp", "--dport", "9999", "-j", "NFQUEUE", "--queue-num", fmt.Sprint(queue)},
	} {
		bridge.Exec(t, c...)
	}
	recv := receiver.ListenUDP(t, "10.72.0.3:9999")
	send := sender.DialUDP(t, "10.72.0.3:9999")

	q := openIn(t, bridge, nfq.Config{Queue: queue})
	ch, err := q.Packets(context.Background())
	require.NoError(t, err)
	_, err = send.Write([]byte("bridged"))
	require.NoError(t, err)

	p := lab.RecvPacket(t, ch)
	require.NoError(t, p.Accept())
	assert.Equal(t, nfq.HookForward, p.Hook)
	br := ifIndex(t, bridge, "br0")
	assert.Equal(t, br, p.InDev, "the bridge is the input device")
	assert.Equal(t, br, p.OutDev, "and the output device")
	require.True(t, p.Has(nfq.AttrPhysInDev))
	require.True(t, p.Has(nfq.AttrPhysOutDev))
	assert.Equal(t, ifIndex(t, bridge, inPort), p.PhysInDev)
	assert.Equal(t, ifIndex(t, bridge, outPort), p.PhysOutDev)
	for _, c := range []struct {
		get  func() (string, error)
		want string
	}{{p.PhysInDevName, inPort}, {p.PhysOutDevName, outPort}, {p.InDevName, "br0"}} {
		name, err := c.get()
		require.NoError(t, err)
		assert.Equal(t, c.want, name)
	}
	assert.Equal(t, senderMAC, p.HWAddr.String())
	assert.Equal(t, []string{"bridged"}, stringsOf(netnstest.ReadUDP(recv, 1, 2*time.Second)))
}

// TestPriorityAttribute checks NFQA_PRIORITY: sent when skb->priority is not
// 0, which SO_PRIORITY on the sending socket sets.
func TestPriorityAttribute(t *testing.T) {
	t.Parallel()
	l := newUDPLab(t)
	_, ch := l.consume(t, nfq.Config{})

	_, err := l.send.Write([]byte("plain"))
	require.NoError(t, err)
	p := lab.RecvPacket(t, ch)
	assert.False(t, p.Has(nfq.AttrPriority), "priority 0 is not sent")
	assert.Zero(t, p.Priority)
	require.NoError(t, p.Accept())

	setPriority(t, l.send, 5)
	_, err = l.send.Write([]byte("prio"))
	require.NoError(t, err)
	p = lab.RecvPacket(t, ch)
	assert.Equal(t, "prio", string(lab.UDPPayload(t, p.Payload)))
	require.True(t, p.Has(nfq.AttrPriority), "the kernel sends skb->priority when it is not 0")
	assert.Equal(t, uint32(5), p.Priority)
	require.NoError(t, p.Accept())
	assert.Equal(t, []string{"plain", "prio"}, l.received(2, time.Second))
}

func setPriority(t *testing.T, c *net.UDPConn, prio int) {
	t.Helper()
	raw, err := c.SyscallConn()
	require.NoError(t, err)
	var serr error
	require.NoError(t, raw.Control(func(fd uintptr) {
		serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_PRIORITY, prio)
	}))
	require.NoError(t, serr)
}
