// Package result holds the JSON lines that the benchmark's programs print,
// so the Go consumer and the orchestrator agree on field names with the C
// programs in bench/c.
package result

// Consumer is what a consumer prints when it stops.
type Consumer struct {
	Consumer      string  `json:"consumer"`
	Queue         uint16  `json:"queue"`
	Packets       uint64  `json:"packets"`
	Bytes         uint64  `json:"bytes"`
	ActiveS       float64 `json:"active_s"` // first to last packet
	UserS         float64 `json:"user_s"`   // getrusage, whole process
	SysS          float64 `json:"sys_s"`
	Overruns      uint64  `json:"overruns"` // ENOBUFS: packets the kernel dropped for us
	VerdictErrors uint64  `json:"verdict_errors"`
	// Mallocs counts Go heap allocations while consuming (Go consumers only).
	Mallocs *uint64 `json:"mallocs,omitempty"`
}

// Sender is what the traffic sender prints.
type Sender struct {
	Sent     uint64  `json:"sent"`
	Errors   uint64  `json:"errors"`
	ElapsedS float64 `json:"elapsed_s"`
	UserS    float64 `json:"user_s"`
	SysS     float64 `json:"sys_s"`
}

// Sink is what the receiving sink prints.
type Sink struct {
	Received uint64  `json:"received"`
	UserS    float64 `json:"user_s"`
	SysS     float64 `json:"sys_s"`
}

// Probe is what the ICMP latency prober prints.
type Probe struct {
	Sent     int     `json:"sent"`
	Received int     `json:"received"`
	P50us    float64 `json:"p50_us"`
	P99us    float64 `json:"p99_us"`
	MaxUs    float64 `json:"max_us"`
}

// QueueCounters is one line of /proc/net/netfilter/nfnetlink_queue.
type QueueCounters struct {
	Total       uint64 `json:"queue_total"`        // waiting for a verdict now
	Dropped     uint64 `json:"queue_dropped"`      // queue full
	UserDropped uint64 `json:"queue_user_dropped"` // netlink socket buffer full
}
