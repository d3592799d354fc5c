// Command fanout serves the queues of an iptables --queue-balance A:B rule
// with an nfq.QueueSet (one socket and receive loop per queue number, all
// delivering on one channel) and one pool of workers, which give the
// verdicts: every packet gets exactly one, none is lost.
//
//	iptables -A INPUT -j NFQUEUE --queue-balance 0:3
//	fanout -queues 0:3 -workers 8
//
// The kernel spreads packets over the queues by a hash of their addresses,
// so each flow stays on one queue. On SIGINT or SIGTERM, fanout prints each
// queue's counters and exits 1 if any packet went without its verdict.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/nfq-go/nfq"
)

func main() {
	queues := flag.String("queues", "0:3", "queue range `A:B`, as in iptables --queue-balance A:B")
	workers := flag.Int("workers", runtime.NumCPU(), "worker goroutines giving verdicts")
	work := flag.Duration("work", 0, "time each packet takes to process (to simulate real work)")
	flag.Parse()
	first, last, err := parseRange(*queues)
	if err != nil || *workers < 1 || flag.NArg() > 0 {
		if err != nil {
			fmt.Fprintln(os.Stderr, "fanout:", err)
		}
		fmt.Fprintln(os.Stderr, "fanout: usage: fanout -queues A:B [-workers N] [-work DURATION]")
		os.Exit(2)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	set, err := nfq.OpenRange(first, last, nfq.Config{
		DefaultVerdict: nfq.Accept, // on shutdown, let what is in flight through
		OnError:        func(err error) { fmt.Fprintln(os.Stderr, "fanout:", err) },
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "fanout:", err)
		os.Exit(1)
	}
	// One channel for every queue: each queue's receive loop writes to it,
	// and the workers take from it. ctx ending closes the queues and then
	// the channel.
	packets, err := set.Packets(ctx)
	if err != nil {
		set.Close()
		fmt.Fprintln(os.Stderr, "fanout:", err)
		os.Exit(1)
	}
	fmt.Fprintf(os.Stderr, "fanout: queues %d-%d open, %d workers\n", first, last, *workers)
	failed := serve(packets, *workers, func(*nfq.Packet) { time.Sleep(*work) })

	set.Close() // once closed, the counters are final
	ok := true
	var total, verdicts uint64
	stats := set.Stats()
	for _, q := range set.Queues() {
		st := stats[q.Num()]
		total += st.Received
		verdicts += st.Verdicts
		fmt.Printf("fanout: queue %d: %d received, %d verdicts, %d default verdicts, %d overruns\n",
			q.Num(), st.Received, st.Verdicts, st.DefaultVerdicts, st.Overruns)
		if st.Received != st.Verdicts+st.DefaultVerdicts || st.Overruns > 0 {
			ok = false
		}
	}
	fmt.Printf("fanout: %d packets on %d queues, %d verdicts from the workers, %d failed\n",
		total, len(set.Queues()), verdicts, failed)
	if !ok || failed > 0 {
		fmt.Fprintln(os.Stderr, "fanout: some packets went without their verdict")
		os.Exit(1)
	}
}

// serve runs the workers until the channel is closed, and returns how many
// verdicts failed. A packet whose queue closed before its verdict had the
// default verdict: that is not a failure.
func serve(packets <-chan *nfq.Packet, workers int, process func(*nfq.Packet)) (failed int) {
	results := make(chan int)
	for range workers {
		go func() {
			n := 0
			for pkt := range packets {
				process(pkt)
				if err := pkt.Accept(); err != nil && !errors.Is(err, nfq.ErrClosed) {
					n++
					fmt.Fprintln(os.Stderr, "fanout:", err)
				}
			}
			results <- n
		}()
	}
	for range workers {
		failed += <-results
	}
	return failed
}

// parseRange reads "A:B" (or "A" alone) with A <= B.
func parseRange(s string) (first, last uint16, err error) {
	lo, hi, isRange := strings.Cut(s, ":")
	if !isRange {
		hi = lo
	}
	a, errA := strconv.ParseUint(lo, 10, 16)
	b, errB := strconv.ParseUint(hi, 10, 16)
	if errA != nil || errB != nil || a > b {
		return 0, 0, fmt.Errorf("-queues %q: want A:B with 0 <= A <= B <= 65535", s)
	}
	return uint16(a), uint16(b), nil
}
