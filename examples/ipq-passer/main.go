// Command ipq-passer is the example program of the libipq(3) man page,
// written in Go with nfq's libipq compatibility functions: it takes the
// packets that `iptables -j QUEUE` sends to userspace and accepts each one.
// It shows how a legacy program maps onto the compat API line by line; new
// programs should use nfq.Open and Queue.Packets instead (see
// examples/passer).
//
//	iptables-legacy -A OUTPUT -p icmp -j QUEUE
//	go run ./examples/ipq-passer        (-6 for IPv6, with ip6tables)
//
// It needs CAP_NET_ADMIN. LIBIPQ_QUEUE=n serves queue n instead of 0.
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/nfq-go/nfq"
)

const bufSize = 2048

func die(h *nfq.IPQHandle) {
	nfq.IPQPerror("passer")
	nfq.IPQDestroyHandle(h)
	os.Exit(1)
}

func main() {
	ipv6 := flag.Bool("6", false, "take IPv6 packets instead of IPv4")
	flag.Parse()
	protocol := uint32(nfq.NFProtoIPv4)
	if *ipv6 {
		protocol = nfq.NFProtoIPv6
	}

	h := nfq.IPQCreateHandle(0, protocol)
	if h == nil {
		die(h)
	}
	if nfq.IPQSetMode(h, nfq.IPQCopyPacket, bufSize) < 0 {
		die(h)
	}

	buf := make([]byte, bufSize)
	for {
		if nfq.IPQRead(h, buf, 0) < 0 {
			die(h)
		}
		switch nfq.IPQMessageType(buf) {
		case nfq.NLMsgError:
			fmt.Fprintf(os.Stderr, "Received error message %d\n", nfq.IPQGetMsgErr(buf))
		case nfq.IPQMPacket:
			m := nfq.IPQGetPacket(buf)
			if nfq.IPQSetVerdict(h, m.PacketID, nfq.Accept, 0, nil) < 0 {
				die(h)
			}
		default:
			fmt.Fprintln(os.Stderr, "Unknown message type!")
		}
	}
}
