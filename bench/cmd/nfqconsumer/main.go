// Command nfqconsumer is the benchmark's Go consumer: it accepts every packet
// of one queue through the nfq API chosen by -mode, then prints the same
// JSON line as the C reference consumers, plus Go heap allocations.
//
// It prints READY once the queue is bound, and its result on SIGTERM/SIGINT
// or after -count packets. Run it in the network namespace of the queue.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/nfq-go/nfq"
	"github.com/nfq-go/nfq/bench/internal/result"
)

// modes maps -mode to a consume loop and the queue's Config.ThreadWait;
// -modes lists them, so the orchestrator benchmarks exactly the APIs this
// build has.
var modes = map[string]mode{
	"chan": {consumeChannel, 0},
	"run":  {consumeRun, 0},
	// The same APIs with a loop that always parks in Go's poller when the
	// socket is empty: what ThreadWait saves at low rates.
	"chan-park": {consumeChannel, -1},
	"run-park":  {consumeRun, -1},
}

type mode struct {
	consume    func(ctx context.Context, q *nfq.Queue, c *counter) error
	threadWait time.Duration // Config.ThreadWait; -thread-wait overrides it
}

// consumeChannel is the channel API, one Accept per packet.
func consumeChannel(ctx context.Context, q *nfq.Queue, c *counter) error {
	ch, err := q.Packets(ctx)
	if err != nil {
		return err
	}
	for p := range ch {
		c.verdict(p.Accept())
		if c.add(p) {
			break
		}
	}
	return nil
}

// consumeRun is the callback API, one Accept per packet.
func consumeRun(ctx context.Context, q *nfq.Queue, c *counter) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	err := q.Run(ctx, func(p *nfq.Packet) {
		if c.full() {
			return // Run may finish its batch after cancel; Close gives the rest the default verdict
		}
		c.verdict(p.Accept())
		if c.add(p) {
			cancel()
		}
	})
	if errors.Is(err, context.Canceled) {
		return nil // the count was reached, or the run was stopped
	}
	return err
}

// counter is touched from the consume loop only.
type counter struct {
	limit         uint64
	packets       uint64
	bytes         uint64
	first, last   time.Time
	verdictErrors uint64
}

// add counts p and reports whether the -count limit is reached. Reading the
// clock per packet matches what the C consumers do.
func (c *counter) add(p *nfq.Packet) bool {
	c.last = time.Now()
	if c.packets == 0 {
		c.first = c.last
	}
	c.packets++
	c.bytes += uint64(len(p.Payload))
	return c.full()
}

func (c *counter) full() bool { return c.limit != 0 && c.packets >= c.limit }

func (c *counter) verdict(err error) {
	if err != nil {
		c.verdictErrors++
	}
}

func main() {
	queue := flag.Uint("queue", 0, "queue number")
	mode := flag.String("mode", "chan", "API to consume with: "+strings.Join(modeNames(), ", "))
	count := flag.Uint64("count", 0, "stop after this many packets (0: until SIGTERM/SIGINT)")
	rcvbuf := flag.Int("rcvbuf", 8<<20, "socket receive buffer in bytes (same as the C consumers)")
	threadWait := flag.Duration("thread-wait", 0, "nfq.Config.ThreadWait (0: the mode's; negative: off)")
	list := flag.Bool("modes", false, "print the supported modes and exit")
	flag.Parse()
	if *list {
		fmt.Println(strings.Join(modeNames(), " "))
		return
	}
	m, ok := modes[*mode]
	if !ok || *queue > 0xffff {
		fmt.Fprintf(os.Stderr, "nfqconsumer: bad -mode %q or -queue %d\n", *mode, *queue)
		os.Exit(2)
	}
	if *threadWait == 0 {
		*threadWait = m.threadWait
	}
	if err := run(uint16(*queue), "go-"+*mode, m.consume, *count, nfq.Config{ReadBufferSize: *rcvbuf, ThreadWait: *threadWait}); err != nil {
		fmt.Fprintln(os.Stderr, "nfqconsumer:", err)
		os.Exit(1)
	}
}

func run(queue uint16, name string, consume func(context.Context, *nfq.Queue, *counter) error, limit uint64, cfg nfq.Config) error {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	c := &counter{limit: limit}
	cfg.Queue = queue
	q, err := nfq.Open(cfg)
	if err != nil {
		return err
	}
	defer q.Close()
	fmt.Println("READY")

	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	if err := consume(ctx, q, c); err != nil {
		return err
	}
	runtime.ReadMemStats(&after)
	mallocs := after.Mallocs - before.Mallocs
	stats := q.Stats()

	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return err
	}
	return json.NewEncoder(os.Stdout).Encode(result.Consumer{
		Consumer:      name,
		Queue:         queue,
		Packets:       c.packets,
		Bytes:         c.bytes,
		ActiveS:       c.last.Sub(c.first).Seconds(),
		UserS:         seconds(ru.Utime),
		SysS:          seconds(ru.Stime),
		Overruns:      stats.Overruns,
		VerdictErrors: c.verdictErrors + stats.VerdictErrors,
		Mallocs:       &mallocs,
	})
}

func seconds(tv syscall.Timeval) float64 {
	return float64(tv.Sec) + float64(tv.Usec)/1e6
}

func modeNames() []string {
	names := make([]string, 0, len(modes))
	for n := range modes {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}
