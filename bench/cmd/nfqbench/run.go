package main

import (
	"time"

	"github.com/nfq-go/nfq/bench/internal/result"
)

// Run is everything one benchmark run measured; it is saved as JSON so the
// report can be rewritten without measuring again.
type Run struct {
	Date      time.Time `json:"date"`
	Host      Host      `json:"host"`
	Settings  Settings  `json:"settings"`
	Consumers []string  `json:"consumers"` // in the order of the report
	Samples   []Sample  `json:"samples"`
	Errors    []string  `json:"errors,omitempty"`
}

// Settings are the options that shape the numbers.
type Settings struct {
	Rounds         int     `json:"rounds"`
	DurationS      float64 `json:"duration_s"`
	Sizes          []int   `json:"sizes"`
	Pings          int     `json:"pings"`
	PingIntervalUs int     `json:"ping_interval_us"`
	WarmupS        float64 `json:"warmup_s,omitempty"`
	RcvBuf         int     `json:"rcvbuf"`
	Quick          bool    `json:"quick"`
}

// Sample kinds.
const (
	kindThroughput = "throughput" // UDP blast at one payload size
	kindLatency    = "latency"    // ICMP echoes through the queue
	kindBaseline   = "baseline"   // ICMP echoes that bypass the queue
)

// Sample is one measurement of one consumer (none for a baseline).
type Sample struct {
	Round    int                   `json:"round"`
	Kind     string                `json:"kind"`
	Consumer string                `json:"consumer,omitempty"`
	Size     int                   `json:"size,omitempty"`
	Result   *result.Consumer      `json:"result,omitempty"`
	Sender   *result.Sender        `json:"sender,omitempty"`
	Sink     *result.Sink          `json:"sink,omitempty"`
	Kernel   *result.QueueCounters `json:"kernel,omitempty"` // read just before the consumer stopped
	UDP      *UDPCounters          `json:"udp,omitempty"`    // the namespace's, during the sample
	// OtherCores is the CPU the rest of the machine used while the sender
	// ran: all busy cores minus consumer, sender and sink. On a 2-core
	// machine, anything much above zero slows every figure down.
	OtherCores float64       `json:"other_cores"`
	Probe      *result.Probe `json:"probe,omitempty"`
}

// UDPCounters are the UDP counters of /proc/net/snmp that show whether
// accepted packets reached the sink.
type UDPCounters struct {
	InDatagrams  uint64 `json:"in_datagrams"`  // delivered to a socket
	RcvbufErrors uint64 `json:"rcvbuf_errors"` // dropped: socket receive buffer full
}
