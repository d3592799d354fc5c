package nfq

import (
	"fmt"
	"math"
	"strings"
	"time"
)

// CopyMode says how much of each packet the kernel copies to userspace
// (NFQNL_COPY_*).
type CopyMode uint8

const (
	// CopyNone copies nothing, and the kernel drops every packet of a queue
	// in this mode. As Config.CopyMode, the zero value means CopyPacket.
	CopyNone CopyMode = 0
	// CopyMeta sends the metadata only: no payload.
	CopyMeta CopyMode = 1
	// CopyPacket sends the metadata and the packet from its network header,
	// up to Config.CopyRange bytes.
	CopyPacket CopyMode = 2
)

func (m CopyMode) String() string {
	switch m {
	case CopyNone:
		return "none"
	case CopyMeta:
		return "meta"
	case CopyPacket:
		return "packet"
	}
	return fmt.Sprintf("copymode(%d)", uint8(m))
}

// MaxCopyRange is the largest payload the kernel copies to userspace: the
// payload attribute has a 16-bit length.
const MaxCopyRange = 0xffff

// MaxPayloadLen is the largest replacement payload a verdict may carry.
const MaxPayloadLen = 0xffff - 4 // the attribute header takes 4 of the 16-bit length

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

var flagNames = []struct {
	f    Flags
	name string
}{
	{FlagFailOpen, "fail-open"},
	{FlagConntrack, "conntrack"},
	{FlagGSO, "gso"},
	{FlagUIDGID, "uid-gid"},
	{FlagSecCtx, "secctx"},
}

func (f Flags) String() string {
	if f == 0 {
		return "none"
	}
	var parts []string
	for _, n := range flagNames {
		if f&n.f != 0 {
			parts = append(parts, n.name)
			f &^= n.f
		}
	}
	if f != 0 {
		parts = append(parts, fmt.Sprintf("0x%x", uint32(f)))
	}
	return strings.Join(parts, "|")
}

// Config describes a queue to open. The zero value of every field but Queue
// is a sensible default.
type Config struct {
	// Queue is the queue number, as in iptables -j NFQUEUE --queue-num.
	Queue uint16

	// CopyMode defaults to CopyPacket (the zero value CopyNone is never
	// useful: the kernel would drop every packet).
	CopyMode CopyMode
	// CopyRange is how many payload bytes to copy in CopyPacket mode;
	// 0 means the whole packet (MaxCopyRange).
	CopyRange uint32

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
	if c.CopyMode == CopyNone {
		c.CopyMode = CopyPacket
	}
	switch c.CopyMode {
	case CopyMeta, CopyPacket:
	default:
		return c, fmt.Errorf("%w: unknown copy mode %d", ErrInvalidConfig, c.CopyMode)
	}
	if c.CopyRange == 0 || c.CopyRange > MaxCopyRange {
		if c.CopyRange > MaxCopyRange {
			return c, fmt.Errorf("%w: copy range %d is over the kernel's limit of %d", ErrInvalidConfig, c.CopyRange, MaxCopyRange)
		}
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
