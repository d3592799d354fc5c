// Command passer accepts every packet of an NFQUEUE queue and prints one line
// per packet: the nfq version of the classic libipq "passer" example.
//
// Send it traffic with an iptables rule, then run it as root (or with
// CAP_NET_ADMIN) in the same network namespace:
//
//	iptables -A OUTPUT -p icmp -j NFQUEUE --queue-num 0
//	go run ./examples/passer -queue 0
//
// Stop it with Ctrl-C (SIGINT) or SIGTERM: it prints how many packets it saw
// and how many verdicts it gave, and exits 0.
package main

import (
	"context"
	"flag"
	"fmt"
	"net"
	"os"
	"os/signal"
	"strconv"
	"syscall"

	"github.com/nfq-go/nfq"
)

func main() {
	queue := flag.Uint("queue", 0, "NFQUEUE queue number (0-65535)")
	quiet := flag.Bool("quiet", false, "print no line per packet, only the summary")
	rcvbuf := flag.Int("rcvbuf", 0, "socket receive buffer in bytes, for bursts (0: the system default)")
	flag.Parse()
	if *queue > 65535 {
		fmt.Fprintf(os.Stderr, "passer: -queue %d: queue numbers go from 0 to 65535\n", *queue)
		os.Exit(2)
	}

	q, err := nfq.Open(nfq.Config{
		Queue:          uint16(*queue),
		ReadBufferSize: *rcvbuf,
		// Packets still waiting when the passer stops are let through.
		DefaultVerdict: nfq.Accept,
		OnError:        func(err error) { fmt.Fprintln(os.Stderr, "passer:", err) },
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "passer:", err)
		os.Exit(1)
	}
	defer q.Close()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	packets, err := q.Packets(ctx)
	if err != nil {
		fmt.Fprintln(os.Stderr, "passer:", err)
		os.Exit(1)
	}
	fmt.Fprintf(os.Stderr, "passer: queue %d open, accepting every packet (Ctrl-C to stop)\n", q.Num())

	var seen, accepted, failed uint64
	names := ifNames{}
	for p := range packets {
		seen++
		if err := p.Accept(); err != nil {
			failed++
			fmt.Fprintln(os.Stderr, "passer:", err)
		} else {
			accepted++
		}
		if !*quiet {
			fmt.Println(line(p, names))
		}
	}

	st := q.Stats()
	fmt.Printf("passer: %d packets seen, %d verdicts given (%d accept, %d failed), %d default verdicts, %d overruns\n",
		seen, st.Verdicts, accepted, failed, st.DefaultVerdicts, st.Overruns)
	if err := q.Close(); err != nil {
		fmt.Fprintln(os.Stderr, "passer: close:", err)
	}
}

// line describes a packet: id, hook, interfaces, headers, length.
func line(p *nfq.Packet, names ifNames) string {
	length := int(p.OrigLen)
	if length == 0 {
		length = len(p.Payload)
	}
	return fmt.Sprintf("id=%d hook=%s in=%s out=%s %s len=%d",
		p.ID, p.Hook, names.name(p.InDev), names.name(p.OutDev), describe(p.Payload), length)
}

// ifNames resolves interface indexes to names, remembering the answers.
type ifNames map[uint32]string

func (m ifNames) name(index uint32) string {
	if index == 0 {
		return "-"
	}
	if n, ok := m[index]; ok {
		return n
	}
	n := strconv.FormatUint(uint64(index), 10) // gone already: show the index
	if ifi, err := net.InterfaceByIndex(int(index)); err == nil {
		n = ifi.Name
	}
	m[index] = n
	return n
}
