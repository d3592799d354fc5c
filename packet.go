package nfq

import (
	"fmt"
	"net"
	"sync/atomic"
	"time"
)

// Attr names a packet attribute that the kernel may or may not send. Use
// Packet.Has to tell an absent attribute from a zero one.
type Attr uint32

// Attributes with presence tracking.
const (
	AttrMark Attr = 1 << iota
	AttrTimestamp
	AttrInDev
	AttrOutDev
	AttrPhysInDev
	AttrPhysOutDev
	AttrHWAddr
	AttrPayload
	AttrCapLen
	AttrSkbInfo
	AttrUID
	AttrGID
	AttrSecCtx
	AttrConntrack  // the packet has a conntrack entry (FlagConntrack); the AttrConn* below come with it
	AttrConnState  // ConnState
	AttrConnID     // ConnID
	AttrConnMark   // ConnMark
	AttrConnStatus // ConnStatus
	AttrConnZone   // ConnZone
	AttrVLAN       // VLANProto and VLANTCI
	AttrL2Header   // L2Header
	AttrPriority   // Priority
)

// SkbInfo are the kernel's NFQA_SKB_* bits about the packet buffer.
type SkbInfo uint32

const (
	// SkbChecksumNotReady: the transport checksum is not computed yet
	// (typical on output with checksum offload, and for GSO packets).
	SkbChecksumNotReady SkbInfo = 1 << 0
	// SkbGSO: the packet is a GSO super-packet (only with FlagGSO).
	SkbGSO SkbInfo = 1 << 1
	// SkbChecksumNotVerified: the checksum was not verified by the stack.
	SkbChecksumNotVerified SkbInfo = 1 << 2
)

// Hook is the netfilter hook a packet was queued from (NF_INET_*).
type Hook uint8

// The netfilter hooks of the inet families.
const (
	HookPrerouting  Hook = 0
	HookInput       Hook = 1
	HookForward     Hook = 2
	HookOutput      Hook = 3
	HookPostrouting Hook = 4
)

func (h Hook) String() string {
	switch h {
	case HookPrerouting:
		return "PREROUTING"
	case HookInput:
		return "INPUT"
	case HookForward:
		return "FORWARD"
	case HookOutput:
		return "OUTPUT"
	case HookPostrouting:
		return "POSTROUTING"
	}
	return fmt.Sprintf("hook(%d)", uint8(h))
}

// Packet is a queued packet and the handle to give its verdict. Its fields
// are plain Go values that stay valid after the verdict.
//
// Every packet needs exactly one verdict (Accept, Drop, SetVerdict, ...),
// from any goroutine and at any time before the queue closes; packets left
// without one get Config.DefaultVerdict on Close. The kernel holds the
// packet, and counts it against the queue length, until then.
type Packet struct {
	Queue      uint16 // queue number
	ID         uint32 // packet id, unique per queue (wraps at 2^32)
	HWProtocol uint16 // EtherType of the packet (0x0800 IPv4, 0x86dd IPv6), host order
	Hook       Hook   // hook the packet was queued from

	Mark       uint32           // packet mark (skb->mark); AttrMark
	Timestamp  time.Time        // zero unless the kernel timestamped the packet; AttrTimestamp
	InDev      uint32           // input interface index, 0 if none; AttrInDev
	OutDev     uint32           // output interface index, 0 if none; AttrOutDev
	PhysInDev  uint32           // bridge port the packet came in on; AttrPhysInDev
	PhysOutDev uint32           // bridge port the packet goes out on; AttrPhysOutDev
	HWAddr     net.HardwareAddr // source hardware address, if known; AttrHWAddr
	SkbInfo    SkbInfo          // AttrSkbInfo
	UID, GID   uint32           // owner of the local socket (FlagUIDGID); AttrUID, AttrGID
	SecCtx     string           // security context (FlagSecCtx); AttrSecCtx

	// Conntrack, with FlagConntrack on a kernel that has
	// CONFIG_NETFILTER_NETLINK_GLUE_CT. Untracked packets have none of it.
	ConnState  ConnState // how the packet relates to its connection; AttrConnState
	ConnID     uint32    // conntrack entry id; AttrConnID
	ConnMark   uint32    // connection mark (ct mark, iptables -m connmark); AttrConnMark
	ConnStatus uint32    // IPS_* bits of <linux/netfilter/nf_conntrack_common.h>; AttrConnStatus
	ConnZone   uint16    // conntrack zone, sent only when not the default zone 0; AttrConnZone

	VLANProto uint16 // VLAN tag protocol (0x8100 802.1Q, 0x88a8 802.1ad); AttrVLAN
	VLANTCI   uint16 // VLAN tag control information (priority, DEI, VLAN ID); AttrVLAN
	// L2Header is the link-layer header (bridge-family queues); AttrL2Header.
	// A copy owned by the Packet, like Payload.
	L2Header []byte
	Priority uint32 // skb->priority (SO_PRIORITY, tc classes), sent when not 0; AttrPriority

	// Payload is the packet from its network (IP) header, up to the copy
	// range (at most MaxCopyRange, 65531 bytes); nil in CopyMeta mode.
	// A copy owned by the Packet.
	Payload []byte
	// OrigLen is the length of the whole packet, from its network header,
	// in CopyPacket mode. It is larger than len(Payload) when the copy
	// range cut the payload (the kernel then sent AttrCapLen). In CopyMeta
	// mode the kernel sends no length, and OrigLen is 0.
	OrigLen uint32

	attrs Attr
	q     *Queue
	state atomic.Uint32 // packetPending or packetDone
	// Its entry in Queue.undecided (guarded by Queue.vmu).
	track uint8
	seq   uint64
}

