// Command nfqdump is a packet inspector for an NFQUEUE queue: it prints one
// line per packet (hook, devices, protocol, addresses and ports, TCP flags,
// mark, length, verdict), or with -json one JSON object per packet holding
// every attribute the kernel sent, and gives each packet a verdict (-verdict,
// -mark). See -help.
//
// cmd/nfqdump-c is its twin written directly on libnetfilter_queue: both
// print the same JSON for the same packets, which is how nfq is compared
// with the C library.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/nfq-go/nfq"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// Exit codes.
const (
	exitOK    = 0
	exitError = 1 // the queue could not be opened, or verdicts failed
	exitUsage = 2
)

// run is nfqdump with its output streams; it returns the exit code.
func run(args []string, stdout, stderr io.Writer) int {
	stderr = &lockedWriter{w: stderr} // the reporter and the receive loop share it
	o, err := parseOptions(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	if err != nil {
		fmt.Fprintln(stderr, "nfqdump:", err)
		return exitUsage
	}

	q, err := nfq.Open(nfq.Config{
		Queue:          o.queue,
		CopyRange:      o.snaplen,
		Flags:          o.flags,
		DefaultVerdict: o.policy.closeVerdict(),
		OnError:        func(err error) { fmt.Fprintln(stderr, "nfqdump:", err) },
	})
	if err != nil {
		fmt.Fprintln(stderr, "nfqdump:", err) // the error says what to do
		return exitError
	}
	defer q.Close()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	packets, err := q.Packets(ctx)
	if err != nil {
		fmt.Fprintln(stderr, "nfqdump:", err)
		return exitError
	}
	fmt.Fprintf(stderr, "nfqdump: listening on queue %d, verdict %s\n", q.Num(), o.policy.verdict)

	var c counters
	stopReport := func() {}
	if o.stats.or(!isTerminal(stdout)) {
		done := make(chan struct{})
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			c.report(stderr, isTerminal(stderr), time.Second, done)
		}()
		stopReport = func() { close(done); wg.Wait() }
	}

	failed := dump(packets, o, stdout, stderr, &c)
	q.Close()
	stopReport()
	st := q.Stats()
	fmt.Fprintf(stderr, "nfqdump: %d packets, %d bytes; %d verdicts, %d failed, %d default verdicts on close, %d overruns\n",
		c.packets.Load(), c.bytes.Load(), st.Verdicts, failed, st.DefaultVerdicts, st.Overruns)
	if failed > 0 {
		return exitError
	}
	return exitOK
}

// dump gives each packet its verdict and prints it, until the channel
// closes or o.count packets were seen. It returns how many verdicts failed.
func dump(packets <-chan *nfq.Packet, o options, stdout, stderr io.Writer, c *counters) (failed int) {
	out := bufio.NewWriter(stdout)
	defer out.Flush()
	enc := json.NewEncoder(out)
	enc.SetEscapeHTML(false)
	names := newIfNames()
	var n uint64
	for p := range packets {
		// The verdict first: the packet waits in the kernel until then.
		if err := o.policy.apply(p); err != nil && !errors.Is(err, nfq.ErrClosed) {
			failed++
			fmt.Fprintln(stderr, "nfqdump:", err)
		}
		r := newRecord(p, p.Has, o.policy, names)
		c.add(r.length)
		if o.json {
			if err := enc.Encode(r); err != nil {
				fmt.Fprintln(stderr, "nfqdump:", err)
			}
		} else {
			fmt.Fprintln(out, r.text(time.Now()))
		}
		if n++; o.count > 0 && n >= o.count {
			break
		}
		if len(packets) == 0 {
			out.Flush() // idle: show what we have
		}
	}
	return failed
}

// isTerminal reports whether w is a terminal.
func isTerminal(w io.Writer) bool {
	if lw, ok := w.(*lockedWriter); ok {
		w = lw.w
	}
	f, ok := w.(*os.File)
	return ok && isTerminalFd(f.Fd())
}

// lockedWriter serializes writes from several goroutines.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(b)
}
