//go:build !linux || !cgo

package nfq

import "context"

// QueueSet is a range of queues opened together. In this build (not Linux,
// or cgo off) none can be opened.
type QueueSet struct{ first, last uint16 }

// OpenRange fails: NFQUEUE requires Linux and cgo.
func OpenRange(first, last uint16, cfg Config) (*QueueSet, error) {
	return nil, &OpError{Op: "open range", Queue: first, Err: errUnsupported}
}

// Queues returns nothing.
func (s *QueueSet) Queues() []*Queue { return nil }

// Range returns the first and last queue numbers of the set.
func (s *QueueSet) Range() (first, last uint16) { return s.first, s.last }

// Packets fails: NFQUEUE requires Linux and cgo.
func (s *QueueSet) Packets(context.Context) (<-chan *Packet, error) {
	return nil, &OpError{Op: "packets", Queue: s.first, Err: errUnsupported}
}

// Run fails: NFQUEUE requires Linux and cgo.
func (s *QueueSet) Run(context.Context, func(*Packet)) error {
	return &OpError{Op: "run", Queue: s.first, Err: errUnsupported}
}

// Close does nothing.
func (s *QueueSet) Close() error { return nil }

// Stats returns nothing.
func (s *QueueSet) Stats() map[uint16]Stats { return nil }
