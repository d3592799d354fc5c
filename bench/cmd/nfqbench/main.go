// Command nfqbench runs the NFQUEUE consumer benchmark: the C reference
// consumers and the nfq Go consumers take turns, in alternating rounds, on
// the same loopback UDP and ICMP traffic; it then writes a markdown table, a
// PNG chart and the raw samples as JSON.
//
// bench/run.sh builds the helper programs and runs this inside a throwaway
// network namespace. It adds iptables rules, so it refuses to run in the
// host's namespace.
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

type options struct {
	bin          string
	out          string
	name         string
	rounds       int
	duration     time.Duration
	sizes        []int
	pings        int
	pingInterval time.Duration
	warmup       time.Duration
	queue        uint16
	port         int
	rcvbuf       int
	consumers    []string
	quick        bool
	netns        string
}

func main() {
	var o options
	var sizes, consumers, reportOnly string
	var queue uint
	flag.StringVar(&o.bin, "bin", "", "directory holding the built helpers (plain, batched, sender, sink, prober, nfqconsumer)")
	flag.StringVar(&o.out, "out", "bench/results", "directory for the results")
	flag.StringVar(&o.name, "name", "latest", "base name of the result files (NAME.md, NAME.png, NAME.json)")
	flag.IntVar(&o.rounds, "rounds", 5, "rounds; each runs every consumer once, in rotated order")
	flag.DurationVar(&o.duration, "duration", 3*time.Second, "traffic per consumer, size and round")
	flag.StringVar(&sizes, "sizes", "64,1400", "UDP payload sizes in bytes")
	flag.IntVar(&o.pings, "pings", 1500, "ICMP echoes per latency measurement")
	flag.DurationVar(&o.pingInterval, "ping-interval", 2*time.Millisecond, "time between ICMP echoes")
	flag.DurationVar(&o.warmup, "warmup", 300*time.Millisecond, "UDP blast through each consumer before its echoes, so that latency is measured warm (0: none)")
	flag.UintVar(&queue, "queue", 7, "NFQUEUE number")
	flag.IntVar(&o.port, "port", 9999, "UDP port of the traffic")
	flag.IntVar(&o.rcvbuf, "rcvbuf", 8<<20, "netlink receive buffer of every consumer, bytes")
	flag.StringVar(&consumers, "consumers", "", "comma-separated consumers (default: c-plain, c-batched and every mode nfqconsumer has)")
	flag.BoolVar(&o.quick, "quick", false, "short run for CI (~30 s): 2 rounds of 1 s, 250 pings, results named quick")
	flag.StringVar(&o.netns, "netns", "", "name of the network namespace (ip netns) this runs in; checked, since the rules must not land on the host")
	flag.StringVar(&reportOnly, "report", "", "only rewrite the table and chart from this results JSON file")
	flag.Parse()

	if reportOnly != "" {
		exitOn(rewriteReport(reportOnly))
		return
	}
	if o.quick {
		applyQuick(&o)
	}
	o.queue = uint16(queue)
	var err error
	if o.sizes, err = parseSizes(sizes); err != nil || queue > 0xffff || o.bin == "" || o.rounds < 1 {
		fmt.Fprintln(os.Stderr, "nfqbench: need -bin, -rounds >= 1, -queue <= 65535 and -sizes like 64,1400")
		os.Exit(2)
	}
	if consumers != "" {
		o.consumers = strings.Split(consumers, ",")
	}
	exitOn(benchmark(o))
}

// applyQuick sets the quick defaults for every flag not given explicitly.
func applyQuick(o *options) {
	set := map[string]bool{}
	flag.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if !set["rounds"] {
		o.rounds = 2
	}
	if !set["duration"] {
		o.duration = time.Second
	}
	if !set["pings"] {
		o.pings = 250
	}
	if !set["name"] {
		o.name = "quick"
	}
}

func parseSizes(s string) ([]int, error) {
	var sizes []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 0 || n > 65507 {
			return nil, fmt.Errorf("bad size %q", f)
		}
		sizes = append(sizes, n)
	}
	return sizes, nil
}

func benchmark(o options) error {
	if err := checkNetns(o.netns); err != nil {
		return err
	}
	if len(o.consumers) == 0 {
		var err error
		if o.consumers, err = defaultConsumers(o.bin); err != nil {
			return err
		}
	}
	b := &bench{opt: o}
	teardown, err := b.setup()
	if err != nil {
		return err
	}
	r := b.runAll()
	teardown()
	if err := writeResults(r, o.out, o.name); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "nfqbench: wrote %s.{md,png,json}\n", filepath.Join(o.out, o.name))
	if len(r.Errors) > 0 {
		return fmt.Errorf("%d measurement(s) failed, first: %s", len(r.Errors), r.Errors[0])
	}
	return nil
}

// checkNetns makes sure this process runs in the named namespace, not the
// host's: the rules queue all UDP to one port and ICMP echo requests to
// 127.0.0.1.
func checkNetns(name string) error {
	if name == "" {
		return errors.New("-netns is required: run bench/run.sh, or ip netns exec NAME nfqbench -netns NAME")
	}
	var want, self syscall.Stat_t
	if err := syscall.Stat(filepath.Join("/run/netns", name), &want); err != nil {
		return fmt.Errorf("network namespace %q: %v", name, err)
	}
	if err := syscall.Stat("/proc/self/ns/net", &self); err != nil {
		return err
	}
	if want.Dev != self.Dev || want.Ino != self.Ino {
		return fmt.Errorf("not running in network namespace %q; use ip netns exec %s", name, name)
	}
	return nil
}

func exitOn(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "nfqbench:", err)
		os.Exit(1)
	}
}
