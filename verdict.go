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

// Hook is the netfilter hook a packet was queued from (NF_INET_*).
type Hook uint8

// The netfilter hooks of the inet families.
const (
	HookPrerouting  Hook = 0
	HookInput       Hook = 1
	HookForward     Hook = 2
	HookOutput      Hook = 3
	HookPostrouting Hook = 4
)

func (h Hook) String() string {
	switch h {
	case HookPrerouting:
		return "PREROUTING"
	case HookInput:
		return "INPUT"
	case HookForward:
		return "FORWARD"
	case HookOutput:
		return "OUTPUT"
	case HookPostrouting:
		return "POSTROUTING"
	}
	return fmt.Sprintf("hook(%d)", uint8(h))
}
