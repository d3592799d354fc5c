// Command marker classifies the flows of an NFQUEUE queue and sets packet
// marks for later iptables -m mark rules: each flow gets the mark of its
// service port, or the bulk mark once it has carried more than -bulk bytes.
// Every packet is accepted; unclassified flows keep their mark.
//
//	iptables -t mangle -A OUTPUT -j NFQUEUE --queue-num 0
//	iptables -A OUTPUT -m mark --mark 0x3 -j DROP   # or a tc filter, a routing rule...
//	marker -queue 0 -port 22=0x1 -port 53=0x2 -bulk 1000000 -bulk-mark 0x3
//
// It prints a line when a flow is classified or turns bulk and, on SIGINT or
// SIGTERM, how many packets got each mark.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/nfq-go/nfq"
)

// portMarks collects repeated -port PORT=MARK flags.
type portMarks map[uint16]uint32

func (p portMarks) String() string { return fmt.Sprint(map[uint16]uint32(p)) }

func (p portMarks) Set(s string) error {
	port, mark, ok := strings.Cut(s, "=")
	n, err := strconv.ParseUint(port, 10, 16)
	if !ok || err != nil || n == 0 {
		return fmt.Errorf("want PORT=MARK, e.g. 22=0x1")
	}
	m, err := strconv.ParseUint(mark, 0, 32)
	if err != nil || m == 0 {
		return fmt.Errorf("mark %q: want a non-zero 32-bit number", mark)
	}
	p[uint16(n)] = uint32(m)
	return nil
}

func main() {
	ports := portMarks{}
	queue := flag.Uint("queue", 0, "NFQUEUE queue number (0-65535)")
	flag.Var(ports, "port", "mark flows to or from `PORT=MARK` (repeatable)")
	bulk := flag.Uint64("bulk", 0, "bytes after which a flow is bulk (0: never)")
	bulkMark := flag.Uint("bulk-mark", 0, "mark for bulk flows")
	idle := flag.Duration("idle", time.Minute, "forget flows quiet for this long")
	flag.Parse()
	if *queue > 65535 || flag.NArg() > 0 || *idle <= 0 || (*bulk > 0 && (*bulkMark == 0 || *bulkMark > 0xffffffff)) {
		fmt.Fprintln(os.Stderr, "marker: usage: marker -queue N [-port PORT=MARK]... [-bulk BYTES -bulk-mark MARK] [-idle DURATION]")
		os.Exit(2)
	}

	q, err := nfq.Open(nfq.Config{
		Queue:          uint16(*queue),
		DefaultVerdict: nfq.Accept, // unmarked beats lost
		OnError:        func(err error) { fmt.Fprintln(os.Stderr, "marker:", err) },
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "marker:", err)
		os.Exit(1)
	}
	defer q.Close()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	packets, err := q.Packets(ctx)
	if err != nil {
		fmt.Fprintln(os.Stderr, "marker:", err)
		os.Exit(1)
	}
	fmt.Fprintf(os.Stderr, "marker: queue %d, %d service ports, bulk after %d bytes\n", q.Num(), len(ports), *bulk)

	c := newClassifier(ports, *bulk, uint32(*bulkMark), *idle)
	perMark := map[uint32]uint64{}
	tick := time.NewTicker(*idle / 2)
	defer tick.Stop()
	for {
		select {
		case p, ok := <-packets:
			if !ok {
				summary(perMark, len(c.flows))
				return
			}
			perMark[mark(c, p)]++
		case now := <-tick.C:
			c.expire(now)
		}
	}
}

// mark classifies p, gives it its verdict and returns the mark it set.
func mark(c *classifier, p *nfq.Packet) uint32 {
	f, ev, ok := c.classify(p.Payload, time.Now())
	switch ev {
	case eventNew:
		fmt.Printf("flow %s: mark %#x\n", f.key, f.mark)
	case eventBulk:
		fmt.Printf("flow %s: bulk after %d bytes: mark %#x\n", f.key, f.bytes, f.mark)
	}
	var err error
	var m uint32
	if ok && f.mark != 0 {
		m = f.mark
		err = p.AcceptWithMark(m)
	} else {
		err = p.Accept()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "marker:", err)
	}
	return m
}

func summary(perMark map[uint32]uint64, flows int) {
	marks := make([]uint32, 0, len(perMark))
	var total uint64
	for m, n := range perMark {
		marks = append(marks, m)
		total += n
	}
	sort.Slice(marks, func(i, j int) bool { return marks[i] < marks[j] })
	fmt.Printf("marker: %d packets in %d flows\n", total, flows)
	for _, m := range marks {
		if m == 0 {
			fmt.Printf("marker: unmarked: %d packets\n", perMark[m])
		} else {
			fmt.Printf("marker: mark %#x: %d packets\n", m, perMark[m])
		}
	}
}
