package nfq

import "fmt"

// Verdict is what the kernel does with a queued packet. The values are the
// kernel's NF_* verdict codes from <linux/netfilter.h>.
type Verdict uint32

// Verdicts that userspace may give. NF_STOLEN exists in the kernel but is not
// accepted from userspace, so it is not offered here.
const (
	// Drop (NF_DROP) discards the packet.
	Drop Verdict = 0
	// Accept (NF_ACCEPT) ends the chain that queued the packet as an
	// ACCEPT rule would: the packet goes on to the hook's next table
	// (mangle, nat, filter, ... in priority order) and the later hooks.
	Accept Verdict = 1
	// Repeat (NF_REPEAT) runs the queueing table's chain at this hook again
	// from its first rule. Set a mark with it and let the queue rule skip
	// marked packets, or the packet comes straight back to the queue.
	Repeat Verdict = 4
	// Stop (NF_STOP) accepts the packet and skips the hook's remaining
	// tables: a DROP in filter no longer sees a packet stopped in mangle.
	// Later hooks (INPUT after PREROUTING, say) still run.
	Stop Verdict = 5
)

const (
	nfQueue              = 3      // NF_QUEUE
	verdictMask          = 0xff   // NF_VERDICT_MASK
	verdictFlagBypass    = 0x8000 // NF_VERDICT_FLAG_QUEUE_BYPASS
	verdictQueueNumShift = 16     // NF_VERDICT_QBITS
)

// ToQueue returns the verdict that hands the packet to queue n (NF_QUEUE_NR).
// If nobody listens on n the kernel drops the packet, unless bypass is set, in
// which case the packet is accepted instead.
func ToQueue(n uint16, bypass bool) Verdict {
	v := Verdict(uint32(n)<<verdictQueueNumShift | nfQueue)
	if bypass {
		v |= verdictFlagBypass
	}
	return v
}

// QueueNum reports the target queue of a verdict made by ToQueue.
func (v Verdict) QueueNum() (n uint16, bypass, ok bool) {
	if v&verdictMask != nfQueue {
		return 0, false, false
	}
	return uint16(v >> verdictQueueNumShift), v&verdictFlagBypass != 0, true
}

// validate reports whether the kernel accepts v from userspace.
func (v Verdict) validate() error {
	switch v & verdictMask {
	case Drop, Accept, Repeat, Stop:
		if v>>8 != 0 {
			return fmt.Errorf("%w: %s carries queue bits (0x%x); only ToQueue verdicts may", ErrInvalidVerdict, v&verdictMask, uint32(v))
		}
		return nil
	case nfQueue:
		if v&0x7f00 != 0 {
			return fmt.Errorf("%w: 0x%x has unknown flag bits", ErrInvalidVerdict, uint32(v))
		}
		return nil
	}
	return fmt.Errorf("%w: 0x%x is not one of Drop, Accept, Repeat, Stop or ToQueue(n)", ErrInvalidVerdict, uint32(v))
}

func (v Verdict) String() string {
	switch v {
	case Drop:
		return "drop"
	case Accept:
		return "accept"
	case Repeat:
		return "repeat"
	case Stop:
		return "stop"
	}
	if n, bypass, ok := v.QueueNum(); ok && v&0x7f00 == 0 {
		if bypass {
			return fmt.Sprintf("queue:%d+bypass", n)
		}
		return fmt.Sprintf("queue:%d", n)
	}
	return fmt.Sprintf("verdict(0x%x)", uint32(v))
}

// VerdictOption adds something to a verdict: a new packet mark, a new
// payload or a new connection mark.
type VerdictOption struct {
	kind    uint8
	mark    uint32
	payload []byte
}

const (
	optMark uint8 = iota + 1
	optPayload
	optConnMark
)

// WithMark sets the packet mark along with the verdict.
func WithMark(mark uint32) VerdictOption { return VerdictOption{kind: optMark, mark: mark} }

