//go:build !linux || !cgo

package nfq

import (
	"context"
	"fmt"
)

// errUnsupported explains why this build cannot use NFQUEUE.
var errUnsupported = fmt.Errorf("%w: NFQUEUE requires Linux and cgo (build with CGO_ENABLED=1 on Linux, with libnetfilter_queue installed)", ErrNotSupported)

// Queue is an open NFQUEUE queue. In this build (not Linux, or cgo off) no
// queue can be opened.
type Queue struct{ cfg Config }

// Open fails: NFQUEUE requires Linux and cgo.
func Open(cfg Config) (*Queue, error) {
	return nil, &OpError{Op: "open", Queue: cfg.Queue, Err: errUnsupported}
}

// Num returns the queue number.
func (q *Queue) Num() uint16 { return q.cfg.Queue }

// Stats returns the queue's counters.
func (q *Queue) Stats() Stats { return Stats{} }

// KernelStats fails: NFQUEUE requires Linux and cgo.
func (q *Queue) KernelStats() (KernelStats, error) { return KernelStats{}, q.err("read kernel stats") }

// SetCopyMode fails: NFQUEUE requires Linux and cgo.
func (q *Queue) SetCopyMode(CopyMode, uint32) error { return q.err("set copy mode") }

// Packets fails: NFQUEUE requires Linux and cgo.
func (q *Queue) Packets(context.Context) (<-chan *Packet, error) { return nil, q.err("packets") }

// Run fails: NFQUEUE requires Linux and cgo.
func (q *Queue) Run(context.Context, func(*Packet)) error { return q.err("run") }

// Close does nothing.
func (q *Queue) Close() error { return nil }

func (q *Queue) sendVerdict(*Packet, verdictRequest) error { return q.err("verdict") }

func (q *Queue) err(op string) error {
	return &OpError{Op: op, Queue: q.cfg.Queue, Err: errUnsupported}
}
