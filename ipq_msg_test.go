//go:build linux && cgo

package nfq

import (
	"encoding/binary"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The legacy message layout without the kernel: the conversion of NFQUEUE
// messages into it, which the C library does for ipq_read and IPQRead
// alike, and the Go functions that read it.

func TestIPQGoOffsetsAreTheCHeaders(t *testing.T) {
	assert.Equal(t, []int{ipqOffPacketID, ipqOffMark, ipqOffTsSec, ipqOffTsUsec, ipqOffHook, ipqOffIndev,
		ipqOffOutdev, ipqOffHWProto, ipqOffHWType, ipqOffHWAddrLen, ipqOffHWAddr, ipqOffDataLen, ipqPacketMsgLen},
		ipqCOffsets())
}

// testNFQMessage is a PREROUTING packet as the kernel sends it: mark,
// timestamp, input interface 1 (lo, in every namespace), hardware address
// and a 13-byte payload.
func testNFQMessage() []byte {
	ts := binary.BigEndian.AppendUint64(nil, 1700000000)
	ts = binary.BigEndian.AppendUint64(ts, 123456)
	hw := []byte{0, 6, 0, 0, 1, 2, 3, 4, 5, 6, 0, 0}
	return newPacketMsg(0, 0x01020304, 0x86dd, 0).
		u32(3, 7).                         // NFQA_MARK
		attr(4, ts).                       // NFQA_TIMESTAMP
		u32(5, 1).                         // NFQA_IFINDEX_INDEV
		attr(9, hw).                       // NFQA_HWADDR
		attr(10, []byte("0123456789abc")). // NFQA_PAYLOAD
		bytes()
}

// routeSocket is a socket of the test's own namespace, for names.
func routeSocket(t *testing.T) int {
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_DGRAM|syscall.SOCK_CLOEXEC, 0)
	require.NoError(t, err)
	t.Cleanup(func() { syscall.Close(fd) })
	return fd
}

func TestLegacyPacketLayout(t *testing.T) {
	buf, n := ipqLegacy(testNFQMessage(), 512, routeSocket(t), false)
	require.Equal(t, 16+112, n) // 96 + 13 payload bytes, padded to 4

	ne := binary.NativeEndian
	assert.Equal(t, uint32(n), ne.Uint32(buf[0:]), "nlmsg_len")
	assert.Equal(t, uint16(IPQMPacket), ne.Uint16(buf[4:]), "nlmsg_type")
	m := buf[16:]
	assert.Equal(t, uint64(0x01020304), ne.Uint64(m[0:]))
	assert.Equal(t, uint64(7), ne.Uint64(m[8:]))
	assert.Equal(t, uint64(1700000000), ne.Uint64(m[16:]))
	assert.Equal(t, uint64(123456), ne.Uint64(m[24:]))
	assert.Equal(t, uint32(0), ne.Uint32(m[32:]), "hook")
	assert.Equal(t, "lo\x00", string(m[36:39]))
	assert.Equal(t, make([]byte, 16), m[52:68], "no output interface")
	assert.Equal(t, []byte{0x86, 0xdd}, m[68:70], "hw_protocol in network order")
	assert.Equal(t, uint16(772), ne.Uint16(m[70:]), "ARPHRD_LOOPBACK, the input interface's type")
	assert.Equal(t, byte(6), m[72])
	assert.Equal(t, []byte{1, 2, 3, 4, 5, 6, 0, 0}, m[73:81])
	assert.Equal(t, uint64(13), ne.Uint64(m[88:]))
	assert.Equal(t, "0123456789abc", string(m[96:109]))
	assert.Equal(t, []byte{0, 0, 0}, m[109:112], "padding")

	p := IPQGetPacket(buf[:n])
	assert.Equal(t, IPQID(0x01020304), p.PacketID)
	assert.Equal(t, "lo", p.IndevName)
	assert.Equal(t, uint16(0x86dd), p.HWProtocol)
	assert.Equal(t, uint16(772), p.HWType)
	assert.Equal(t, "0123456789abc", string(p.Payload))
	assert.Equal(t, int64(123456), p.TimestampUsec)
}

func TestLegacyPacketWithoutTimestampOrInterfaceHasZeros(t *testing.T) {
	msg := newPacketMsg(0, 9, 0x0800, 3).u32(6, 999999).bytes() // NFQA_IFINDEX_OUTDEV: gone
	buf, n := ipqLegacy(msg, 256, routeSocket(t), false)
	require.Equal(t, 112, n)
	p := IPQGetPacket(buf[:n])
	assert.Zero(t, p.TimestampSec, "ip_queue gave 0 when the skb had no stamp")
	assert.Zero(t, p.TimestampUsec)
	assert.Empty(t, p.IndevName)
	assert.Empty(t, p.OutdevName, "an interface deleted since the packet was queued")
	assert.Zero(t, p.HWType)
	assert.Zero(t, p.DataLen)
	assert.Nil(t, p.Payload)
}

func TestLegacyPacketTruncatedKeepsTheID(t *testing.T) {
	msg := testNFQMessage()
	for _, n := range []int{IPQMinReadLen, 24, 100, 120} {
		buf, size := ipqLegacy(msg, n, -1, false)
		assert.Equal(t, 128, size, "the size the message needs")
		assert.Equal(t, uint32(128), binary.NativeEndian.Uint32(buf), "nlmsg_len tells the full size")
		assert.Equal(t, uint32(0x01020304), binary.NativeEndian.Uint32(buf[16:]), "low half of packet_id")
		p := IPQGetPacket(buf)
		if n >= 24 {
			assert.Equal(t, IPQID(0x01020304), p.PacketID)
		}
		if n > 112 {
			assert.Equal(t, "01234567", string(buf[112:n]), "as much payload as fits")
		}
	}
}

