package main

import (
	"slices"

	"github.com/nfq-go/nfq/bench/internal/result"
)

// sizeStats sums up one consumer at one payload size over the rounds.
type sizeStats struct {
	Rounds    int
	PPS       float64 // median packets/s
	UserUs    float64 // median user CPU microseconds per packet
	SysUs     float64 // median system CPU microseconds per packet
	Busy      float64 // median CPU seconds per second of traffic (1 = one core flat out)
	Allocs    float64 // median Go heap allocations per packet
	HasAllocs bool
	Delivered float64 // sink received / packets accepted, all rounds
	Lost      uint64  // accepted but not received by the sink, all rounds
	SinkFull  uint64  // of those, dropped at the sink's full receive buffer
	QueueFull uint64  // kernel queue_dropped, summed over rounds
	SockFull  uint64  // kernel queue_user_dropped, summed over rounds
}

// row sums up one consumer; P50/P99 are medians over rounds.
type row struct {
	Name      string
	Sizes     map[int]*sizeStats
	LatRounds int
	P50, P99  float64
}

type summary struct {
	Rows     []row
	Baseline row // the no-queue echoes, Name empty
	// Throughput samples, and those during which other work used more
	// than disturbedCores of the machine.
	Samples, Disturbed int
}

// disturbedCores is clearly more than the benchmark's own unaccounted
// kernel work (ksoftirqd, kworkers), which stays around 0.1-0.3 cores.
const disturbedCores = 0.4

func summarize(r *Run) summary {
	var s summary
	for _, name := range r.Consumers {
		s.Rows = append(s.Rows, summarizeConsumer(r, name))
	}
	s.Baseline = latencyRow(r, kindBaseline, "")
	for _, smp := range r.Samples {
		if smp.Kind == kindThroughput {
			s.Samples++
			if smp.OtherCores > disturbedCores {
				s.Disturbed++
			}
		}
	}
	return s
}

func summarizeConsumer(r *Run, name string) row {
	out := latencyRow(r, kindLatency, name)
	out.Sizes = map[int]*sizeStats{}
	for _, size := range r.Settings.Sizes {
		var pps, user, sys, busy, allocs []float64
		st := &sizeStats{}
		var accepted, delivered uint64
		for _, s := range r.Samples {
			if s.Kind != kindThroughput || s.Consumer != name || s.Size != size || s.Result.Packets == 0 {
				continue
			}
			c := s.Result
			st.Rounds++
			pps = append(pps, perSecond(c))
			user = append(user, perPacket(c.UserS, c))
			sys = append(sys, perPacket(c.SysS, c))
			if c.ActiveS > 0 {
				busy = append(busy, (c.UserS+c.SysS)/c.ActiveS)
			}
			if c.Mallocs != nil {
				st.HasAllocs = true
				allocs = append(allocs, float64(*c.Mallocs)/float64(c.Packets))
			}
			accepted += c.Packets
			delivered += s.Sink.Received
			if s.Sink.Received < c.Packets {
				st.Lost += c.Packets - s.Sink.Received
			}
			if s.UDP != nil {
				st.SinkFull += s.UDP.RcvbufErrors
			}
			st.QueueFull += s.Kernel.Dropped
			st.SockFull += s.Kernel.UserDropped
		}
		st.PPS, st.UserUs, st.SysUs, st.Busy, st.Allocs = median(pps), median(user), median(sys), median(busy), median(allocs)
		if accepted > 0 {
			st.Delivered = float64(delivered) / float64(accepted)
		}
		out.Sizes[size] = st
	}
	return out
}

func latencyRow(r *Run, kind, name string) row {
	var p50, p99 []float64
	for _, s := range r.Samples {
		if s.Kind == kind && s.Consumer == name {
			p50 = append(p50, s.Probe.P50us)
			p99 = append(p99, s.Probe.P99us)
		}
	}
	return row{Name: name, LatRounds: len(p50), P50: median(p50), P99: median(p99)}
}

// perSecond is the consumer's rate over its first-to-last packet window.
func perSecond(c *result.Consumer) float64 {
	if c.ActiveS <= 0 || c.Packets < 2 {
		return 0
	}
	return float64(c.Packets-1) / c.ActiveS
}

// perPacket turns seconds of CPU into microseconds per packet.
func perPacket(seconds float64, c *result.Consumer) float64 {
	if c.Packets == 0 {
		return 0
	}
	return seconds / float64(c.Packets) * 1e6
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	v = slices.Clone(v)
	slices.Sort(v)
	m := len(v) / 2
	if len(v)%2 == 0 {
		return (v[m-1] + v[m]) / 2
	}
	return v[m]
}