const (
	packetPending uint32 = iota
	packetDone
)

// Has reports whether the kernel sent attribute a with the packet.
func (p *Packet) Has(a Attr) bool { return p.attrs&a == a }

// Attrs returns the set of attributes the kernel sent with the packet. It
// prints as "mark|outdev|payload".
func (p *Packet) Attrs() Attr { return p.attrs }

// VLANID returns the VLAN identifier (the low 12 bits of VLANTCI); check
// Packet.Has(AttrVLAN) first.
func (p *Packet) VLANID() uint16 { return p.VLANTCI & 0x0fff }

// Accept lets the packet continue.
//
// Like every verdict method, it returns an error for what the package can
// check before sending (a second verdict, a closed queue, bad options) or
// when the send itself fails. The kernel does not acknowledge verdicts: one
// it refuses (an unknown packet id, a bad value) comes back later, from the
// receive loop, through Config.OnError and Stats.VerdictErrors.
func (p *Packet) Accept() error { return p.SetVerdict(Accept) }

// Drop discards the packet.
func (p *Packet) Drop() error { return p.SetVerdict(Drop) }

// AcceptWithMark lets the packet continue with its mark set to mark, so that
// later rules (iptables -m mark) see it.
func (p *Packet) AcceptWithMark(mark uint32) error {
	return p.SetVerdict(Accept, WithMark(mark))
}

// AcceptWithPayload lets the packet continue with its bytes, from the IP
// header on, replaced by payload. The kernel does not fix checksums: the
// caller must write a correct IP header and transport checksum.
func (p *Packet) AcceptWithPayload(payload []byte) error {
	return p.SetVerdict(Accept, WithPayload(payload))
}

// SetVerdict gives the packet its verdict, with options. It returns an error
// wrapping ErrVerdictGiven if the packet already has one, ErrClosed if the
// queue is closed (the packet then had the default verdict), and
// ErrInvalidVerdict or ErrPayloadTooLarge for bad arguments (among them a
// replacement payload shorter than the packet's IP header, which the kernel
// would drop); in those cases nothing is sent and the packet keeps its state.
func (p *Packet) SetVerdict(v Verdict, opts ...VerdictOption) error {
	r, err := buildVerdict(v, opts)
	if err == nil && r.hasPayload {
		err = p.checkReplacement(r.payload)
	}
	if err != nil {
		return &OpError{Op: fmt.Sprintf("verdict %s for packet %d", v, p.ID), Queue: p.Queue, Err: err}
	}
	if p.q == nil {
		return &OpError{Op: fmt.Sprintf("verdict for packet %d", p.ID), Queue: p.Queue, Err: ErrInvalidVerdict, Hint: "this Packet did not come from a queue"}
	}
	if r.setConnMark {
		if err := p.connMarkAllowed(v); err != nil {
			return err
		}
	}
	return p.q.sendVerdict(p, r)
}
