package main

import (
	"errors"
	"fmt"
	"net/netip"

	"github.com/nfq-go/nfq"
)

// headers is what nfqdump shows of a packet's network and transport
// headers, as nfq.ParseHeaders decodes them. The C twin (cmd/nfqdump-c)
// decodes by the same rules: keep them alike.
type headers struct {
	Proto    string // "ICMP", "ICMPv6", "TCP", "UDP" or "proto(N)"
	Src, Dst netip.Addr

	HasPorts         bool // TCP or UDP with the ports in the payload
	SrcPort, DstPort uint16
	HasFlags         bool // TCP with the flags byte in the payload
	TCPFlags         uint8
	HasICMP          bool // ICMP or ICMPv6 with type and code in the payload
	ICMPType         uint8
	ICMPCode         uint8
}

// decode reads the IPv4 or IPv6 packet b (an NFQUEUE payload starts at the
// network header). Transport fields are set only when their bytes are in b
// (the copy range may cut them) and b is not a later fragment. The error
// says why b has no IP header to show.
func decode(b []byte) (headers, error) {
	h := nfq.ParseHeaders(b)
	if !h.Has(nfq.HeaderIP) {
		return headers{}, notIP(b, h)
	}
	d := headers{Proto: protoName(h.Protocol), Src: h.Src, Dst: h.Dst}
	if h.Has(nfq.HeaderPorts) {
		d.HasPorts, d.SrcPort, d.DstPort = true, h.SrcPort, h.DstPort
	}
	if h.Has(nfq.HeaderTCP) {
		d.HasFlags, d.TCPFlags = true, h.TCPFlags
	}
	if h.Has(nfq.HeaderICMP) {
		d.HasICMP, d.ICMPType, d.ICMPCode = true, h.ICMPType, h.ICMPCode
	}
	return d, nil
}

// notIP says why ParseHeaders found no IP header in b.
func notIP(b []byte, h nfq.Headers) error {
	switch {
	case len(b) == 0:
		return errors.New("no payload")
	case h.Version == 4 && len(b) < 20:
		return fmt.Errorf("IPv4 header cut at %d bytes", len(b))
	case h.Version == 4:
		return fmt.Errorf("bad IPv4 header length %d", int(b[0]&0x0f)*4)
	case h.Version == 6:
		return fmt.Errorf("IPv6 header cut at %d bytes", len(b))
	}
	return fmt.Errorf("IP version %d", h.Version)
}

func protoName(p uint8) string {
	switch p {
	case nfq.ProtoTCP:
		return "TCP"
	case nfq.ProtoUDP:
		return "UDP"
	case nfq.ProtoICMP:
		return "ICMP"
	case nfq.ProtoICMPv6:
		return "ICMPv6"
	}
	return fmt.Sprintf("proto(%d)", p)
}

// tcpFlagLetters name the TCP flag bits from the lowest: FIN SYN RST PSH
// ACK URG ECE CWR.
const tcpFlagLetters = "FSRPAUEC"

// tcpFlags spells the set flags in bit order, "SA" for SYN+ACK; "none"
// when no flag is set.
func tcpFlags(f uint8) string {
	var s []byte
	for i := range 8 {
		if f&(1<<i) != 0 {
			s = append(s, tcpFlagLetters[i])
		}
	}
	if len(s) == 0 {
		return "none"
	}
	return string(s)
}
