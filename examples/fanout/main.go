// Command fanout serves the queues of an iptables --queue-balance A:B rule
// with one nfq.Queue per queue number and one shared pool of workers, which
// give the verdicts: every packet gets exactly one, none is lost.
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
	p, err := openPool(ctx, first, last)
	if err != nil {
		fmt.Fprintln(os.Stderr, "fanout:", err)
		os.Exit(1)
	}
	fmt.Fprintf(os.Stderr, "fanout: queues %d-%d open, %d workers\n", first, last, *workers)
	failed := p.serve(*workers, func(*nfq.Packet) { time.Sleep(*work) })

	ok := true
	var total, verdicts uint64
	for _, q := range p.queues {
		q.Close() // once closed, its counters are final
		st := q.Stats()
		total += st.Received
		verdicts += st.Verdicts
		fmt.Printf("fanout: queue %d: %d received, %d verdicts, %d default verdicts, %d overruns\n",
			q.Num(), st.Received, st.Verdicts, st.DefaultVerdicts, st.Overruns)
		if st.Received != st.Verdicts+st.DefaultVerdicts || st.Overruns > 0 {
			ok = false
		}
	}
	fmt.Printf("fanout: %d packets on %d queues, %d verdicts from the workers, %d failed\n",
		total, len(p.queues), verdicts, failed)
	if !ok || failed > 0 {
		fmt.Fprintln(os.Stderr, "fanout: some packets went without their verdict")
		os.Exit(1)
	}
}

// pool is the open queues and the channel that feeds their packets to the
// workers.
type pool struct {
	queues []*nfq.Queue
	chans  []<-chan *nfq.Packet
}

// openPool opens queues first..last; ctx ending closes them all.
func openPool(ctx context.Context, first, last uint16) (*pool, error) {
	p := &pool{}
	for n := int(first); n <= int(last); n++ {
		q, err := nfq.Open(nfq.Config{
			Queue:          uint16(n),
			DefaultVerdict: nfq.Accept, // on shutdown, let what is in flight through
			OnError:        func(err error) { fmt.Fprintln(os.Stderr, "fanout:", err) },
		})
		if err == nil {
			var ch <-chan *nfq.Packet
			if ch, err = q.Packets(ctx); err == nil {
				p.queues, p.chans = append(p.queues, q), append(p.chans, ch)
				continue
			}
			q.Close()
		}
		for _, q := range p.queues {
			q.Close()
		}
		return nil, err
	}
	return p, nil
}

// serve runs the workers until every queue is closed, and returns how many
// verdicts failed. A packet whose queue closed before its verdict had the
// default verdict: that is not a failure.
func (p *pool) serve(workers int, process func(*nfq.Packet)) (failed int) {
	jobs := make(chan *nfq.Packet, 256)
	// One forwarder per queue: the workers take from all queues at once.
	forwarded := make(chan struct{})
	for _, ch := range p.chans {
		go func() {
			for pkt := range ch {
				jobs <- pkt
			}
			forwarded <- struct{}{}
		}()
	}
	go func() {
		for range p.chans {
			<-forwarded
		}
		close(jobs)
	}()
	results := make(chan int)
	for range workers {
		go func() {
			n := 0
			for pkt := range jobs {
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
