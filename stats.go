package nfq

import "sync/atomic"

// Stats are a queue's counters since Open, kept by the package. The
// kernel's own counters for the queue (drops before the socket) come from
// Queue.KernelStats.
type Stats struct {
	Received        uint64 // packets received from the kernel
	Verdicts        uint64 // verdicts sent through Packet methods
	DefaultVerdicts uint64 // packets that got Config.DefaultVerdict on Close
	Overruns        uint64 // receive-buffer overruns (ENOBUFS); each lost one or more packets in the kernel
	VerdictErrors   uint64 // errors the kernel reported back for verdicts (unknown id, ...)
	// Truncated counts packet messages larger than the receive buffer for
	// the copy range (never expected); each got Config.DefaultVerdict.
	Truncated uint64

	// ByVerdict splits Verdicts by kind. Default verdicts given on Close
	// are counted in DefaultVerdicts only.
	ByVerdict VerdictCounts

	// Waits counts how the receive loop waited for packets.
	Waits WaitCounts
}

// VerdictCounts counts the verdicts sent through Packet methods by kind.
type VerdictCounts struct {
	Accept, Drop, Repeat, Stop uint64
	ToQueue                    uint64 // verdicts made by ToQueue, any target
}

// WaitCounts count the receive loop's waits for packets once the socket was
// empty. Many Parked against few InThread, with steady traffic, says that
// Config.ThreadWait is shorter than the gaps between packets (or that
// GOMAXPROCS leaves no P to wait with).
type WaitCounts struct {
	InThread uint64 // waits in the loop's own thread that ended with the socket readable
	Parked   uint64 // times the loop parked in Go's poller
}

// KernelStats are the kernel's counters for a queue, from
// /proc/net/netfilter/nfnetlink_queue of the queue's network namespace
// (Queue.KernelStats). They count what the library cannot see: packets the
// kernel dropped before they reached the socket.
type KernelStats struct {
	PortID   uint32 // netlink port id of the socket bound to the queue
	QueueLen uint32 // packets waiting for a verdict now (queue_total)
	// Dropped counts packets dropped because the queue was full
	// (Config.MaxQueueLen); with FlagFailOpen they are accepted instead
	// and not counted.
	Dropped uint64
	// UserDropped counts packets dropped because the socket receive buffer
	// was full (see Config.ReadBufferSize and ErrOverrun).
	UserDropped uint64
	// IDSequence is the id of the latest packet queued: how many packets
	// the queue has seen since it was bound (it wraps at 2^32).
	IDSequence uint32
}

type counters struct {
	received, verdicts, defaultVerdicts, overruns, verdictErrors atomic.Uint64

	accept, drop, repeat, stop, toQueue atomic.Uint64

	waitsInThread, parked atomic.Uint64
}

// countVerdict counts a verdict sent through a Packet method.
func (c *counters) countVerdict(v Verdict) {
	c.verdicts.Add(1)
	switch v & verdictMask {
	case Accept:
		c.accept.Add(1)
	case Drop:
		c.drop.Add(1)
	case Repeat:
		c.repeat.Add(1)
	case Stop:
		c.stop.Add(1)
	case nfQueue:
		c.toQueue.Add(1)
	}
}

func (c *counters) snapshot() Stats {
	return Stats{
		Received:        c.received.Load(),
		Verdicts:        c.verdicts.Load(),
		DefaultVerdicts: c.defaultVerdicts.Load(),
		Overruns:        c.overruns.Load(),
		VerdictErrors:   c.verdictErrors.Load(),
		ByVerdict: VerdictCounts{
			Accept:  c.accept.Load(),
			Drop:    c.drop.Load(),
			Repeat:  c.repeat.Load(),
			Stop:    c.stop.Load(),
			ToQueue: c.toQueue.Load(),
		},
		Waits: WaitCounts{InThread: c.waitsInThread.Load(), Parked: c.parked.Load()},
	}
}
