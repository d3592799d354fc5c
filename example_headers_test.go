package nfq_test

import (
	"fmt"
	"net/netip"

	"github.com/nfq-go/nfq"
)

// Decode a DNS query over IPv6 that carries a destination options header,
// then the same packet as a copy range of 44 bytes would deliver it.
func ExampleParseHeaders() {
	pkt := []byte{
		0x60, 0, 0, 0, 0, 18, 60, 64, // IPv6, payload length 18, next: destination options
		0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, // 2001:db8::1
		0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x53, // 2001:db8::53
		17, 0, 1, 4, 0, 0, 0, 0, // destination options (8 bytes, PadN), next: UDP
		0x9c, 0x40, 0, 53, 0, 10, 0x9f, 0x35, // UDP 40000 -> 53, length 10, checksum
		'h', 'i',
	}
	h := nfq.ParseHeaders(pkt)
	if h.Has(nfq.HeaderPorts) && h.Protocol == nfq.ProtoUDP {
		fmt.Println("UDP", netip.AddrPortFrom(h.Src, h.SrcPort), "->", netip.AddrPortFrom(h.Dst, h.DstPort))
	}
	fmt.Printf("UDP header at %d, payload %q, rewritable: %v\n", h.TransportOffset, h.Payload(pkt), h.CheckRewritable() == nil)

	cut := nfq.ParseHeaders(pkt[:44])
	fmt.Printf("%v; addresses %v, ports %v\n", cut.Truncated, cut.Has(nfq.HeaderIP), cut.Has(nfq.HeaderPorts))
	fmt.Println(cut.CheckRewritable())
	// Output:
	// UDP [2001:db8::1]:40000 -> [2001:db8::53]:53
	// UDP header at 48, payload "hi", rewritable: true
	// truncated in the network headers; addresses true, ports false
	// nfq: check headers: packet truncated: have 44 of the 58 bytes the IP header gives (a rewrite needs the whole packet: raise Config.CopyRange to MaxCopyRange)
}
