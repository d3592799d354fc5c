//go:build linux && cgo

package nfq

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"sync"
)

// kernelStatsPath is the kernel's per-queue counters of the calling thread's
// network namespace. The file is per namespace, and so is "thread-self":
// opening it from the thread that binds the queue ties the descriptor to the
// queue's namespace, whichever thread reads it later.
const kernelStatsPath = "/proc/thread-self/net/netfilter/nfnetlink_queue"

// kernelStatsName is the file's usual name, for messages.
const kernelStatsName = "/proc/net/netfilter/nfnetlink_queue"

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

// KernelStats reads the kernel's counters for the queue, from the queue's
// network namespace whichever thread asks. It fails with an error wrapping
// ErrClosed once the queue is closed (the kernel forgets the queue with it),
// and with the file's error where the kernel offers no counters (no /proc).
func (q *Queue) KernelStats() (KernelStats, error) {
	k, err := q.kstats.read(q.cfg.Queue)
	if err != nil {
		e := &OpError{Op: "read kernel stats", Queue: q.cfg.Queue, Err: err}
		if errors.Is(err, fs.ErrNotExist) {
			e.Hint = "the kernel offers no " + kernelStatsName + " here (no /proc mounted, or no nfnetlink_queue)"
		}
		return KernelStats{}, e
	}
	return k, nil
}

// read returns the counters of queue num.
func (k *kernelStatsFile) read(num uint16) (KernelStats, error) {
	if k == nil {
		return KernelStats{}, ErrClosed
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.f == nil {
		if k.err != nil {
			return KernelStats{}, k.err
		}
		return KernelStats{}, ErrClosed
	}
	// ReadAt from offset 0 makes the kernel regenerate the file.
	b, err := io.ReadAll(io.NewSectionReader(k.f, 0, 1<<40))
	if err != nil {
		return KernelStats{}, err
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

// errQueueNotListed: the kernel's file has no line for the queue.
var errQueueNotListed = errors.New("the kernel does not list the queue in " + kernelStatsName)

// parseKernelStats finds queue num's line in the contents of
// /proc/net/netfilter/nfnetlink_queue.
func parseKernelStats(b []byte, num uint16) (KernelStats, error) {
	s := bufio.NewScanner(bytes.NewReader(b))
	for s.Scan() {
		var k KernelStats
		var queue, copyMode, copyRange, one uint64
		if _, err := fmt.Sscan(s.Text(), &queue, &k.PortID, &k.QueueLen, &copyMode, &copyRange,
			&k.Dropped, &k.UserDropped, &k.IDSequence, &one); err != nil {
			return KernelStats{}, fmt.Errorf("unexpected line %q in %s", s.Text(), kernelStatsName)
		}
		if queue == uint64(num) {
			return k, nil
		}
	}
	return KernelStats{}, errQueueNotListed
}
