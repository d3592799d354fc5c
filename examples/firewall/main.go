// Command firewall drops the packets of an NFQUEUE queue that match one of
// its port/CIDR rules and accepts the rest.
//
//	iptables -A INPUT -j NFQUEUE --queue-num 0
//	firewall -queue 0 -drop tcp,dport=23 -drop src=192.0.2.0/24 -drop udp,dport=5000-5100
//
// A rule is a comma-separated list of conditions, all of which must hold:
// tcp, udp, icmp, icmpv6, src=CIDR, dst=CIDR, sport=PORT[-PORT],
// dport=PORT[-PORT]. The first matching rule drops the packet. Headers are
// decoded by nfq.ParseHeaders, so ports are found behind IPv4 options and
// IPv6 extension headers; a later fragment has no ports, so only the rules
// without ports apply to it. It prints one line per dropped packet (all
// packets with -v) and, on SIGINT or SIGTERM, what each rule did. It
// consumes the queue with a callback (Queue.Run).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net/netip"
	"os"
	"os/signal"
	"syscall"

	"github.com/nfq-go/nfq"
)

// ruleFlags collects repeated -drop flags.
type ruleFlags []rule

func (r *ruleFlags) String() string { return fmt.Sprint(len(*r), " rules") }

func (r *ruleFlags) Set(s string) error {
	rl, err := parseRule(s)
	if err != nil {
		return err
	}
	*r = append(*r, rl)
	return nil
}

func main() {
	var rules ruleFlags
	queue := flag.Uint("queue", 0, "NFQUEUE queue number (0-65535)")
	flag.Var(&rules, "drop", "drop packets matching `RULE` (repeatable), e.g. tcp,dport=22 or src=10.0.0.0/8")
	verbose := flag.Bool("v", false, "print a line for accepted packets too")
	flag.Parse()
	if *queue > 65535 || flag.NArg() > 0 {
		fmt.Fprintln(os.Stderr, "firewall: usage: firewall -queue N [-drop RULE]... [-v]")
		os.Exit(2)
	}

	q, err := nfq.Open(nfq.Config{
		Queue: uint16(*queue),
		// Packets still waiting when the firewall stops were not checked:
		// drop them (fail closed).
		DefaultVerdict: nfq.Drop,
		OnError:        func(err error) { fmt.Fprintln(os.Stderr, "firewall:", err) },
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "firewall:", err)
		os.Exit(1)
	}
	defer q.Close()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	fmt.Fprintf(os.Stderr, "firewall: queue %d, %d rules, accepting the rest\n", q.Num(), len(rules))
	hits := make([]uint64, len(rules))
	var accepted uint64
	// Run calls back on this goroutine: no locking needed for the counters.
	err = q.Run(ctx, func(p *nfq.Packet) {
		h := nfq.ParseHeaders(p.Payload)
		i := firstMatch(rules, h)
		if i < 0 {
			accepted++
			if err := p.Accept(); err != nil {
				fmt.Fprintln(os.Stderr, "firewall:", err)
			}
			if *verbose {
				fmt.Printf("accept %s\n", describe(h))
			}
			return
		}
		hits[i]++
		if err := p.Drop(); err != nil {
			fmt.Fprintln(os.Stderr, "firewall:", err)
		}
		fmt.Printf("drop   %s (rule %d: %s)\n", describe(h), i+1, rules[i].text)
	})
	if err != nil && !errors.Is(err, context.Canceled) { // Canceled: a signal ended ctx
		fmt.Fprintln(os.Stderr, "firewall:", err)
		os.Exit(1)
	}
	var dropped uint64
	for _, n := range hits {
		dropped += n
	}
	fmt.Printf("firewall: %d accepted, %d dropped\n", accepted, dropped)
	for i, n := range hits {
		fmt.Printf("firewall: rule %d (%s): %d dropped\n", i+1, rules[i].text, n)
	}
}

// describe writes "udp 10.0.0.1:4000 > 10.0.0.2:53".
func describe(h nfq.Headers) string {
	if !h.Has(nfq.HeaderIP) {
		return "(not IP)"
	}
	name := fmt.Sprintf("proto-%d", h.Protocol)
	for n, v := range protocols {
		if v == h.Protocol {
			name = n
		}
	}
	if !h.Has(nfq.HeaderPorts) {
		return fmt.Sprintf("%s %s > %s", name, h.Src, h.Dst)
	}
	return fmt.Sprintf("%s %s > %s", name, netip.AddrPortFrom(h.Src, h.SrcPort), netip.AddrPortFrom(h.Dst, h.DstPort))
}
