package nfq

import (
	"encoding/binary"
	"io"
	"os"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// resetIPQErrors clears the process-wide error state between tests.
func resetIPQErrors() {
	ipqErrno.Store(0)
	ipqSysErrno.Store(0)
}

func TestIPQErrStringsAreLibipqs(t *testing.T) {
	want := []string{
		"Unknown error", "Implementation error", "Unable to create netlink handle",
		"Unable to create netlink socket", "Unable to bind netlink socket", "Unable to allocate buffer",
		"Failed to receive netlink message", "Received EOF on netlink socket", "Invalid peer address length",
		"Sent message truncated", "Received message truncated", "Received error from netlink",
		"Failed to send netlink message", "Operation not supported", "Receive buffer size invalid",
		"Timeout", "Invalid protocol specified",
	}
	for code, s := range want {
		assert.Equal(t, s, IPQErrString(code), "code %d", code)
	}
	assert.Equal(t, "Implementation error", IPQErrString(17))
	assert.Equal(t, "Implementation error", IPQErrString(-1))
}

func TestIPQErrorStateIsSetOnFailureOnly(t *testing.T) {
	resetIPQErrors()
	defer resetIPQErrors()
	assert.Equal(t, "Unknown error", IPQErrStr())
	ipqFail(IPQErrBind, syscall.EBUSY)
	ipqFail(IPQErrTimeout, 0) // no system error: errno stays
	assert.Equal(t, IPQErrTimeout, IPQErrno())
	assert.Equal(t, "Timeout", IPQErrStr())
	assert.Equal(t, syscall.EBUSY, IPQSyscallErrno())
}

func TestIPQPerrorLine(t *testing.T) {
	cases := []struct {
		s     string
		null  bool
		code  int
		errno syscall.Errno
		want  string
	}{
		{"", true, 0, 0, "ERROR\n"},
		{"s", false, 0, 0, "s\n"},
		{"", false, IPQErrTimeout, 0, ": Timeout\n"},
		{"passer", false, IPQErrTimeout, syscall.EBUSY, "passer: Timeout: Device or resource busy\n"},
		{"", true, 99, 0, "ERROR: Implementation error\n"},
		{"x", false, 0, syscall.EPERM, "x: Operation not permitted\n"},
		{"x", false, 0, syscall.EAGAIN, "x: Resource temporarily unavailable\n"},
		{"x", false, 0, syscall.ENOENT, "x: No such file or directory\n"},
	}
	for _, c := range cases {
		assert.Equal(t, c.want, IPQPerrorText(c.s, c.null, c.code, c.errno))
	}
}

func testPacketContent() ipqPacketContent {
	return ipqPacketContent{
		id: 0x01020304, mark: 7, tsSec: 1700000000, tsUsec: 123456, hook: 3,
		indev: "veth0", outdev: "a-very-long-interface-name",
		hwProtocol: 0x86dd, hwType: 1, hwAddr: []byte{1, 2, 3, 4, 5, 6},
		payload: []byte("0123456789abc"),
	}
}

func TestEncodeIPQPacketLayout(t *testing.T) {
	c := testPacketContent()
	buf := make([]byte, 512)
	size, written := encodeIPQPacket(buf, &c)
	require.Equal(t, 16+112, size) // 96 + 13 payload bytes, padded to 4
	require.Equal(t, size, written)

	ne := binary.NativeEndian
	assert.Equal(t, uint32(size), ne.Uint32(buf[0:]), "nlmsg_len")
	assert.Equal(t, uint16(IPQMPacket), ne.Uint16(buf[4:]), "nlmsg_type")
	m := buf[16:]
	assert.Equal(t, uint64(0x01020304), ne.Uint64(m[0:]))
	assert.Equal(t, uint64(7), ne.Uint64(m[8:]))
	assert.Equal(t, uint64(1700000000), ne.Uint64(m[16:]))
	assert.Equal(t, uint64(123456), ne.Uint64(m[24:]))
	assert.Equal(t, uint32(3), ne.Uint32(m[32:]))
	assert.Equal(t, "veth0\x00", string(m[36:42]))
	assert.Equal(t, "a-very-long-int\x00", string(m[52:68]), "cut to IFNAMSIZ-1 and terminated")
	assert.Equal(t, []byte{0x86, 0xdd}, m[68:70], "hw_protocol in network order")
	assert.Equal(t, uint16(1), ne.Uint16(m[70:]))
	assert.Equal(t, byte(6), m[72])
	assert.Equal(t, []byte{1, 2, 3, 4, 5, 6, 0, 0}, m[73:81])
	assert.Equal(t, uint64(13), ne.Uint64(m[88:]))
	assert.Equal(t, "0123456789abc", string(m[96:109]))
	assert.Equal(t, []byte{0, 0, 0}, m[109:112], "padding")

	assert.Equal(t, IPQMPacket, IPQMessageType(buf))
	p := IPQGetPacket(buf[:size])
	assert.Equal(t, IPQID(0x01020304), p.PacketID)
	assert.Equal(t, "veth0", p.IndevName)
	assert.Equal(t, "a-very-long-int", p.OutdevName)
	assert.Equal(t, uint16(0x86dd), p.HWProtocol)
	assert.Equal(t, uint8(6), p.HWAddrLen)
	assert.Equal(t, "0123456789abc", string(p.Payload))
	assert.Equal(t, int64(123456), p.TimestampUsec)
}

func TestEncodeIPQPacketTruncatedKeepsTheID(t *testing.T) {
	c := testPacketContent()
	for _, n := range []int{IPQMinReadLen, 24, 100, 120} {
		buf := make([]byte, n)
		size, written := encodeIPQPacket(buf, &c)
		assert.Equal(t, n, written)
		assert.Greater(t, size, written)
		assert.Equal(t, uint32(size), binary.NativeEndian.Uint32(buf), "nlmsg_len tells the full size")
		assert.Equal(t, uint32(0x01020304), binary.NativeEndian.Uint32(buf[16:]), "low half of packet_id")
		p := IPQGetPacket(buf)
		if n >= 24 {
			assert.Equal(t, IPQID(0x01020304), p.PacketID)
		}
		assert.LessOrEqual(t, len(p.Payload), max(0, n-112))
	}
}

func TestEncodeIPQError(t *testing.T) {
	buf := make([]byte, 64)
	size, written := encodeIPQError(buf, syscall.ENOENT, IPQMVerdict, 40)
	require.Equal(t, 36, size)
	require.Equal(t, 36, written)
	assert.Equal(t, NLMsgError, IPQMessageType(buf))
	assert.Equal(t, int(syscall.ENOENT), IPQGetMsgErr(buf))
	ne := binary.NativeEndian
	assert.Equal(t, uint32(40), ne.Uint32(buf[20:]), "the refused request's length")
	assert.Equal(t, uint16(IPQMVerdict), ne.Uint16(buf[24:]), "and type")
}

func TestIPQMessageFunctionsOnShortBuffers(t *testing.T) {
	assert.Equal(t, 0, IPQMessageType(nil))
	assert.Equal(t, 0, IPQGetMsgErr([]byte{1, 2}))
	p := IPQGetPacket(make([]byte, 10))
	assert.Zero(t, p.PacketID)
	assert.Nil(t, p.Payload)
}

func TestIPQQueueFromEnv(t *testing.T) {
	t.Setenv("LIBIPQ_QUEUE", "")
	n, err := ipqQueueFromEnv(ipqIPv4)
	require.NoError(t, err)
	assert.Equal(t, uint16(0), n)
	t.Setenv("LIBIPQ_QUEUE", "7")
	t.Setenv("LIBIPQ_QUEUE_IPV6", "9")
	n, _ = ipqQueueFromEnv(ipqIPv4)
	assert.Equal(t, uint16(7), n)
	n, _ = ipqQueueFromEnv(ipqIPv6)
	assert.Equal(t, uint16(9), n)
	t.Setenv("LIBIPQ_QUEUE", "70000")
	_, err = ipqQueueFromEnv(ipqIPv4)
	assert.Error(t, err)
}

func TestIPQCreateRefusesUnknownProtocol(t *testing.T) {
	resetIPQErrors()
	defer resetIPQErrors()
	assert.Nil(t, IPQCreateHandle(0, 99))
	assert.Equal(t, IPQErrProtocol, IPQErrno())
	assert.Equal(t, "Invalid protocol specified", IPQErrStr())
}

func TestIPQNilHandle(t *testing.T) {
	resetIPQErrors()
	defer resetIPQErrors()
	assert.Equal(t, 0, IPQDestroyHandle(nil))
	assert.Equal(t, -1, IPQRead(nil, make([]byte, 64), -1))
	assert.Equal(t, -1, IPQSetMode(nil, IPQCopyMeta, 0))
	assert.Equal(t, -1, IPQSetVerdict(nil, 1, Accept, 0, nil))
	assert.Equal(t, IPQErrSend, IPQErrno())
	assert.Equal(t, 1, IPQCtl(nil, 0))
}

func TestIPQPerrorWritesTheLineToStderr(t *testing.T) {
	resetIPQErrors()
	defer resetIPQErrors()
	r, w, err := os.Pipe()
	require.NoError(t, err)
	saved := os.Stderr
	os.Stderr = w
	IPQPerror("")
	IPQCreateHandle(0, 99)
	IPQPerror("create")
	ipqFail(IPQErrBind, syscall.EBUSY)
	IPQPerror("passer")
	os.Stderr = saved
	w.Close()
	out, err := io.ReadAll(r)
	require.NoError(t, err)
	assert.Equal(t, "ERROR\ncreate: Invalid protocol specified\npasser: Unable to bind netlink socket: Device or resource busy\n", string(out))
}
