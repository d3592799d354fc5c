// Command rewriter replaces a string in the UDP payloads of an NFQUEUE
// queue's packets, fixing the IP and UDP lengths and checksums, and accepts
// every packet.
//
//	iptables -t mangle -A PREROUTING -p udp --dport 9999 -j NFQUEUE --queue-num 0
//	rewriter -queue 0 -from hello -to HOWDY
//
// The replacement may be longer or shorter than the original;
// nfq.MangleTransport fixes the lengths and checksums. Fragments, packets
// cut by the copy range and anything else that is not a whole UDP datagram
// pass unchanged. It prints a line per rewritten packet and, on SIGINT or SIGTERM,
// a summary.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/nfq-go/nfq"
)

func main() {
	queue := flag.Uint("queue", 0, "NFQUEUE queue number (0-65535)")
	from := flag.String("from", "", "string to replace in UDP payloads")
	to := flag.String("to", "", "replacement")
	flag.Parse()
	if *queue > 65535 || *from == "" || flag.NArg() > 0 {
		fmt.Fprintln(os.Stderr, "rewriter: usage: rewriter -queue N -from STRING -to STRING")
		os.Exit(2)
	}

	q, err := nfq.Open(nfq.Config{
		Queue:          uint16(*queue),
		DefaultVerdict: nfq.Accept, // unchanged is better than lost
		OnError:        func(err error) { fmt.Fprintln(os.Stderr, "rewriter:", err) },
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "rewriter:", err)
		os.Exit(1)
	}
	defer q.Close()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	packets, err := q.Packets(ctx)
	if err != nil {
		fmt.Fprintln(os.Stderr, "rewriter:", err)
		os.Exit(1)
	}
	fmt.Fprintf(os.Stderr, "rewriter: queue %d, replacing %q with %q in UDP payloads\n", q.Num(), *from, *to)

	var seen, rewritten, failed uint64
	for p := range packets {
		seen++
		out, n, err := rewriteUDP(p.Payload, []byte(*from), []byte(*to))
		if err != nil {
			fmt.Fprintf(os.Stderr, "rewriter: packet %d left unchanged: %v\n", p.ID, err)
		}
		if n == 0 || err != nil {
			err = p.Accept()
		} else {
			err = p.AcceptWithPayload(out)
			rewritten++
			fmt.Printf("packet %d: %d replacement(s), %d -> %d bytes\n", p.ID, n, len(p.Payload), len(out))
		}
		if err != nil {
			failed++
			fmt.Fprintln(os.Stderr, "rewriter:", err)
		}
	}
	fmt.Printf("rewriter: %d packets, %d rewritten, %d verdicts failed\n", seen, rewritten, failed)
}
