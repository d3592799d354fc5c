package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"

	"github.com/nfq-go/nfq"
)

// options are nfqdump's command line.
type options struct {
	queue   uint16
	json    bool
	policy  policy
	count   uint64
	stats   autoBool
	snaplen uint32
	flags   nfq.Flags
	write   string // -w: pcap file, "-" for standard output, "" for none
	print   bool   // -print: lines as well as the -w file
	version bool
}

// usageError is a bad command line (exit status 2).
type usageError struct {
	err  error
	hint bool // point to -help: the flag package's errors do not say what the flags are
}

func (e *usageError) Error() string {
	if e.hint {
		return e.err.Error() + " (nfqdump -help lists the flags)"
	}
	return e.err.Error()
}

func (e *usageError) Unwrap() error { return e.err }

func usageErrorf(format string, args ...any) error {
	return &usageError{err: fmt.Errorf(format, args...)}
}

// parseOptions reads the command line. Its errors are one line, ready to
// print; flag.ErrHelp means -help was asked for, and the help went to help.
func parseOptions(args []string, help io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("nfqdump", flag.ContinueOnError)
	// The flag package would print each error and the whole help; nfqdump
	// prints the error alone, once.
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	queue := fs.Uint("queue", 0, "NFQUEUE queue `number` (0-65535), as in iptables --queue-num")
	fs.BoolVar(&o.json, "json", false, "print JSON lines with every attribute of each packet (absent ones omitted)")
	fs.BoolVar(&o.json, "v", false, "")
	verdict := fs.String("verdict", "accept", "`verdict` for every packet: accept, drop, repeat, queue:N or queue:N+bypass")
	mark := fs.String("mark", "", "set this packet `mark` with the verdict (decimal or 0x hex)")
	fs.Uint64Var(&o.count, "count", 0, "stop after `n` packets (0: run until SIGINT or SIGTERM)")
	fs.Uint64Var(&o.count, "c", 0, "")
	fs.Var(&o.stats, "stats", "show live counters on stderr (default: when standard output is not a terminal, or with -w)")
	fs.Var(quietFlag{&o.stats}, "q", "quiet: no live counters, the same as -stats=false")
	var snaplen uint
	fs.UintVar(&snaplen, "snaplen", 0, "copy at most `bytes` of each packet from the kernel (0: all)")
	fs.UintVar(&snaplen, "s", 0, "")
	flags := fs.String("flags", "", "queue flags to enable, a comma-separated `list` of: fail-open, conntrack, gso, uid-gid, secctx")
	fs.StringVar(&o.write, "w", "", "write the packets to `file` in pcap format (\"-\": standard output) instead of printing them")
	fs.BoolVar(&o.print, "print", false, "with -w, print the packets as well")
	fs.Bool("n", false, "accepted as in tcpdump: nfqdump never turns addresses or ports into names")
	fs.Bool("nn", false, "")
	fs.BoolVar(&o.version, "version", false, "print the version and exit")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			printHelp(help, fs)
			return o, err
		}
		return o, &usageError{err: err, hint: true}
	}
	if fs.NArg() > 0 {
		return o, usageErrorf("unexpected argument %q: nfqdump takes flags only, and the NFQUEUE rule is its filter (see -help)", fs.Arg(0))
	}
	if *queue > 65535 {
		return o, usageErrorf("-queue %d: queue numbers go from 0 to 65535", *queue)
	}
	if snaplen > nfq.MaxCopyRange {
		return o, usageErrorf("-snaplen %d: the kernel copies at most %d bytes", snaplen, nfq.MaxCopyRange)
	}
	if o.print && o.write == "" {
		return o, usageErrorf("-print goes with -w: without -w nfqdump prints the packets anyway")
	}
	if o.print && o.write == "-" {
		return o, usageErrorf("-w - -print: the pcap file and the lines cannot both go to standard output")
	}
	o.queue, o.snaplen = uint16(*queue), uint32(snaplen)
	var err error
	if o.policy, err = parsePolicy(*verdict, *mark); err != nil {
		return o, &usageError{err: err}
	}
	if o.flags, err = parseFlags(*flags); err != nil {
		return o, &usageError{err: err}
	}
	return o, nil
}

// quietFlag is -q: it turns the live counters off.
type quietFlag struct{ stats *autoBool }

func (q quietFlag) String() string   { return "false" }
func (q quietFlag) IsBoolFlag() bool { return true }

func (q quietFlag) Set(s string) error {
	v, err := strconv.ParseBool(s)
	if err != nil {
		return fmt.Errorf("want true or false")
	}
	if v {
		*q.stats = autoBool{set: true, value: false}
	}
	return nil
}

// autoBool is a boolean flag that remembers whether it was given.
type autoBool struct{ set, value bool }

func (b *autoBool) String() string {
	if b == nil || !b.set {
		return "auto"
	}
	return strconv.FormatBool(b.value)
}

func (b *autoBool) Set(s string) error {
	v, err := strconv.ParseBool(s)
	if err != nil {
		return fmt.Errorf("want true or false")
	}
	b.set, b.value = true, v
	return nil
}

func (b *autoBool) IsBoolFlag() bool { return true }

// or returns the flag's value if it was given, def otherwise.
func (b autoBool) or(def bool) bool {
	if b.set {
		return b.value
	}
	return def
}
