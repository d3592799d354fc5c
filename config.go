package nfq

import (
	"fmt"
	"math"
	"time"
)

// CopyMode says how much of each packet the kernel copies to userspace.
//
// The zero value is CopyPacket, the mode nearly every program wants, so a
// Config that leaves CopyMode out copies whole packets; every constant means
// what it says. The values are this package's, not the kernel's NFQNL_COPY_*
// codes (in which 0 is "none"): the package translates them when it talks
// to the kernel.
type CopyMode uint8

const (
	// CopyPacket sends the metadata and the packet from its network
	// header, up to Config.CopyRange bytes. The zero value.
	CopyPacket CopyMode = iota
	// CopyMeta sends the metadata only: no payload, and no packet length
	// either (Packet.OrigLen is 0).
	CopyMeta
	// CopyNone copies nothing, and the kernel drops every packet of a
	// queue in this mode: Open and SetCopyMode refuse it with an error
	// wrapping ErrInvalidConfig.
	CopyNone
)

func (m CopyMode) String() string {
	switch m {
	case CopyPacket:
		return "packet"
	case CopyMeta:
		return "meta"
	case CopyNone:
		return "none"
	}
	return fmt.Sprintf("copymode(%d)", uint8(m))
}

// The kernel's copy modes (NFQNL_COPY_* of <linux/netfilter/nfnetlink_queue.h>).
const (
	kernelCopyNone   = 0
	kernelCopyMeta   = 1
	kernelCopyPacket = 2
)

// kernel returns the kernel's code for m; m has been checked by withDefaults.
func (m CopyMode) kernel() uint8 {
	switch m {
	case CopyMeta:
		return kernelCopyMeta
	case CopyNone:
		return kernelCopyNone
	}
	return kernelCopyPacket
}

// MaxCopyRange is the most payload bytes the kernel copies to userspace
// (NFQNL_MAX_COPY_RANGE): the payload attribute has a 16-bit length, 4 of
// which its header takes. A larger packet arrives cut to this length, with
// Packet.OrigLen telling its real length.
const MaxCopyRange = 0xffff - 4

// MaxPayloadLen is the largest replacement payload a verdict may carry, for
// the same reason.
const MaxPayloadLen = 0xffff - 4

// Flags are queue flags (NFQA_CFG_F_*). Each needs kernel support; Open
// fails with an error naming a flag the running kernel refuses.
type Flags uint32

const (
	// FlagFailOpen accepts packets instead of dropping them when the
	// queue is full (Linux 3.6).
	FlagFailOpen Flags = 1 << 0
	// FlagConntrack attaches conntrack information (Linux 3.6, needs
	// CONFIG_NETFILTER_NETLINK_GLUE_CT).
	FlagConntrack Flags = 1 << 1
	// FlagGSO delivers GSO packets unsegmented (Linux 3.10): payloads can
	// exceed the MTU and may have checksums not yet computed.
	FlagGSO Flags = 1 << 2
	// FlagUIDGID attaches the uid and gid of the local socket that owns the
	// packet (Linux 3.14).
	FlagUIDGID Flags = 1 << 3
	// FlagSecCtx attaches the security context of the packet (Linux 4.2).
	FlagSecCtx Flags = 1 << 4

	flagsAll = FlagFailOpen | FlagConntrack | FlagGSO | FlagUIDGID | FlagSecCtx
)

var flagNames = []bitName[Flags]{
	{FlagFailOpen, "fail-open"},
	{FlagConntrack, "conntrack"},
	{FlagGSO, "gso"},
	{FlagUIDGID, "uid-gid"},
	{FlagSecCtx, "secctx"},
}

