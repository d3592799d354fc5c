// Command nfqdump is a packet inspector for an NFQUEUE queue, the tcpdump
// of queues: it prints one line per packet (hook, devices, protocol,
// addresses and ports, TCP flags, mark, length, verdict), or with -json one
// JSON object per packet holding every attribute the kernel sent, or writes
// the packets to a pcap file (-w) that tcpdump and Wireshark read, and gives
// each packet a verdict (-verdict, -mark). tcpdump's -c, -s, -w, -n, -q and
// -v work as there. See -help.
//
// cmd/nfqdump-c is its twin written directly on libnetfilter_queue: both
// print the same JSON for the same packets, which is how nfq is compared
// with the C library.
package main

import (
	"context"
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
	// A closed standard output (nfqdump | head) shows as EPIPE from the
	// write, and nfqdump stops cleanly instead of dying by SIGPIPE.
	signal.Ignore(syscall.SIGPIPE)
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// Exit codes, as the help documents them.
const (
	exitOK    = 0
	exitError = 1 // the queue could not be opened, verdicts failed, output could not be written
	exitUsage = 2
)

// run is nfqdump with its output streams; it returns the exit code.
func run(args []string, stdout, stderr io.Writer) int {
	stderr = &lockedWriter{w: stderr} // the reporter and the receive loop share it
	o, err := parseOptions(args, stdout)
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	if err != nil {
		fmt.Fprintln(stderr, "nfqdump:", err)
		return exitUsage
	}
	if o.version {
		fmt.Fprintln(stdout, version())
		return exitOK
	}
	if o.write == "-" && isTerminal(stdout) {
		fmt.Fprintln(stderr, "nfqdump: -w -: standard output is a terminal; send it to a file or a pipe (nfqdump -w - | tcpdump -r -)")
		return exitUsage
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
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
	out, err := openOutput(o, stdout)
	if err != nil {
		fmt.Fprintln(stderr, "nfqdump:", err)
		return exitError
	}
	defer out.close()

	packets, err := q.Packets(context.Background())
	if err != nil {
		fmt.Fprintln(stderr, "nfqdump:", err)
		return exitError
	}
	fmt.Fprintf(stderr, "nfqdump: listening on queue %d, verdict %s\n", q.Num(), o.policy.verdict)

	c := counters{kernel: func() kernelDrops { return readKernelDrops(q) }}
	stopReport := func() {}
	if o.stats.or(o.write != "" || !isTerminal(stdout)) {
		stopReport = startReport(&c, stderr)
	}

	// Closing the queue gives the packets still held the default verdict.
	// The kernel's counters go with the queue: the reporter stops and they
	// are read first.
	var (
		closing sync.Once
		drops   kernelDrops
	)
	closeQueue := func() {
		closing.Do(func() {
			stopReport()
			drops = readKernelDrops(q)
			q.Close()
		})
	}
	context.AfterFunc(ctx, closeQueue) // a signal ends the channel, and so the dump

	failed, outErr := dump(packets, o.policy, o.count, out, stderr, &c)
	closeQueue()
	if err := out.close(); outErr == nil {
		outErr = err
	}
	st := q.Stats()
	code := exitOK
	switch {
	case isBrokenPipe(outErr):
		fmt.Fprintln(stderr, "nfqdump: standard output was closed: stopped")
	case outErr != nil:
		fmt.Fprintln(stderr, "nfqdump:", outErr)
		code = exitError
	}
	fmt.Fprintf(stderr, "nfqdump: %d packets, %d bytes; %d verdicts, %d failed, %d default verdicts on close, %d overruns; %s\n",
		c.packets.Load(), c.bytes.Load(), st.Verdicts, failed, st.DefaultVerdicts, st.Overruns, drops)
	if failed > 0 {
		code = exitError
	}
	return code
}

// dump gives each packet its verdict and writes it out, until the channel
// closes, count packets were seen (0: no limit) or the output fails. It
// returns how many verdicts failed, and the output's error.
func dump(packets <-chan *nfq.Packet, pol policy, count uint64, out *output, stderr io.Writer, c *counters) (failed int, err error) {
	var n uint64
	for p := range packets {
		received := time.Now()
		// The verdict first: the packet waits in the kernel until then.
		if err := pol.apply(p); err != nil && !errors.Is(err, nfq.ErrClosed) {
			failed++
			fmt.Fprintln(stderr, "nfqdump:", err)
		}
		c.add(wireLen(p))
		if err := out.packet(p, pol, received); err != nil {
			return failed, err
		}
		if n++; count > 0 && n >= count {
			break
		}
		if len(packets) == 0 {
			if err := out.flush(); err != nil { // idle: show what we have
				return failed, err
			}
		}
	}
	return failed, out.flush()
}

// startReport shows the live counters on w each second until the returned
// function is called.
func startReport(c *counters, w io.Writer) (stop func()) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		c.report(w, isTerminal(w), time.Second, done)
	}()
	return func() { close(done); wg.Wait() }
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
