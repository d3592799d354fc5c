package main

import (
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
}

const usage = `nfqdump prints the packets of an NFQUEUE queue, one line each, and gives each
a verdict (accept unless told otherwise).

Send packets to the queue with a rule in the same network namespace, then run
nfqdump as root (or with CAP_NET_ADMIN):

  iptables -A OUTPUT -p icmp -j NFQUEUE --queue-num 0
  nfqdump -queue 0

Flags:
`

// parseOptions reads the command line. Errors are ready to print; the
// flag.ErrHelp error means -help was asked for, and usage went to out.
func parseOptions(args []string, out io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("nfqdump", flag.ContinueOnError)
	fs.SetOutput(out)
	fs.Usage = func() {
		fmt.Fprint(out, usage)
		fs.PrintDefaults()
	}
	queue := fs.Uint("queue", 0, "NFQUEUE queue `number` (0-65535), as in iptables --queue-num")
	fs.BoolVar(&o.json, "json", false, "print JSON lines with every attribute of each packet (absent ones omitted)")
	verdict := fs.String("verdict", "accept", "verdict for every packet: accept, drop, repeat, queue:N or queue:N+bypass")
	mark := fs.String("mark", "", "set this packet `mark` with the verdict (decimal or 0x hex)")
	fs.Uint64Var(&o.count, "count", 0, "stop after `n` packets (0: run until SIGINT or SIGTERM)")
	fs.Var(&o.stats, "stats", "show live counters on stderr (default: when standard output is not a terminal)")
	snaplen := fs.Uint("snaplen", 0, "copy at most `bytes` of each packet from the kernel (0: all)")
	flags := fs.String("flags", "", "queue flags to enable, comma-separated: fail-open, conntrack, gso, uid-gid, secctx")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected argument %q: nfqdump takes flags only (see -help)", fs.Arg(0))
	}
	if *queue > 65535 {
		return o, fmt.Errorf("-queue %d: queue numbers go from 0 to 65535", *queue)
	}
	if *snaplen > nfq.MaxCopyRange {
		return o, fmt.Errorf("-snaplen %d: the kernel copies at most %d bytes", *snaplen, nfq.MaxCopyRange)
	}
	o.queue, o.snaplen = uint16(*queue), uint32(*snaplen)
	var err error
	if o.policy, err = parsePolicy(*verdict, *mark); err != nil {
		return o, err
	}
	if o.flags, err = parseFlags(*flags); err != nil {
		return o, err
	}
	return o, nil
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
