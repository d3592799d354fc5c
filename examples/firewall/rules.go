package main

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// rule drops the packets that match every condition it has. The zero rule
// matches everything.
type rule struct {
	text     string
	proto    uint8 // IP protocol number; 0 for any
	src, dst netip.Prefix
	sport    portRange
	dport    portRange
}

type portRange struct{ lo, hi uint16 } // hi 0: any port

func (r portRange) any() bool            { return r.hi == 0 }
func (r portRange) has(port uint16) bool { return r.lo <= port && port <= r.hi }

var protocols = map[string]uint8{"icmp": 1, "tcp": 6, "udp": 17, "icmpv6": 58}

// parseRule reads a rule: comma-separated conditions among tcp, udp, icmp,
// icmpv6, src=CIDR, dst=CIDR, sport=PORT[-PORT] and dport=PORT[-PORT].
// An address without a prefix length is a single host.
func parseRule(s string) (rule, error) {
	r := rule{text: s}
	if strings.TrimSpace(s) == "" {
		return r, fmt.Errorf("empty rule: it would drop everything")
	}
	for _, term := range strings.Split(s, ",") {
		key, val, hasVal := strings.Cut(strings.TrimSpace(term), "=")
		var err error
		switch {
		case !hasVal && protocols[key] != 0:
			if r.proto != 0 {
				return r, fmt.Errorf("rule %q: more than one protocol", s)
			}
			r.proto = protocols[key]
		case key == "src":
			r.src, err = parsePrefix(val)
		case key == "dst":
			r.dst, err = parsePrefix(val)
		case key == "sport":
			r.sport, err = parsePorts(val)
		case key == "dport":
			r.dport, err = parsePorts(val)
		default:
			return r, fmt.Errorf("rule %q: unknown condition %q (want tcp, udp, icmp, icmpv6, src=CIDR, dst=CIDR, sport=PORT[-PORT], dport=PORT[-PORT])", s, term)
		}
		if err != nil {
			return r, fmt.Errorf("rule %q: %s: %v", s, key, err)
		}
	}
	if (!r.sport.any() || !r.dport.any()) && r.proto != 0 && r.proto != protocols["tcp"] && r.proto != protocols["udp"] {
		return r, fmt.Errorf("rule %q: ports need tcp or udp", s)
	}
	return r, nil
}

func parsePrefix(s string) (netip.Prefix, error) {
	if !strings.Contains(s, "/") {
		a, err := netip.ParseAddr(s)
		if err != nil {
			return netip.Prefix{}, err
		}
		return netip.PrefixFrom(a, a.BitLen()), nil
	}
	p, err := netip.ParsePrefix(s)
	return p.Masked(), err
}

func parsePorts(s string) (portRange, error) {
	lo, hi, isRange := strings.Cut(s, "-")
	if !isRange {
		hi = lo
	}
	a, err := strconv.ParseUint(lo, 10, 16)
	if err != nil || a == 0 {
		return portRange{}, fmt.Errorf("bad port %q", lo)
	}
	b, err := strconv.ParseUint(hi, 10, 16)
	if err != nil || b < a {
		return portRange{}, fmt.Errorf("bad port range %q", s)
	}
	return portRange{uint16(a), uint16(b)}, nil
}

// matches reports whether the rule applies to the packet.
func (r rule) matches(p packetInfo) bool {
	if !p.ok {
		return false // not IP: no rule can say anything about it
	}
	if r.proto != 0 && r.proto != p.proto {
		return false
	}
	if r.src.IsValid() && !r.src.Contains(p.src) {
		return false
	}
	if r.dst.IsValid() && !r.dst.Contains(p.dst) {
		return false
	}
	if !r.sport.any() && (!p.hasPorts || !r.sport.has(p.sport)) {
		return false
	}
	if !r.dport.any() && (!p.hasPorts || !r.dport.has(p.dport)) {
		return false
	}
	return true
}

// packetInfo is what the rules look at.
type packetInfo struct {
	ok           bool
	proto        uint8
	src, dst     netip.Addr
	hasPorts     bool
	sport, dport uint16
}

// inspect reads an IPv4 or IPv6 packet. IPv6 extension headers are not
// followed, and later fragments have no ports: rules with ports do not
// match those (a CIDR or protocol rule still does).
func inspect(b []byte) packetInfo {
	var p packetInfo
	var l4 []byte
	switch {
	case len(b) >= 20 && b[0]>>4 == 4:
		ihl := int(b[0]&0x0f) * 4
		if ihl < 20 || ihl > len(b) {
			return p
		}
		p.proto = b[9]
		p.src = netip.AddrFrom4([4]byte(b[12:16]))
		p.dst = netip.AddrFrom4([4]byte(b[16:20]))
		if binary.BigEndian.Uint16(b[6:8])&0x1fff == 0 {
			l4 = b[ihl:]
		}
	case len(b) >= 40 && b[0]>>4 == 6:
		p.proto = b[6]
		p.src = netip.AddrFrom16([16]byte(b[8:24]))
		p.dst = netip.AddrFrom16([16]byte(b[24:40]))
		l4 = b[40:]
	default:
		return p
	}
	p.ok = true
	if (p.proto == 6 || p.proto == 17) && len(l4) >= 4 {
		p.hasPorts = true
		p.sport = binary.BigEndian.Uint16(l4[0:2])
		p.dport = binary.BigEndian.Uint16(l4[2:4])
	}
	return p
}

// firstMatch returns the index of the first rule that matches, or -1.
func firstMatch(rules []rule, p packetInfo) int {
	for i, r := range rules {
		if r.matches(p) {
			return i
		}
	}
	return -1
}
