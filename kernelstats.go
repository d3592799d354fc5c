//go:build linux && cgo

package nfq

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"sync"
)

// kernelStatsPath is the kernel's per-queue counters of the calling thread's
// network namespace. The file is per namespace, and so is "thread-self":
// opening it from the thread that binds the queue ties the descriptor to the
// queue's namespace, whichever thread reads it later.
const kernelStatsPath = "/proc/thread-self/net/netfilter/nfnetlink_queue"

// kernelStatsFile reads the kernel's line for one queue.
type kernelStatsFile struct {
	mu  sync.Mutex
	f   *os.File // nil when the file could not be opened, or after close
	err error    // why it could not be opened
}

func openKernelStats() *kernelStatsFile {
	f, err := os.Open(kernelStatsPath)
	return &kernelStatsFile{f: f, err: err}
}

// read returns the counters of queue num.
func (k *kernelStatsFile) read(num uint16) KernelStats {
	if k == nil {
		return KernelStats{Reason: "the queue was never opened"}
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.f == nil {
		if k.err != nil {
			return KernelStats{Reason: k.err.Error()}
		}
		return KernelStats{Reason: "the queue is closed"}
	}
	// ReadAt from offset 0 makes the kernel regenerate the file.
	b, err := io.ReadAll(io.NewSectionReader(k.f, 0, 1<<40))
	if err != nil {
		return KernelStats{Reason: err.Error()}
	}
	return parseKernelStats(b, num)
}

func (k *kernelStatsFile) close() {
	if k == nil {
		return
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.f != nil {
		k.f.Close()
		k.f = nil
	}
}

// parseKernelStats finds queue num's line in the contents of
// /proc/net/netfilter/nfnetlink_queue.
func parseKernelStats(b []byte, num uint16) KernelStats {
	s := bufio.NewScanner(bytes.NewReader(b))
	for s.Scan() {
		var k KernelStats
		var queue, copyMode, copyRange, one uint64
		if _, err := fmt.Sscan(s.Text(), &queue, &k.PortID, &k.QueueLen, &copyMode, &copyRange,
			&k.Dropped, &k.UserDropped, &k.IDSequence, &one); err != nil {
			return KernelStats{Reason: fmt.Sprintf("unexpected line %q in %s", s.Text(), kernelStatsPath)}
		}
		if queue == uint64(num) {
			k.Present = true
			return k
		}
	}
	return KernelStats{Reason: "the kernel does not list the queue"}
}
