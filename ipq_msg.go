package nfq

import "encoding/binary"

// The legacy message layout: what ipq_read puts in the caller's buffer. A
// struct nlmsghdr, then an ipq_packet_msg_t and its payload, or a struct
// nlmsgerr. Sizes and offsets are the LP64 ones of <linux/netfilter_ipv4/
// ip_queue.h>; a unit test checks them against the C header.
const (
	// IPQMinReadLen is the smallest buffer ipq_read accepts: a netlink
	// header plus an error code (sizeof(struct nlmsgerr)).
	IPQMinReadLen = ipqNlmsgErrLen

	ipqNlmsgHdrLen  = 16 // sizeof(struct nlmsghdr)
	ipqNlmsgErrLen  = 20 // sizeof(struct nlmsgerr)
	ipqPacketMsgLen = 96 // sizeof(ipq_packet_msg_t)
	ipqIfNameLen    = 16 // IFNAMSIZ

	// Offsets in ipq_packet_msg_t.
	ipqOffPacketID  = 0
	ipqOffMark      = 8
	ipqOffTsSec     = 16
	ipqOffTsUsec    = 24
	ipqOffHook      = 32
	ipqOffIndev     = 36
	ipqOffOutdev    = 52
	ipqOffHWProto   = 68
	ipqOffHWType    = 70
	ipqOffHWAddrLen = 72
	ipqOffHWAddr    = 73
	ipqOffDataLen   = 88
)

// Message types, copy modes and protocols of libipq.
const (
	IPQMBase      = 0x10          // IPQM_BASE
	IPQMMode      = IPQMBase + 1  // IPQM_MODE: userspace sets the copy mode
	IPQMVerdict   = IPQMBase + 2  // IPQM_VERDICT: userspace gives a verdict
	IPQMPacket    = IPQMBase + 3  // IPQM_PACKET: a queued packet
	IPQMMax       = IPQMBase + 4  // IPQM_MAX
	NLMsgError    = 0x2           // NLMSG_ERROR: an error report (IPQGetMsgErr)
	NLMsgDone     = 0x3           // NLMSG_DONE
	NFProtoIPv4   = 2             // NFPROTO_IPV4 (= PF_INET)
	NFProtoIPv6   = 10            // NFPROTO_IPV6 (= PF_INET6)
	IPQCopyNone   = 0             // IPQ_COPY_NONE: the queue drops every packet
	IPQCopyMeta   = 1             // IPQ_COPY_META: metadata only
	IPQCopyPacket = 2             // IPQ_COPY_PACKET: metadata and payload
	IPQCopyMax    = IPQCopyPacket // IPQ_COPY_MAX
)

// IPQID is libipq's ipq_id_t, a packet id (unsigned long in C).
type IPQID uint64

// IPQPacketMsg is ipq_packet_msg_t read from a buffer filled by IPQRead.
type IPQPacketMsg struct {
	PacketID      IPQID  // id for IPQSetVerdict
	Mark          uint64 // packet mark
	TimestampSec  int64  // the packet's timestamp, 0 when the kernel sent none
	TimestampUsec int64
	Hook          uint32 // netfilter hook (HookPrerouting ... HookPostrouting)
	IndevName     string // input interface, "" if none
	OutdevName    string // output interface, "" if none
	HWProtocol    uint16 // EtherType in host order (the C field is in network order)
	HWType        uint16 // ARPHRD_* of the input interface, 0 if none
	HWAddrLen     uint8
	HWAddr        [8]byte
	DataLen       uint64 // payload length, as the message says
	// Payload is the payload in the buffer (no copy), cut short when the
	// message was truncated.
	Payload []byte
}

// ipqHeader returns the first n bytes of buf, zero-padded if buf is
// shorter, so that a short buffer reads as zeros instead of panicking.
func ipqHeader(buf []byte, n int) []byte {
	if len(buf) >= n {
		return buf[:n]
	}
	b := make([]byte, n)
	copy(b, buf)
	return b
}

// IPQMessageType returns the type of the message in buf: IPQMPacket or
// NLMsgError.
//
// It stands for ipq_message_type(3). Modern API: Queue.Packets delivers
// packets; errors come back as error values.
func IPQMessageType(buf []byte) int {
	return int(binary.NativeEndian.Uint16(ipqHeader(buf, ipqNlmsgHdrLen)[4:]))
}

// IPQGetMsgErr returns the (positive) errno of an NLMsgError message.
//
// It stands for ipq_get_msgerr(3). Modern API: Config.OnError.
func IPQGetMsgErr(buf []byte) int {
	b := ipqHeader(buf, ipqNlmsgHdrLen+4)
	return -int(int32(binary.NativeEndian.Uint32(b[ipqNlmsgHdrLen:])))
}

// IPQGetPacket decodes the packet message in buf. Payload aliases buf.
// Fields past the end of a truncated message read as zero.
//
// It stands for ipq_get_packet(3), which returns a pointer into the buffer.
// Modern API: the fields of Packet.
func IPQGetPacket(buf []byte) *IPQPacketMsg {
	m := ipqHeader(buf, ipqNlmsgHdrLen+ipqPacketMsgLen)[ipqNlmsgHdrLen:]
	ne := binary.NativeEndian
	p := &IPQPacketMsg{
		PacketID:      IPQID(ne.Uint64(m[ipqOffPacketID:])),
		Mark:          ne.Uint64(m[ipqOffMark:]),
		TimestampSec:  int64(ne.Uint64(m[ipqOffTsSec:])),
		TimestampUsec: int64(ne.Uint64(m[ipqOffTsUsec:])),
		Hook:          ne.Uint32(m[ipqOffHook:]),
		IndevName:     cString(m[ipqOffIndev : ipqOffIndev+ipqIfNameLen]),
		OutdevName:    cString(m[ipqOffOutdev : ipqOffOutdev+ipqIfNameLen]),
		HWProtocol:    binary.BigEndian.Uint16(m[ipqOffHWProto:]),
		HWType:        ne.Uint16(m[ipqOffHWType:]),
		HWAddrLen:     m[ipqOffHWAddrLen],
		DataLen:       ne.Uint64(m[ipqOffDataLen:]),
	}
	copy(p.HWAddr[:], m[ipqOffHWAddr:])
	if start := ipqNlmsgHdrLen + ipqPacketMsgLen; len(buf) > start {
		end := uint64(len(buf))
		if s := uint64(start) + p.DataLen; s >= uint64(start) && s < end {
			end = s
		}
		p.Payload = buf[start:end:end]
	}
	return p
}

func cString(b []byte) string {
	for i, c := range b {
		if c == 0 {
			return string(b[:i])
		}
	}
	return string(b)
}
