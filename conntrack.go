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