// When NFQUEUE's header is longer than ip_queue's, a buffer that holds the
// legacy message but not the NFQUEUE one still gets the whole payload.
func TestLegacyPacketFromAMessageLargerThanTheBuffer(t *testing.T) {
	b := newPacketMsg(0, 5, 0x0800, 0)
	for typ := uint16(5); typ <= 8; typ++ { // the four interface indexes
		b.u32(typ, 1)
	}
	b.u32(3, 1).attr(4, make([]byte, 16)).u32(15, 0).u32(16, 0).attr(9, make([]byte, 12))
	payload := []byte(strings.Repeat("p", 41))
	msg := b.attr(10, payload).bytes()
	require.Greater(t, len(msg), 112+44)
	buf, n := ipqLegacy(msg, 112+44, -1, false)
	require.Equal(t, 112+44, n)
	assert.Equal(t, payload, buf[112:112+41])
	assert.Equal(t, []byte{0, 0, 0}, buf[153:156])
}

func TestLegacyPacketRefusesMalformedMessages(t *testing.T) {
	_, n := ipqLegacy(newPacketMsg(0, 1, 0x0800, 0).bytes()[:20], 256, -1, false)
	assert.Equal(t, -int(syscall.EBADMSG), n, "no packet header")
	msg := newPacketMsg(0, 1, 0x0800, 0).u32(3, 1).bytes()
	binary.LittleEndian.PutUint16(msg[32:], 200) // the mark attribute overruns the message
	_, n = ipqLegacy(msg, 256, -1, false)
	assert.Equal(t, -int(syscall.EBADMSG), n)
}

// nlError is the kernel's answer refusing a request with sequence number
// seq.
func nlError(errno syscall.Errno, seq uint32) []byte {
	b := make([]byte, 36)
	ne := binary.NativeEndian
	ne.PutUint32(b[0:], 36)
	ne.PutUint16(b[4:], NLMsgError)
	ne.PutUint32(b[16:], uint32(-int32(errno)))
	ne.PutUint32(b[20:], 32)
	ne.PutUint16(b[24:], 3<<8|1) // NFQNL_MSG_VERDICT
	ne.PutUint32(b[28:], seq)
	return b
}

func TestLegacyErrorNamesTheRefusedRequest(t *testing.T) {
	buf, n := ipqLegacy(nlError(syscall.ENOENT, 40+33), 64, -1, true)
	require.Equal(t, 36, n)
	assert.Equal(t, NLMsgError, IPQMessageType(buf))
	assert.Equal(t, int(syscall.ENOENT), IPQGetMsgErr(buf))
	ne := binary.NativeEndian
	assert.Equal(t, uint32(73), ne.Uint32(buf[20:]), "the refused request's legacy length")
	assert.Equal(t, uint16(IPQMVerdict), ne.Uint16(buf[24:]), "and type")

	buf, n = ipqLegacy(nlError(syscall.EINVAL, 0x80000000|40), 64, -1, true)
	require.Equal(t, 36, n)
	assert.Equal(t, int(syscall.EINVAL), IPQGetMsgErr(buf))
	assert.Equal(t, uint16(IPQMMode), ne.Uint16(buf[24:]))

	_, n = ipqLegacy(nlError(syscall.ENOENT, 0), 64, -1, true)
	assert.Zero(t, n, "the library's own request: not for the program")
	_, n = ipqLegacy(nlError(0, 40), 64, -1, true)
	assert.Zero(t, n, "an acknowledgement")
}

func TestIPQMessageFunctionsOnShortBuffers(t *testing.T) {
	assert.Equal(t, 0, IPQMessageType(nil))
	assert.Equal(t, 0, IPQGetMsgErr([]byte{1, 2}))
	p := IPQGetPacket(make([]byte, 10))
	assert.Zero(t, p.PacketID)
	assert.Nil(t, p.Payload)
}

// FuzzLegacyPacket feeds arbitrary messages, in buffers of every size
// ipq_read accepts, through the C conversion into ip_queue's layout: it
// must refuse what does not parse, and write no more than the buffer.
func FuzzLegacyPacket(f *testing.F) {
	f.Add(testNFQMessage(), uint16(512), false)
	f.Add(testNFQMessage(), uint16(20), false)
	f.Add(newPacketMsg(0, 9, 0x0800, 3).u32(6, 1).bytes(), uint16(112), false)
	f.Add(nlError(syscall.ENOENT, 40), uint16(36), true)
	f.Fuzz(func(t *testing.T, msg []byte, bufLen uint16, isError bool) {
		n := max(int(bufLen), IPQMinReadLen)
		buf, size := ipqLegacy(msg, n, -1, isError)
		if size < 0 {
			if size != -int(syscall.EBADMSG) {
				t.Fatalf("conversion failed with %v, want EBADMSG", syscall.Errno(-size))
			}
			return
		}
		if size == 0 {
			return // an acknowledgement, not for the program
		}
		if got := int(binary.NativeEndian.Uint32(buf)); got != size {
			t.Fatalf("nlmsg_len %d, conversion said %d", got, size)
		}
		if !isError && size <= n {
			p := IPQGetPacket(buf[:size])
			if want := size - 16 - 96; p.DataLen > uint64(want) || uint64(want)-p.DataLen > 3 {
				t.Fatalf("data_len %d in a message of %d bytes", p.DataLen, size)
			}
		}
	})
}
