package main

import (
	"encoding/binary"
	"fmt"
	"net/netip"
)

// headers is what nfqdump reads from a packet's network and transport
// headers. The C twin (cmd/nfqdump-c) decodes the same way: keep them alike.
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

// IP protocol numbers.
const (
	ipprotoHopOpts  = 0
	ipprotoICMP     = 1
	ipprotoTCP      = 6
	ipprotoUDP      = 17
	ipprotoRouting  = 43
	ipprotoFragment = 44
	ipprotoICMPv6   = 58
	ipprotoDstOpts  = 60
)

// decode reads the IPv4 or IPv6 packet b (an NFQUEUE payload starts at the
// network header). Transport fields are set only when their bytes are in b
// (the copy range may cut them) and b is not a later fragment.
func decode(b []byte) (headers, error) {
	var h headers
	if len(b) == 0 {
		return h, fmt.Errorf("no payload")
	}
	var proto uint8
	var l4 []byte
	first := true
	switch b[0] >> 4 {
	case 4:
		if len(b) < 20 {
			return h, fmt.Errorf("IPv4 header cut at %d bytes", len(b))
		}
		ihl := int(b[0]&0x0f) * 4
		if ihl < 20 || ihl > len(b) {
			return h, fmt.Errorf("bad IPv4 header length %d", ihl)
		}
		proto = b[9]
		h.Src = netip.AddrFrom4([4]byte(b[12:16]))
		h.Dst = netip.AddrFrom4([4]byte(b[16:20]))
		first = binary.BigEndian.Uint16(b[6:8])&0x1fff == 0
		l4 = b[ihl:]
	case 6:
		if len(b) < 40 {
			return h, fmt.Errorf("IPv6 header cut at %d bytes", len(b))
		}
		h.Src = netip.AddrFrom16([16]byte(b[8:24]))
		h.Dst = netip.AddrFrom16([16]byte(b[24:40]))
		proto, l4, first = skipIPv6Extensions(b[6], b[40:])
	default:
		return h, fmt.Errorf("IP version %d", b[0]>>4)
	}
	if !first {
		l4 = nil
	}
	switch proto {
	case ipprotoTCP, ipprotoUDP:
		h.Proto = "UDP"
		if proto == ipprotoTCP {
			h.Proto = "TCP"
		}
		if len(l4) >= 4 {
			h.HasPorts = true
			h.SrcPort = binary.BigEndian.Uint16(l4[0:2])
			h.DstPort = binary.BigEndian.Uint16(l4[2:4])
		}
		if proto == ipprotoTCP && len(l4) >= 14 {
			h.HasFlags, h.TCPFlags = true, l4[13]
		}
	case ipprotoICMP, ipprotoICMPv6:
		h.Proto = "ICMP"
		if proto == ipprotoICMPv6 {
			h.Proto = "ICMPv6"
		}
		if len(l4) >= 2 {
			h.HasICMP, h.ICMPType, h.ICMPCode = true, l4[0], l4[1]
		}
	default:
		h.Proto = fmt.Sprintf("proto(%d)", proto)
	}
	return h, nil
}

// skipIPv6Extensions follows the extension header chain to the transport
// header. It returns the transport protocol, its bytes (nil when cut) and
// whether this is the first fragment (or not a fragment).
func skipIPv6Extensions(next uint8, b []byte) (uint8, []byte, bool) {
	first := true
	for {
		switch next {
		case ipprotoHopOpts, ipprotoRouting, ipprotoDstOpts:
			if len(b) < 2 || len(b) < (int(b[1])+1)*8 {
				return next, nil, first
			}
			next, b = b[0], b[(int(b[1])+1)*8:]
		case ipprotoFragment:
			if len(b) < 8 {
				return next, nil, first
			}
			first = binary.BigEndian.Uint16(b[2:4])&0xfff8 == 0
			next, b = b[0], b[8:]
		default:
			return next, b, first
		}
	}
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