// WithPayload replaces the packet (from the IP header on) along with the
// verdict. See AcceptWithPayload about checksums. payload is copied before
// the verdict call returns and is not retained.
//
// SetVerdict refuses, sending nothing: an empty payload (ErrInvalidVerdict;
// leave WithPayload out to keep the packet), one over MaxPayloadLen, 65531
// bytes (ErrPayloadTooLarge), WithPayload given twice, and a payload with
// Drop. The kernel itself silently drops a packet whose replacement is
// shorter than its IP header, with no error coming back.
func WithPayload(payload []byte) VerdictOption {
	return VerdictOption{kind: optPayload, payload: payload}
}

// WithConnMark sets the mark of the packet's connection (the conntrack
// entry's mark, which iptables -m connmark and CONNMARK --restore-mark see)
// along with the verdict, whatever the verdict is: marking a connection and
// dropping its packet is allowed. It combines with WithMark and WithPayload.
//
// The kernel applies a connection mark only on a queue opened with
// FlagConntrack and only to a tracked packet, and ignores it silently
// otherwise; so SetVerdict refuses it, with an error wrapping
// ErrInvalidVerdict and sending nothing, on a queue without FlagConntrack
// and for a packet without AttrConntrack. A verdict carrying a connection
// mark always leaves as a message of its own (the kernel ignores connection
// marks in batch verdicts).
func WithConnMark(mark uint32) VerdictOption {
	return VerdictOption{kind: optConnMark, mark: mark}
}

// verdictRequest is a checked verdict with its options, ready to send.
type verdictRequest struct {
	verdict     Verdict
	setMark     bool
	mark        uint32
	hasPayload  bool
	payload     []byte
	setConnMark bool
	connMark    uint32
}

func buildVerdict(v Verdict, opts []VerdictOption) (verdictRequest, error) {
	r := verdictRequest{verdict: v}
	if err := v.validate(); err != nil {
		return r, err
	}
	for _, o := range opts {
		switch o.kind {
		case optMark:
			if r.setMark {
				return r, fmt.Errorf("%w: WithMark given twice", ErrInvalidVerdict)
			}
			r.setMark, r.mark = true, o.mark
		case optPayload:
			if r.hasPayload {
				return r, fmt.Errorf("%w: WithPayload given twice", ErrInvalidVerdict)
			}
			if len(o.payload) == 0 {
				return r, fmt.Errorf("%w: empty replacement payload; to keep the packet as it is, leave WithPayload out", ErrInvalidVerdict)
			}
			if len(o.payload) > MaxPayloadLen {
				return r, fmt.Errorf("%w: %d bytes, the kernel takes at most %d", ErrPayloadTooLarge, len(o.payload), MaxPayloadLen)
			}
			r.hasPayload, r.payload = true, o.payload
		case optConnMark:
			if r.setConnMark {
				return r, fmt.Errorf("%w: WithConnMark given twice", ErrInvalidVerdict)
			}
			r.setConnMark, r.connMark = true, o.mark
		default:
			return r, fmt.Errorf("%w: zero VerdictOption; make options with WithMark, WithPayload or WithConnMark", ErrInvalidVerdict)
		}
	}
	if r.hasPayload && v == Drop {
		return r, fmt.Errorf("%w: a replacement payload with a drop verdict would be thrown away", ErrInvalidVerdict)
	}
	return r, nil
}

// connMarkAllowed refuses a connection mark the kernel would ignore.
func (p *Packet) connMarkAllowed(v Verdict) error {
	op := fmt.Sprintf("verdict %s for packet %d", v, p.ID)
	if p.q.cfg.Flags&FlagConntrack == 0 {
		return &OpError{Op: op, Queue: p.Queue, Err: fmt.Errorf("%w: WithConnMark on a queue without FlagConntrack", ErrInvalidVerdict),
			Hint: "open the queue with FlagConntrack: without it the kernel ignores connection marks; nothing was sent"}
	}
	if !p.Has(AttrConntrack) {
		return &OpError{Op: op, Queue: p.Queue, Err: fmt.Errorf("%w: WithConnMark for a packet without a conntrack entry", ErrInvalidVerdict),
			Hint: "the packet is untracked (no AttrConntrack), so there is no connection to mark; nothing was sent"}
	}
	return nil
}
