package main

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"strconv"
)

// summary is what the passer prints about a packet's network and transport
// headers.
type summary struct {
	Proto    string // "ICMP", "ICMPv6", "TCP", "UDP" or "other(N)"
	Src, Dst netip.Addr
	// Ports are set for TCP and UDP when the header is in the payload.
	SrcPort, DstPort uint16
	HasPorts         bool
	// ICMP type and code, for ICMP and ICMPv6.
	ICMPType, ICMPCode uint8
	HasICMP            bool
}

// String formats s as "UDP 127.0.0.1:40000 -> 127.0.0.1:9999".
func (s summary) String() string {
	switch {
	case s.HasPorts:
		return fmt.Sprintf("%s %s -> %s", s.Proto,
			netip.AddrPortFrom(s.Src, s.SrcPort), netip.AddrPortFrom(s.Dst, s.DstPort))
	case s.HasICMP:
		return fmt.Sprintf("%s %s -> %s type %d code %d", s.Proto, s.Src, s.Dst, s.ICMPType, s.ICMPCode)
	}
	return fmt.Sprintf("%s %s -> %s", s.Proto, s.Src, s.Dst)
}

// IP protocol numbers.
const (
	protoHopByHop = 0
	protoICMP     = 1
	protoTCP      = 6
	protoUDP      = 17
	protoRouting  = 43
	protoFragment = 44
	protoICMPv6   = 58
	protoDestOpts = 60
)

// decode reads the IPv4 or IPv6 header at the start of b (an NFQUEUE payload
// starts at the network header) and the ports or ICMP type that follow.
func decode(b []byte) (summary, error) {
	if len(b) == 0 {
		return summary{}, fmt.Errorf("no payload")
	}
	var (
		s     summary
		proto uint8
		rest  []byte
		first = true // transport header present (not a later fragment)
	)
	switch b[0] >> 4 {
	case 4:
		if len(b) < 20 {
			return s, fmt.Errorf("IPv4 header truncated (%d bytes)", len(b))
		}
		ihl := int(b[0]&0x0f) * 4
		if ihl < 20 || len(b) < ihl {
			return s, fmt.Errorf("bad IPv4 header length %d", ihl)
		}
		proto = b[9]
		s.Src = netip.AddrFrom4([4]byte(b[12:16]))
		s.Dst = netip.AddrFrom4([4]byte(b[16:20]))
		first = binary.BigEndian.Uint16(b[6:8])&0x1fff == 0
		rest = b[ihl:]
	case 6:
		if len(b) < 40 {
			return s, fmt.Errorf("IPv6 header truncated (%d bytes)", len(b))
		}
		proto = b[6]
		s.Src = netip.AddrFrom16([16]byte(b[8:24]))
		s.Dst = netip.AddrFrom16([16]byte(b[24:40]))
		rest = b[40:]
		// Skip the common extension headers to reach the transport.
	ext:
		for {
			switch proto {
			case protoHopByHop, protoRouting, protoDestOpts:
				if len(rest) < 8 {
					rest = nil
					break ext
				}
				n := (int(rest[1]) + 1) * 8
				if len(rest) < n {
					rest = nil
					break ext
				}
				proto, rest = rest[0], rest[n:]
			case protoFragment:
				if len(rest) < 8 {
					rest = nil
					break ext
				}
				first = binary.BigEndian.Uint16(rest[2:4])&0xfff8 == 0
				proto, rest = rest[0], rest[8:]
			default:
				break ext
			}
		}
	default:
		return s, fmt.Errorf("not IPv4 or IPv6 (version %d)", b[0]>>4)
	}

	switch proto {
	case protoICMP, protoICMPv6:
		s.Proto = "ICMP"
		if proto == protoICMPv6 {
			s.Proto = "ICMPv6"
		}
		if first && len(rest) >= 2 {
			s.ICMPType, s.ICMPCode, s.HasICMP = rest[0], rest[1], true
		}
	case protoTCP, protoUDP:
		s.Proto = "TCP"
		if proto == protoUDP {
			s.Proto = "UDP"
		}
		if first && len(rest) >= 4 {
			s.SrcPort = binary.BigEndian.Uint16(rest[0:2])
			s.DstPort = binary.BigEndian.Uint16(rest[2:4])
			s.HasPorts = true
		}
	default:
		s.Proto = "other(" + strconv.Itoa(int(proto)) + ")"
	}
	return s, nil
}
