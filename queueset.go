//go:build linux && cgo

package nfq

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
)

// QueueSet is a range of queues opened together to serve an iptables
// --queue-balance A:B rule, which spreads packets over queues A..B by flow.
// Each queue has its own socket and its own receive loop, so the set
// scales past one core. Consume it one of three ways: Packets (one channel
// for all queues), each queue's own Queue.Packets or Queue.Run (from
// Queues), or Run (a callback called from one goroutine per queue).
// Packet.Queue tells which queue a packet came from; its verdict goes back
// through that queue.
type QueueSet struct {
	first, last uint16
	queues      []*Queue

	// merged is the shared channel of Packets, set before any loop starts;
	// running counts the loops still writing to it: the last one to stop
	// closes it.
	merged  chan *Packet
	running atomic.Int32
}

// OpenRange opens queues first..last (both included) with the same
// configuration, in the network namespace cfg.NetNS names or else in that
// of the calling thread; cfg.Queue must be left zero. If one queue fails to
// open, the ones already open are closed and the error names the queue that
// failed.
func OpenRange(first, last uint16, cfg Config) (*QueueSet, error) {
	op := fmt.Sprintf("open range %d:%d", first, last)
	if first > last {
		return nil, &OpError{Op: op, Queue: first, Err: fmt.Errorf("%w: first queue %d is above last queue %d", ErrInvalidConfig, first, last),
			Hint: "give the range as in iptables --queue-balance A:B, with A <= B"}
	}
	if cfg.Queue != 0 {
		return nil, &OpError{Op: op, Queue: cfg.Queue, Err: fmt.Errorf("%w: Config.Queue is set", ErrInvalidConfig),
			Hint: "leave Config.Queue zero: OpenRange numbers the queues itself"}
	}
	s := &QueueSet{first: first, last: last}
	err := inNetNS(first, cfg.NetNS, func() error {
		// Every queue in the same namespace: stay on this thread meanwhile.
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		for n := int(first); n <= int(last); n++ {
			c := cfg
			c.Queue = uint16(n)
			q, err := open(c)
			if err != nil {
				return err // an *OpError naming queue n
			}
			q.set = s
			s.queues = append(s.queues, q)
		}
		return nil
	})
	if err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// Queues returns the queues of the set, in queue number order. Use them for
// per-queue channels (Queue.Packets) or callbacks, or for their counters.
func (s *QueueSet) Queues() []*Queue { return append([]*Queue(nil), s.queues...) }

// Range returns the first and last queue numbers of the set.
func (s *QueueSet) Range() (first, last uint16) { return s.first, s.last }

// Packets delivers the packets of every queue on one channel. Each queue's
// receive loop writes to it directly, so no goroutine stands between the
// socket and the consumer. The channel is closed once every queue is closed;
// ctx ending closes them all. Like Queue.Packets, it may be called once, and
// not together with Run or a queue's own Packets or Run.
func (s *QueueSet) Packets(ctx context.Context) (<-chan *Packet, error) {
	if ctx == nil {
		return nil, nilContext("packets", s.first)
	}
	if err := s.startConsuming("packets"); err != nil {
		return nil, err
	}
	// Room for every loop's batch; more would only hide a slow consumer.
	ch := make(chan *Packet, min(channelBuffer*len(s.queues), 1024))
	s.merged = ch
	s.running.Store(int32(len(s.queues)))
	for _, q := range s.queues {
		q.deliverTo(ctx, ch, func() {
			if s.running.Add(-1) == 0 {
				// What is still buffered had the default verdict.
				drainPackets(ch)
				close(ch)
			}
		})
	}
	return ch, nil
}

// Run calls fn for each packet of every queue, concurrently from one
// goroutine per queue (packets of one queue, hence of one flow, in order),
// until ctx ends or the set is closed; ctx ending closes it. Like Queue.Run,
// it returns ctx.Err() when ctx ended and nil when Close ended it. If one
// queue fails, Run closes the others and returns the error. If fn panics,
// the set is closed (every packet without a verdict gets the default
// verdict) and the panic continues on the goroutine that called Run.
func (s *QueueSet) Run(ctx context.Context, fn func(*Packet)) error {
	if fn == nil {
		return &OpError{Op: "run", Queue: s.first, Err: errors.New("nil callback")}
	}
	if ctx == nil {
		return nilContext("run", s.first)
	}
	if err := s.startConsuming("run"); err != nil {
		return err
	}
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		errs     []error
		ctxErr   error
		panicked bool
		panicVal any
	)
	for _, q := range s.queues {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() {
				if r := recover(); r != nil {
					mu.Lock()
					if !panicked {
						panicked, panicVal = true, r
					}
					mu.Unlock()
					s.Close()
				}
			}()
			switch err := q.run(ctx, fn); {
			case err == nil:
			case err == ctx.Err(): // ctx closes every queue: one error for all
				mu.Lock()
				ctxErr = err
				mu.Unlock()
			default:
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
				s.Close()
			}
		}()
	}
	wg.Wait()
	if panicked {
		panic(panicVal)
	}
	if len(errs) == 0 {
		return ctxErr
	}
	return errors.Join(errs...)
}

// startConsuming marks every queue as consumed, or none.
func (s *QueueSet) startConsuming(op string) error {
	for i, q := range s.queues {
		if err := q.startConsuming(op); err != nil {
			for _, done := range s.queues[:i] {
				done.consuming.Store(false)
			}
			return err
		}
	}
	return nil
}

// Close closes every queue (see Queue.Close: each received packet without a
// verdict gets Config.DefaultVerdict) and, with Packets, waits until the
// shared channel is closed. It is idempotent and safe from any goroutine.
func (s *QueueSet) Close() error {
	var errs []error
	for _, q := range s.queues {
		if err := q.Close(); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Stats returns each queue's counters, by queue number. The kernel's
// counters are each queue's KernelStats.
func (s *QueueSet) Stats() map[uint16]Stats {
	out := make(map[uint16]Stats, len(s.queues))
	for _, q := range s.queues {
		out[q.Num()] = q.Stats()
	}
	return out
}
