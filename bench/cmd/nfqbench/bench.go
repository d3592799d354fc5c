package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

type bench struct {
	opt options
}

// The echo requests to 127.0.0.1 go through the queue; the baseline probes
// 127.0.0.2, also loopback, which no rule matches.
const (
	queuedAddr   = "127.0.0.1"
	unqueuedAddr = "127.0.0.2"
)

func (b *bench) rules() [][]string {
	q := strconv.Itoa(int(b.opt.queue))
	return [][]string{
		{"OUTPUT", "-p", "udp", "--dport", strconv.Itoa(b.opt.port), "-j", "NFQUEUE", "--queue-num", q},
		{"OUTPUT", "-p", "icmp", "--icmp-type", "echo-request", "-d", queuedAddr, "-j", "NFQUEUE", "--queue-num", q},
	}
}

// setup brings loopback up and adds the queue rules; the returned func
// removes them (the namespace goes away anyway, this keeps reruns clean).
func (b *bench) setup() (func(), error) {
	if err := run("ip", "link", "set", "lo", "up"); err != nil {
		return nil, err
	}
	for _, r := range b.rules() {
		if err := run(append([]string{"iptables", "-A"}, r...)...); err != nil {
			return nil, err
		}
	}
	return func() {
		for _, r := range b.rules() {
			_ = run(append([]string{"iptables", "-D"}, r...)...)
		}
	}, nil
}

// defaultConsumers lists the C references, every mode of nfqconsumer (so a
// batch-verdict mode is measured as soon as the Go consumer has one) and
// examples/passer -quiet, the program people time first.
func defaultConsumers(bin string) ([]string, error) {
	out, err := exec.Command(filepath.Join(bin, "nfqconsumer"), "-modes").Output()
	if err != nil {
		return nil, fmt.Errorf("nfqconsumer -modes: %v", err)
	}
	modes := strings.Fields(string(out))
	order := []string{"chan", "run"} // the order; other modes after
	slices.SortStableFunc(modes, func(a, b string) int {
		ia, ib := slices.Index(order, a), slices.Index(order, b)
		if ia < 0 {
			ia = len(order)
		}
		if ib < 0 {
			ib = len(order)
		}
		return ia - ib
	})
	names := []string{"c-plain", "c-batched"}
	for _, m := range modes {
		names = append(names, "go-"+m)
	}
	return append(names, "passer"), nil
}

func (b *bench) consumerArgv(name string) ([]string, error) {
	q, rb := strconv.Itoa(int(b.opt.queue)), strconv.Itoa(b.opt.rcvbuf)
	switch {
	case name == "c-plain":
		return []string{b.path("plain"), "-q", q, "-r", rb}, nil
	case name == "c-batched":
		return []string{b.path("batched"), "-q", q, "-r", rb}, nil
	case name == "passer":
		return []string{b.path("passer"), "-quiet", "-queue", q, "-rcvbuf", rb}, nil
	case strings.HasPrefix(name, "go-"):
		return []string{b.path("nfqconsumer"), "-queue", q, "-rcvbuf", rb, "-mode", strings.TrimPrefix(name, "go-")}, nil
	}
	return nil, fmt.Errorf("unknown consumer %q (want c-plain, c-batched, passer or go-MODE)", name)
}

func (b *bench) path(prog string) string { return filepath.Join(b.opt.bin, prog) }

// runAll measures every consumer once per round. Each round starts one
// consumer further down the list, so no consumer always runs first (cold)
// or right after a given other one.
func (b *bench) runAll() *Run {
	o := b.opt
	r := &Run{
		Date:      time.Now().UTC(),
		Host:      hostInfo(),
		Consumers: o.consumers,
		Settings: Settings{
			Rounds: o.rounds, DurationS: o.duration.Seconds(), Sizes: o.sizes, Pings: o.pings,
			PingIntervalUs: int(o.pingInterval / time.Microsecond), WarmupS: o.warmup.Seconds(), RcvBuf: o.rcvbuf, Quick: o.quick,
		},
	}
	record := func(s Sample, err error) {
		if err != nil {
			msg := fmt.Sprintf("round %d %s %s %d: %v", s.Round, s.Consumer, s.Kind, s.Size, err)
			fmt.Fprintln(os.Stderr, "FAILED", msg)
			r.Errors = append(r.Errors, msg)
			return
		}
		fmt.Fprintln(os.Stderr, progressLine(s))
		r.Samples = append(r.Samples, s)
	}
	total0, steal0 := cpuJiffies()
	n := len(o.consumers)
	for round := 1; round <= o.rounds; round++ {
		for i := range n {
			name := o.consumers[(round-1+i)%n]
			for _, size := range o.sizes {
				record(b.quietThroughput(round, name, size))
			}
			record(b.latency(round, name))
		}
		record(b.baseline(round))
	}
	if total1, steal1 := cpuJiffies(); total1 > total0 {
		r.Host.StealPct = 100 * float64(steal1-steal0) / float64(total1-total0)
	}
	return r
}

// retakes is how many times a throughput sample taken beside other work is
// measured again: other work on a small machine slows every figure.
const retakes = 2

func (b *bench) quietThroughput(round int, name string, size int) (Sample, error) {
	for try := 0; ; try++ {
		s, err := b.throughput(round, name, size)
		if err != nil || s.OtherCores <= disturbedCores || try == retakes {
			return s, err
		}
		fmt.Fprintf(os.Stderr, "round %d %-10s %5d B: other work took %.2f cores, measuring again\n", round, name, size, s.OtherCores)
	}
}

func progressLine(s Sample) string {
	head := fmt.Sprintf("round %d %-10s", s.Round, s.Consumer)
	switch s.Kind {
	case kindThroughput:
		c := s.Result
		return fmt.Sprintf("%s %5d B: %8.0f packets/s, CPU %.2f+%.2f us/packet, sink %d/%d, kernel drops %d+%d, other work %.2f cores",
			head, s.Size, perSecond(c), perPacket(c.UserS, c), perPacket(c.SysS, c),
			s.Sink.Received, c.Packets, s.Kernel.Dropped, s.Kernel.UserDropped, s.OtherCores)
	case kindLatency:
		return fmt.Sprintf("%s  ICMP: p50 %.1f us, p99 %.1f us", head, s.Probe.P50us, s.Probe.P99us)
	}
	return fmt.Sprintf("round %d no queue   ICMP: p50 %.1f us, p99 %.1f us", s.Round, s.Probe.P50us, s.Probe.P99us)
}
