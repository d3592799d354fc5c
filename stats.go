package nfq

import "sync/atomic"

// Stats are a queue's counters since Open.
type Stats struct {
	Received        uint64 // packets received from the kernel
	Verdicts        uint64 // verdicts sent through Packet methods
	DefaultVerdicts uint64 // packets that got Config.DefaultVerdict on Close
	Overruns        uint64 // receive-buffer overruns (ENOBUFS); each lost one or more packets in the kernel
	VerdictErrors   uint64 // errors the kernel reported back for verdicts (unknown id, ...)
	// Truncated counts packet messages larger than the receive buffer for
	// the copy range (never expected); each got Config.DefaultVerdict.
	Truncated uint64
}

type counters struct {
	received, verdicts, defaultVerdicts, overruns, verdictErrors atomic.Uint64
}

func (c *counters) snapshot() Stats {
	return Stats{
		Received:        c.received.Load(),
		Verdicts:        c.verdicts.Load(),
		DefaultVerdicts: c.defaultVerdicts.Load(),
		Overruns:        c.overruns.Load(),
		VerdictErrors:   c.verdictErrors.Load(),
	}
}
