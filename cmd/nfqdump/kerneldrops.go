package main

import (
	"fmt"

	"github.com/nfq-go/nfq"
)

// kernelDrops are the packets the kernel dropped for the queue before
// nfqdump could see them: nfqdump's own counters cannot show those.
type kernelDrops struct {
	known      bool
	why        string // when not known
	queueFull  uint64 // the queue held its maximum of packets waiting for a verdict
	socketFull uint64 // the socket's receive buffer was full
}

// readKernelDrops reads the kernel's counters for q; they exist only while
// q is open.
func readKernelDrops(q *nfq.Queue) kernelDrops {
	k, err := q.KernelStats()
	if err != nil {
		return kernelDrops{why: err.Error()}
	}
	return kernelDrops{known: true, queueFull: k.Dropped, socketFull: k.UserDropped}
}

func (d kernelDrops) String() string {
	if !d.known {
		return fmt.Sprintf("kernel drops unknown (%s)", d.why)
	}
	return fmt.Sprintf("kernel dropped %d (queue full), %d (socket full)", d.queueFull, d.socketFull)
}
