package main

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"github.com/nfq-go/nfq"
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

var protocols = map[string]uint8{"icmp": nfq.ProtoICMP, "tcp": nfq.ProtoTCP, "udp": nfq.ProtoUDP, "icmpv6": nfq.ProtoICMPv6}

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

// matches reports whether the rule applies to the packet h describes.
// Ports are those of TCP and UDP, found behind IPv4 options and IPv6
// extension headers; a packet without them in its bytes (a later fragment,
// a header cut by the copy range) matches no rule with ports, while a CIDR
// or protocol rule still applies.
func (r rule) matches(h nfq.Headers) bool {
	if !h.Has(nfq.HeaderIP) {
		return false // not IP: no rule can say anything about it
	}
	if r.proto != 0 && r.proto != h.Protocol {
		return false
	}
	if r.src.IsValid() && !r.src.Contains(h.Src) {
		return false
	}
	if r.dst.IsValid() && !r.dst.Contains(h.Dst) {
		return false
	}
	if !r.sport.any() && (!h.Has(nfq.HeaderPorts) || !r.sport.has(h.SrcPort)) {
		return false
	}
	if !r.dport.any() && (!h.Has(nfq.HeaderPorts) || !r.dport.has(h.DstPort)) {
		return false
	}
	return true
}

// firstMatch returns the index of the first rule that matches, or -1.
func firstMatch(rules []rule, h nfq.Headers) int {
	for i, r := range rules {
		if r.matches(h) {
			return i
		}
	}
	return -1
}
