package main

import (
	"fmt"
	"io"
	"sync/atomic"
	"time"
)

// counters are the running totals shown on stderr. The packet loop adds,
// the reporter goroutine reads.
type counters struct {
	packets, bytes atomic.Uint64
	// kernel reads the kernel's drop counters for the queue; nil: none.
	kernel func() kernelDrops
}

func (c *counters) add(length int) {
	c.packets.Add(1)
	c.bytes.Add(uint64(length))
}

// sample is the counters at one moment.
type sample struct {
	at             time.Time
	packets, bytes uint64
	drops          *kernelDrops
}

func (c *counters) sample(now time.Time) sample {
	s := sample{at: now, packets: c.packets.Load(), bytes: c.bytes.Load()}
	if c.kernel != nil {
		d := c.kernel()
		s.drops = &d
	}
	return s
}

// statusLine says "1234 packets, 1.2 MB, 120 pkt/s, 96.0 kB/s; kernel
// dropped 0 (queue full), 0 (socket full)": totals at cur, rates since prev.
func statusLine(prev, cur sample) string {
	secs := cur.at.Sub(prev.at).Seconds()
	var pps, bps float64
	if secs > 0 {
		pps = float64(cur.packets-prev.packets) / secs
		bps = float64(cur.bytes-prev.bytes) / secs
	}
	line := fmt.Sprintf("%d packets, %s, %.0f pkt/s, %s/s", cur.packets, byteSize(float64(cur.bytes)), pps, byteSize(bps))
	if cur.drops != nil {
		line += "; " + cur.drops.String()
	}
	return line
}

// byteSize writes n bytes with a decimal unit.
func byteSize(n float64) string {
	const units = "kMGTPE"
	if n < 1000 {
		return fmt.Sprintf("%.0f B", n)
	}
	i := -1
	for n >= 1000 && i < len(units)-1 {
		n /= 1000
		i++
	}
	return fmt.Sprintf("%.1f %cB", n, units[i])
}

// report writes a status line to w every interval until stop is closed. On
// a terminal it rewrites one line in place; elsewhere it appends lines.
func (c *counters) report(w io.Writer, terminal bool, interval time.Duration, stop <-chan struct{}) {
	t := time.NewTicker(interval)
	defer t.Stop()
	prev := c.sample(time.Now())
	for {
		select {
		case <-stop:
			if terminal {
				fmt.Fprint(w, "\r\033[K")
			}
			return
		case now := <-t.C:
			cur := c.sample(now)
			if terminal {
				fmt.Fprintf(w, "\r\033[K%s", statusLine(prev, cur))
			} else {
				fmt.Fprintf(w, "nfqdump: %s\n", statusLine(prev, cur))
			}
			prev = cur
		}
	}
}
