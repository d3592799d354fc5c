package nfq

import "fmt"

// ConnState is how a packet relates to its conntrack entry (the kernel's
// enum ip_conntrack_info, as iptables -m conntrack --ctstate sees it).
// ConnEstablished is 0: check Packet.Has(AttrConnState) before trusting it.
type ConnState uint32

// Connection states of a tracked packet.
const (
	ConnEstablished      ConnState = 0 // IP_CT_ESTABLISHED: part of a connection seen both ways
	ConnRelated          ConnState = 1 // IP_CT_RELATED: opens a connection related to another (FTP data, ICMP error)
	ConnNew              ConnState = 2 // IP_CT_NEW: the first packet(s) of a connection
	ConnEstablishedReply ConnState = 3 // IP_CT_ESTABLISHED_REPLY: ConnEstablished, in the reply direction
	ConnRelatedReply     ConnState = 4 // IP_CT_RELATED_REPLY: ConnRelated, in the reply direction
)

// IsReply reports whether the packet travels in the reply direction of its
// connection.
func (s ConnState) IsReply() bool { return s == ConnEstablishedReply || s == ConnRelatedReply }

func (s ConnState) String() string {
	switch s {
	case ConnEstablished:
		return "ESTABLISHED"
	case ConnRelated:
		return "RELATED"
	case ConnNew:
		return "NEW"
	case ConnEstablishedReply:
		return "ESTABLISHED_REPLY"
	case ConnRelatedReply:
		return "RELATED_REPLY"
	}
	return fmt.Sprintf("connstate(%d)", uint32(s))
}

// VLANID returns the VLAN identifier (the low 12 bits of VLANTCI); check
// Packet.Has(AttrVLAN) first.
func (p *Packet) VLANID() uint16 { return p.VLANTCI & 0x0fff }

// WithConnMark sets the mark of the packet's connection (the conntrack
// entry's mark, which iptables -m connmark and CONNMARK --restore-mark see)
// along with the verdict, whatever the verdict is: marking a connection and
// dropping its packet is allowed. It combines with WithMark and WithPayload.
//
// The kernel applies a connection mark only on a queue opened with
// FlagConntrack and only to a tracked packet, and ignores it silently
// otherwise; so SetVerdict refuses it, with an error wrapping
// ErrInvalidVerdict and sending nothing, on a queue without FlagConntrack
// and for a packet without AttrConntrack. A verdict carrying a connection
// mark always leaves as a message of its own (the kernel ignores connection
// marks in batch verdicts).
func WithConnMark(mark uint32) VerdictOption {
	return VerdictOption{kind: optConnMark, mark: mark}
}

// connMarkAllowed refuses a connection mark the kernel would ignore.
func (p *Packet) connMarkAllowed(v Verdict) error {
	op := fmt.Sprintf("verdict %s for packet %d", v, p.ID)
	if p.q.cfg.Flags&FlagConntrack == 0 {
		return &OpError{Op: op, Queue: p.Queue, Err: fmt.Errorf("%w: WithConnMark on a queue without FlagConntrack", ErrInvalidVerdict),
			Hint: "open the queue with FlagConntrack: without it the kernel ignores connection marks; nothing was sent"}
	}
	if !p.Has(AttrConntrack) {
		return &OpError{Op: op, Queue: p.Queue, Err: fmt.Errorf("%w: WithConnMark for a packet without a conntrack entry", ErrInvalidVerdict),
			Hint: "the packet is untracked (no AttrConntrack), so there is no connection to mark; nothing was sent"}
	}
	return nil
}
