package main

import (
	"fmt"
	"net/netip"
	"strconv"

	"github.com/nfq-go/nfq"
)

// protoNames are the protocols the passer names; others are "other(N)".
var protoNames = map[uint8]string{nfq.ProtoICMP: "ICMP", nfq.ProtoTCP: "TCP", nfq.ProtoUDP: "UDP", nfq.ProtoICMPv6: "ICMPv6"}

// describe formats the network and transport headers of b, an NFQUEUE
// payload (it starts at the IP header), as "UDP 127.0.0.1:40000 ->
// 127.0.0.1:9999". Ports and the ICMP type are shown when their bytes are
// in b: a later fragment or a packet cut by the copy range has none.
func describe(b []byte) string {
	h := nfq.ParseHeaders(b)
	switch {
	case len(b) == 0:
		return "(no payload)"
	case !h.Has(nfq.HeaderIP):
		return fmt.Sprintf("(no IPv4 or IPv6 header: %d bytes of version %d)", len(b), h.Version)
	}
	name, ok := protoNames[h.Protocol]
	if !ok {
		name = "other(" + strconv.Itoa(int(h.Protocol)) + ")"
	}
	switch {
	case h.Has(nfq.HeaderPorts):
		return fmt.Sprintf("%s %s -> %s", name, netip.AddrPortFrom(h.Src, h.SrcPort), netip.AddrPortFrom(h.Dst, h.DstPort))
	case h.Has(nfq.HeaderICMP):
		return fmt.Sprintf("%s %s -> %s type %d code %d", name, h.Src, h.Dst, h.ICMPType, h.ICMPCode)
	}
	return fmt.Sprintf("%s %s -> %s", name, h.Src, h.Dst)
}
