package main

import (
	"flag"
	"fmt"
	"io"
	"strings"
)

const helpIntro = `Usage: nfqdump [flags]

nfqdump prints the packets of an NFQUEUE queue, one line each (-json: one
JSON object each), or writes them to a pcap file (-w), and gives each a
verdict (accept unless told otherwise).

It takes no filter expression: the iptables or nft rule that sends packets
to the queue is the filter. Add one in the network namespace nfqdump runs
in, then run nfqdump as root (or with CAP_NET_ADMIN):

  iptables -A OUTPUT -p icmp -j NFQUEUE --queue-num 0
  nfqdump -queue 0                       one line per packet
  nfqdump -queue 0 -c 100 -w icmp.pcap   tcpdump -r icmp.pcap reads it

While nothing listens on the queue the kernel drops its packets, unless the
rule has --queue-bypass. When nfqdump stops (SIGINT, SIGTERM, -c, or a closed
standard output as in "nfqdump | head"), the packets it still holds get the
-verdict (accept for repeat), and a summary goes to stderr.

Flags:
`

const helpOutro = `
The pcap files have link type raw IP (each packet starts with its IPv4 or
IPv6 header), the length of the whole packet and the captured part (-s), and
the kernel's timestamp of the packet when it sent one, otherwise the time
nfqdump received it.

Live counters and the summary include the packets the kernel dropped for the
queue before nfqdump saw them (queue full, socket receive buffer full).

Exit status:
  0  stopped as asked: SIGINT, SIGTERM, -c, or standard output closed
  1  the queue could not be opened or served, a verdict failed, or output
     could not be written
  2  bad command line
`

// shortNames are the tcpdump-style spellings of flags; the help lists them
// beside the flag they stand for.
var shortNames = map[string]string{"count": "c", "snaplen": "s", "json": "v", "n": "nn"}

// printHelp writes the help: what nfqdump does, its flags, its exit status.
func printHelp(w io.Writer, fs *flag.FlagSet) {
	fmt.Fprint(w, helpIntro)
	isShort := map[string]bool{}
	for _, s := range shortNames {
		isShort[s] = true
	}
	fs.VisitAll(func(f *flag.Flag) {
		if isShort[f.Name] {
			return
		}
		names := "-" + f.Name
		if s, ok := shortNames[f.Name]; ok {
			names = "-" + s + ", " + names
			if len(s) > len(f.Name) {
				names = "-" + f.Name + ", -" + s
			}
		}
		arg, usage := flag.UnquoteUsage(f)
		if arg != "" {
			names += " " + arg
		}
		fmt.Fprintf(w, "  %s\n    \t%s", names, strings.ReplaceAll(usage, "\n", "\n    \t"))
		switch f.DefValue {
		case "", "0", "false", "auto":
		default:
			fmt.Fprintf(w, " (default %s)", f.DefValue)
		}
		fmt.Fprintln(w)
	})
	fmt.Fprint(w, "  -h, -help\n    \tprint this help\n")
	fmt.Fprint(w, helpOutro)
}