// Config describes a queue to open. The zero value of every field but Queue
// is a sensible default.
type Config struct {
	// Queue is the queue number, as in iptables -j NFQUEUE --queue-num.
	Queue uint16

	// CopyMode is how much of each packet the kernel copies: CopyPacket
	// (the zero value) or CopyMeta.
	CopyMode CopyMode
	// CopyRange is how many payload bytes to copy in CopyPacket mode; 0
	// means as much as the kernel copies (MaxCopyRange, 65531 bytes).
	// Larger values are refused.
	CopyRange uint32

	// NetNS, when set, is the network namespace to open the queue in, given
	// by a path: /proc/PID/ns/net (another process's, a container's),
	// /run/netns/NAME (made by ip netns add) or /proc/self/fd/N (a
	// descriptor of one). Empty means the calling thread's. Open enters the
	// namespace on a thread of its own, so the caller's threads stay in
	// theirs; the queue, its counters and its interface names belong to
	// that namespace from then on, whichever goroutine uses them. Entering
	// it needs CAP_SYS_ADMIN, besides CAP_NET_ADMIN over it for the queue.
	NetNS string

	// MaxQueueLen is how many packets the kernel holds waiting for a
	// verdict before it drops (or, with FlagFailOpen, accepts) new ones.
	// 0 keeps the kernel default of 1024.
	MaxQueueLen uint32

	// Flags are queue flags to enable.
	Flags Flags

	// ReadBufferSize is the socket receive buffer in bytes. Raise it for
	// bursts; 0 keeps the system default. Values above
	// net.core.rmem_max need CAP_NET_ADMIN, which a queue needs anyway.
	// At most math.MaxInt32, what the socket option takes.
	ReadBufferSize int

	// NoENOBUFS asks the kernel not to report receive-buffer overruns
	// (NETLINK_NO_ENOBUFS). Packets lost that way are still counted by
	// the kernel; they are no longer reported to OnError.
	NoENOBUFS bool

	// DefaultVerdict is given on Close to every packet that was received
	// but got no verdict. The zero value is Drop, which is also what the
	// kernel does with packets of a queue whose listener goes away.
	DefaultVerdict Verdict

	// ThreadWait is how long the receive loop, having emptied the socket,
	// waits for the next packet in a blocking call on its own OS thread
	// before it parks in Go's poller. A packet arriving within it is read
	// as a C program would read it, without the Go scheduler's thread
	// wakeups that otherwise add tens of microseconds to the first packet
	// after a quiet spell. The wait costs next to no CPU, but it holds a
	// thread and one of GOMAXPROCS's Ps: at most GOMAXPROCS-1 queues of a
	// process wait this way at once, and none with GOMAXPROCS=1. 0 means
	// DefaultThreadWait; a negative value turns the wait off; at most
	// MaxThreadWait. While the Packets consumer has packets it has not taken,
	// the loop waits in slices of 1 ms, and at least one even with the wait
	// turned off, to send the verdicts given meanwhile (see "When verdicts
	// reach the kernel" in the package doc).
	ThreadWait time.Duration

	// OnError, when set, is called from the receive loop with errors that
	// do not stop it: receive-buffer overruns (ErrOverrun, the packets are
	// lost in the kernel) and errors the kernel reports for earlier
	// verdicts (an unknown packet id, say). It should return quickly: the
	// loop waits for it. It may call Close.
	OnError func(error)
}

// DefaultThreadWait and MaxThreadWait bound Config.ThreadWait.
const (
	DefaultThreadWait = 10 * time.Millisecond
	MaxThreadWait     = time.Second
)

// withDefaults returns c with zero fields replaced by their defaults and
// checks the rest.
func (c Config) withDefaults() (Config, error) {
	switch c.CopyMode {
	case CopyPacket, CopyMeta:
	case CopyNone:
		return c, fmt.Errorf("%w: copy mode none makes the kernel drop every packet of the queue; use CopyPacket (the default) or CopyMeta", ErrInvalidConfig)
	default:
		return c, fmt.Errorf("%w: unknown copy mode %d; use CopyPacket (the default) or CopyMeta", ErrInvalidConfig, c.CopyMode)
	}
	if c.CopyRange > MaxCopyRange {
		return c, fmt.Errorf("%w: copy range %d is over the kernel's limit of %d (MaxCopyRange); 0 copies whole packets", ErrInvalidConfig, c.CopyRange, MaxCopyRange)
	}
	if c.CopyRange == 0 {
		c.CopyRange = MaxCopyRange
	}
	if c.Flags&^flagsAll != 0 {
		return c, fmt.Errorf("%w: unknown queue flags 0x%x", ErrInvalidConfig, uint32(c.Flags&^flagsAll))
	}
	if c.ReadBufferSize < 0 {
		return c, fmt.Errorf("%w: negative read buffer size %d", ErrInvalidConfig, c.ReadBufferSize)
	}
	if int64(c.ReadBufferSize) > math.MaxInt32 {
		return c, fmt.Errorf("%w: read buffer size %d is over %d, the most the socket option takes", ErrInvalidConfig, c.ReadBufferSize, math.MaxInt32)
	}
	if c.ThreadWait == 0 {
		c.ThreadWait = DefaultThreadWait
	}
	if c.ThreadWait > MaxThreadWait {
		return c, fmt.Errorf("%w: thread wait %v is over %v; for sparser traffic, let the loop park (a negative ThreadWait)", ErrInvalidConfig, c.ThreadWait, MaxThreadWait)
	}
	if err := c.DefaultVerdict.validate(); err != nil {
		return c, fmt.Errorf("%w: default verdict: %v", ErrInvalidConfig, err)
	}
	return c, nil
}
