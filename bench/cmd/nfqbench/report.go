package main

import (
	"fmt"
	"io"
	"strings"
)

// reference is the consumer every ratio is relative to.
const reference = "c-plain"

func writeMarkdown(w io.Writer, r *Run, s summary) {
	st := r.Settings
	fmt.Fprintf(w, "# nfq consumer benchmark\n\n")
	fmt.Fprintf(w, "%s, Linux %s, %s (%d cores), %s, libnetfilter_queue %s.  \n",
		r.Date.Format("2006-01-02 15:04 UTC"), r.Host.Kernel, r.Host.CPU, r.Host.Cores, r.Host.Go, r.Host.LibNFQ)
	fmt.Fprintf(w, "%d rounds in rotated order; per round and consumer %.0f s of UDP per size and %d ICMP echoes at %d/s",
		st.Rounds, st.DurationS, st.Pings, 1000000/max(st.PingIntervalUs, 1))
	if st.WarmupS > 0 {
		fmt.Fprintf(w, " (after %.1f s of UDP through the same process)", st.WarmupS)
	}
	fmt.Fprint(w, ". ")
	fmt.Fprintf(w, "Figures are medians over rounds; ratios are to %s. Produced by `bench/run.sh`", reference)
	if st.Quick {
		fmt.Fprint(w, " `-quick` (a smoke run: too short for conclusions)")
	}
	fmt.Fprint(w, ".  \n")
	fmt.Fprintf(w, "Other work: %.2f cores busy before the run; more than %.1f cores beside %d of %d throughput samples (after up to %d retakes each); CPU steal %.1f%%.\n",
		r.Host.BusyAtStart, disturbedCores, s.Disturbed, s.Samples, retakes, r.Host.StealPct)
	if r.Host.BusyAtStart > disturbedCores || s.Disturbed > s.Samples/5 {
		fmt.Fprint(w, "\n**The machine was not quiet: the figures are low and noisy. Rerun on an idle machine.**\n")
	}
	if len(r.Errors) > 0 {
		fmt.Fprintf(w, "\n**%d measurement(s) failed:** %s\n", len(r.Errors), strings.Join(r.Errors, "; "))
	}

	ref := findRow(s, reference)
	for _, size := range st.Sizes {
		fmt.Fprintf(w, "\n## Throughput, %d-byte UDP payload (%d-byte IP packets)\n\n", size, size+28)
		fmt.Fprintln(w, "| consumer | packets/s | vs plain | CPU µs/packet user | system | total | vs plain | cores busy | Go allocs/packet | delivered | kernel drops: queue full / socket full |")
		fmt.Fprintln(w, "|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|")
		for _, row := range s.Rows {
			t := row.Sizes[size]
			if t == nil || t.Rounds == 0 {
				fmt.Fprintf(w, "| %s | no data ||||||||||\n", row.Name)
				continue
			}
			allocs := "–"
			if t.HasAllocs {
				allocs = fmt.Sprintf("%.2f", t.Allocs)
			}
			var refPPS, refCPU float64
			if rt := ref.Sizes[size]; rt != nil {
				refPPS, refCPU = rt.PPS, rt.UserUs+rt.SysUs
			}
			fmt.Fprintf(w, "| %s | %s | %s | %.2f | %.2f | %.2f | %s | %.2f | %s | %.2f%% | %d / %d |\n",
				row.Name, thousands(t.PPS), ratio(t.PPS, refPPS), t.UserUs, t.SysUs, t.UserUs+t.SysUs,
				ratio(t.UserUs+t.SysUs, refCPU), t.Busy, allocs, 100*t.Delivered, t.QueueFull, t.SockFull)
		}
		for _, row := range s.Rows {
			if t := row.Sizes[size]; t != nil && t.Lost > 0 {
				fmt.Fprintf(w, "\n%s: %d accepted packets did not reach the sink, %d of them dropped at its full receive buffer.\n",
					row.Name, t.Lost, t.SinkFull)
			}
		}
	}

	fmt.Fprintf(w, "\n## Latency, ICMP echo round trip with one pass through the queue\n\n")
	fmt.Fprintln(w, "| consumer | p50 µs | vs plain | p99 µs | vs plain |")
	fmt.Fprintln(w, "|---|--:|--:|--:|--:|")
	for _, row := range s.Rows {
		fmt.Fprintf(w, "| %s | %.1f | %s | %.1f | %s |\n", row.Name, row.P50, ratio(row.P50, ref.P50), row.P99, ratio(row.P99, ref.P99))
	}
	fmt.Fprintf(w, "| (no queue: kernel only) | %.1f | | %.1f | |\n", s.Baseline.P50, s.Baseline.P99)

	fmt.Fprint(w, `
## How to read this

- **packets/s**: packets the consumer accepted over its first-to-last packet window. The sender
  blasts with sendmmsg, but queued packets stay charged to its socket send buffer until their
  verdict, so it waits for the consumer: the rate is the consumer's.
- **CPU µs/packet**: getrusage of the consumer process divided by its packets. System time
  includes the kernel carrying each accepted packet on to the receiving socket, which runs inside
  the verdict call, so it is large for every consumer.
- **cores busy**: consumer CPU seconds per second of traffic. Near 1 (or above, for Go's extra
  threads), the consumer was the bottleneck. Well below 1, it waited for traffic: the sender and
  the sink share the machine's other core, so packets/s is then a floor on what the consumer can
  do, and CPU µs/packet is the figure to compare.
- **Go allocs/packet**: runtime.MemStats.Mallocs counted while consuming, divided by packets.
- **delivered**: datagrams the sink received / packets the consumer accepted (100% = none lost
  after the verdict). **kernel drops** come from /proc/net/netfilter/nfnetlink_queue, summed over
  rounds: queue full (queue_dropped) and consumer socket buffer full (queue_user_dropped).
- **Latency**: one echo in flight at a time; only the echo request is queued (the reply is not).
  The no-queue row probes 127.0.0.2, which no rule matches. Before its echoes, each consumer
  passes a short UDP blast (-warmup): a fresh Go process page-faults on new heap memory every
  dozen packets or so until its first GC cycle, which a long-running consumer is long past.
- c-plain is the textbook loop (one recv and one nfq_set_verdict per packet); c-batched takes
  many messages per recvmmsg and accepts them with one nfq_set_verdict_batch; go-chan is
  Queue.Packets, go-run is Queue.Run, each with one Accept per packet (any other go-MODE row is
  bench/cmd/nfqconsumer -mode MODE).
`)
}

func findRow(s summary, name string) row {
	for _, r := range s.Rows {
		if r.Name == name {
			return r
		}
	}
	return row{Sizes: map[int]*sizeStats{}}
}

func ratio(v, ref float64) string {
	if ref == 0 || v == 0 {
		return "–"
	}
	return fmt.Sprintf("%.2f×", v/ref)
}

// thousands formats 123456.7 as 123,457.
func thousands(v float64) string {
	s := fmt.Sprintf("%.0f", v)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
