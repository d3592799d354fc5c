//go:build linux && cgo

package nfq_test

import (
	"net"
	"testing"
	"time"

	"github.com/nfq-go/nfq"
	"github.com/nfq-go/nfq/internal/netnstest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// What a legacy packet message says about a packet that came in on a veth:
// the input interface's name in the queue's namespace as it is named when
// the message is read, its ARPHRD type, the sender's hardware address, and
// the timestamp when the stack stamped the packet.
func TestIPQPacketFromAVethNamesItsInterface(t *testing.T) {
	netnstest.RequireKernel(t)
	host := newIPQLab(t, false, false).ns
	dev := "ipqin0"
	sender := vethPeer(t, host, dev, "10.72.0.2")
	host.Exec(t, "ip", "addr", "add", "10.72.0.1/24", "dev", dev)
	host.Exec(t, "iptables-legacy", "-t", "mangle", "-A", "PREROUTING", "-p", "udp", "--dport", "9999", "-j", "QUEUE")
	askForTimestamps(t, host.ListenUDP(t, "10.72.0.1:9999"))
	send := sender.DialUDP(t, "10.72.0.1:9999")
	h := (&ipqLab{ns: host}).createIn(t, nfq.NFProtoIPv4)
	require.Greater(t, nfq.IPQSetMode(h, nfq.IPQCopyPacket, 0), 0)

	buf := make([]byte, 2048)
	// The stack turns stamping on a moment after the socket asks (a
	// deferred static key): the first packets may come unstamped, with 0.
	var m *nfq.IPQPacketMsg
	sent := time.Now()
	for deadline := sent.Add(5 * time.Second); ; {
		_, err := send.Write([]byte("in"))
		require.NoError(t, err)
		_, m = readPacket(t, h, buf)
		assert.Equal(t, uint32(nfq.HookPrerouting), m.Hook)
		assert.Equal(t, dev, m.IndevName)
		assert.Empty(t, m.OutdevName, "not routed yet")
		assert.Equal(t, uint16(1), m.HWType, "ARPHRD_ETHER")
		require.Equal(t, uint8(6), m.HWAddrLen)
		assert.Equal(t, senderMAC, net.HardwareAddr(m.HWAddr[:6]).String())
		require.Greater(t, nfq.IPQSetVerdict(h, m.PacketID, nfq.Accept, 0, nil), 0)
		if m.TimestampSec != 0 || time.Now().After(deadline) {
			break
		}
		assert.Zero(t, m.TimestampUsec, "no stamp: all 0")
		time.Sleep(10 * time.Millisecond)
	}
	assert.InDelta(t, sent.Unix(), m.TimestampSec, 5, "the stack's stamp")

	// renamed while the packet waits: the message names it as it is now
	_, err := send.Write([]byte("renamed"))
	require.NoError(t, err)
	require.Eventually(t, func() bool { return fdReadable(t, h, 0) }, 5*time.Second, 10*time.Millisecond)
	host.Exec(t, "ip", "link", "set", dev, "name", "ipqren0")
	_, m = readPacket(t, h, buf)
	assert.Equal(t, "ipqren0", m.IndevName)
	assert.Equal(t, uint16(1), m.HWType)
	require.Greater(t, nfq.IPQSetVerdict(h, m.PacketID, nfq.Accept, 0, nil), 0)
}
