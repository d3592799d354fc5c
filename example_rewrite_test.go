//go:build linux && cgo

package nfq_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"

	"github.com/nfq-go/nfq"
)

// udpHello is an IPv4 UDP datagram 192.0.2.1:40000 -> 192.0.2.53:53 with
// the payload "hello" and correct checksums.
func udpHello() []byte {
	return []byte{
		0x45, 0, 0, 33, 0, 1, 0x40, 0, 64, 17, 0xb6, 0x94, // IPv4, total length 33, DF, TTL 64, UDP
		192, 0, 2, 1, 192, 0, 2, 53, // addresses
		0x9c, 0x40, 0, 53, 0, 13, 0x9b, 0x55, // UDP 40000 -> 53, length 13, checksum
		'h', 'e', 'l', 'l', 'o',
	}
}

// tcpGet is an IPv4 TCP segment 192.0.2.1:40000 -> 192.0.2.80:80 with
// sequence number 1000, acknowledgment 2000, flags PSH and ACK, and the
// payload "GET ".
func tcpGet() []byte {
	return []byte{
		0x45, 0, 0, 44, 0, 1, 0x40, 0, 64, 6, 0xb6, 0x79, // IPv4, total length 44, DF, TTL 64, TCP
		192, 0, 2, 1, 192, 0, 2, 80, // addresses
		0x9c, 0x40, 0, 80, 0, 0, 0x03, 0xe8, 0, 0, 0x07, 0xd0, // ports, seq 1000, ack 2000
		0x50, 0x18, 0xff, 0xff, 0xe7, 0xc8, 0, 0, // 20-byte header, PSH|ACK, window, checksum
		'G', 'E', 'T', ' ',
	}
}

// tcpReply is the server's acknowledgment of 1010 in tcpGet's connection: 192.0.2.80:80 -> 192.0.2.1:40000, seq 2000, flag ACK.
func tcpReply() []byte {
	return []byte{
		0x45, 0, 0, 40, 0, 2, 0x40, 0, 64, 6, 0xb6, 0x7c, // IPv4, total length 40, DF, TTL 64, TCP
		192, 0, 2, 80, 192, 0, 2, 1, // addresses
		0, 80, 0x9c, 0x40, 0, 0, 0x07, 0xd0, 0, 0, 0x03, 0xf2, // ports, seq 2000, ack 1010
		0x50, 0x10, 0xff, 0xff, 0x83, 0x30, 0, 0, // 20-byte header, ACK, window, checksum
	}
}

// Replace "hello" by a longer word: the IP and UDP lengths and all the
// checksums of the new packet are right.
func ExampleMangleTransport() {
	pkt := udpHello()
	out, err := nfq.MangleTransport(pkt, 0, 5, []byte("HOWDY-DOODY"))
	if err != nil {
		fmt.Println(err)
		return
	}
	h := nfq.ParseHeaders(out)
	fmt.Printf("%q, %d bytes, IPv4 total length %d, UDP length %d\n", h.Payload(out), len(out),
		h.Length, binary.BigEndian.Uint16(out[h.TransportOffset+4:]))
	fmt.Printf("checksums: IPv4 %#04x, UDP %#04x\n", out[10:12], out[h.TransportOffset+6:h.TransportOffset+8])

	_, err = nfq.MangleTransport(pkt[:30], 0, 5, nil) // cut by the copy range
	fmt.Println(err)
	// Output:
	// "HOWDY-DOODY", 39 bytes, IPv4 total length 39, UDP length 19
	// checksums: IPv4 0xb68e, UDP 0xf9c6
	// nfq: mangle transport payload: packet truncated: have 30 of the 33 bytes the IP header gives (a rewrite needs the whole packet: raise Config.CopyRange to MaxCopyRange)
}

// Replace "hello" with "HOWDY-DOODY" in the first UDP payload position where
// it occurs, with lengths and checksums fixed by the C library, and accept
// the packet with its new bytes.
func ExampleMangleTransport_queue() {
	q, err := nfq.Open(nfq.Config{Queue: 7, DefaultVerdict: nfq.Accept})
	if err != nil {
		return
	}
	defer q.Close()
	packets, err := q.Packets(context.Background())
	if err != nil {
		return
	}
	for p := range packets {
		h := nfq.ParseHeaders(p.Payload)
		if h.CheckRewritable() != nil || h.Protocol != nfq.ProtoUDP {
			p.Accept() // cannot be rewritten, or not ours to: pass it on
			continue
		}
		i := bytes.Index(h.Payload(p.Payload), []byte("hello"))
		if i < 0 {
			p.Accept()
			continue
		}
		out, err := nfq.MangleTransport(p.Payload, i, 5, []byte("HOWDY-DOODY"))
		if err != nil {
			p.Accept()
			continue
		}
		p.AcceptWithPayload(out)
	}
}

// Change the destination port in place, then let the C library recompute
// the checksums.
func ExampleFixChecksums() {
	pkt := udpHello()
	h := nfq.ParseHeaders(pkt)
	binary.BigEndian.PutUint16(pkt[h.TransportOffset+2:], 5353)
	fmt.Printf("UDP checksum before %#04x\n", pkt[h.TransportOffset+6:h.TransportOffset+8])
	if err := nfq.FixChecksums(pkt); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("UDP checksum after %#04x, port %d\n", pkt[h.TransportOffset+6:h.TransportOffset+8],
		nfq.ParseHeaders(pkt).DstPort)
	// Output:
	// UDP checksum before 0x9b55
	// UDP checksum after 0x86a1, port 5353
}

// After MangleTransport made an earlier segment of the client 6 bytes
// longer, the client's later segments move up by 6 and the server's
// acknowledgments of them come down by 6.
func ExampleAdjustTCPSeq() {
	later := tcpGet() // the client's next segment, 1000-1004: the server expects it at 1006
	if err := nfq.AdjustTCPSeq(later, 6, 0); err != nil {
		fmt.Println(err)
		return
	}
	h := nfq.ParseHeaders(later)
	fmt.Printf("client: seq %d, ack %d, checksum %#04x\n", h.Seq, h.Ack, later[h.TransportOffset+16:h.TransportOffset+18])

	reply := tcpReply() // the server acknowledges it: 1010, which is 1004 for the client
	if err := nfq.AdjustTCPSeq(reply, 0, -6); err != nil {
		fmt.Println(err)
		return
	}
	h = nfq.ParseHeaders(reply)
	fmt.Printf("server: seq %d, ack %d\n", h.Seq, h.Ack)

	fmt.Println(nfq.AdjustTCPSeq(udpHello(), 6, 0))
	// Output:
	// client: seq 1006, ack 2000, checksum 0xe7c2
	// server: seq 2000, ack 1004
	// nfq: adjust TCP sequence numbers: transport protocol not supported: IP protocol 17 (only TCP has sequence numbers)
}
