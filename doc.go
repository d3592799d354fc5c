// Package nfq hands packets from Linux netfilter's NFQUEUE to Go and sends
// back their verdicts. It is a thin binding over the system's
// libnetfilter_queue and libmnl (linked with cgo through pkg-config): the C
// library builds and parses every message; Go gets plain values.
//
// # How NFQUEUE works
//
// A netfilter rule such as
//
//	iptables -A INPUT -p tcp --dport 80 -j NFQUEUE --queue-num 5
//
// takes each matching packet out of the kernel's path and parks it in queue 5.
// The kernel sends a copy (metadata, and the packet from its IP header on, up
// to a copy range of at most MaxCopyRange, 65531 bytes) over a netlink socket
// to the one process bound to that queue, and holds the packet until that
// process answers with a verdict: accept, drop, repeat the hook, stop, or hand
// it to another queue; optionally with a new packet mark, new packet bytes or
// a new connection mark. Packets nobody answers stay in the kernel and count
// against the queue length (1024 by default); when the queue is full, new
// packets are dropped (or accepted, with FlagFailOpen).
//
// If no process is bound to the queue, the kernel drops the packets (iptables
// --queue-bypass accepts them instead). When the bound process closes its
// socket or dies, the queue goes away and the packets it held are dropped.
// The nft spelling of such a rule ends in "queue num 5 bypass"; it needs a
// kernel built with CONFIG_NFT_QUEUE, where the iptables target needs
// CONFIG_NETFILTER_XT_TARGET_NFQUEUE.
//
// # Using it
//
// Open a queue, consume its packets with Packets (a channel) or Run (a
// callback), give each packet exactly one verdict, and Close the queue:
//
//	q, err := nfq.Open(nfq.Config{Queue: 5})
//	if err != nil {
//		return err // says what went wrong and what to do
//	}
//	defer q.Close()
//	packets, err := q.Packets(ctx)
//	if err != nil {
//		return err
//	}
//	for p := range packets {
//		p.Accept()
//	}
//
// Run returns ctx.Err() when ctx ends and nil when Close ended it; the
// Packets channel closes in both cases. Packet fields print as words for
// logs (Hook, Attrs, SkbInfo, and the Verdict given).
//
// Each packet must get one verdict; a second one returns an error wrapping
// ErrVerdictGiven and sends nothing. The kernel does not acknowledge verdicts:
// one it refuses comes back later through Config.OnError. On Close, every
// packet the queue received but that has no verdict yet gets
// Config.DefaultVerdict (Drop unless set), so none is left waiting in the
// kernel. With DefaultVerdict Accept, Close also makes the kernel accept
// packets arriving during the Close itself (fail-open); with an iptables rule
// using --queue-bypass, the kernel accepts those arriving while no queue is
// bound. The one gap left is the instant in which Open binds the queue: the
// kernel drops, without counting them, packets that arrive before the bind
// request has also set the copy mode (both travel in one message, so the
// window is tiny).
//
// # Privileges
//
// Binding a queue needs CAP_NET_ADMIN in the network namespace where the
// queue is opened: run as root, give the binary the capability (setcap
// cap_net_admin+ep BINARY, then run it as any user), or start the container
// with --cap-add NET_ADMIN. Without it, Open fails with an error wrapping
// ErrNoPermission and os.ErrPermission. The kernel gives the same answer
// (EPERM) for a queue number another socket holds; Open tells the two apart
// and fails then with ErrQueueInUse, naming the holder's netlink port id and,
// where /proc shows it, its process; that error does not wrap
// os.ErrPermission.
//
// A queue belongs to a network namespace: the one Config.NetNS names
// (/proc/PID/ns/net of a process in a container, /run/netns/NAME, or
// /proc/self/fd/N), or else that of the thread that called Open. With
// Config.NetNS, Open enters the namespace on a thread of its own, which
// needs CAP_SYS_ADMIN, and the caller's threads stay where they are. The
// queue stays in its namespace afterwards, whichever goroutine uses it.
//
// # Concurrency
//
// Every Queue has its own netlink socket and its own receive loop, so queues
// are independent and several can run in one process (one per queue number,
// for example behind iptables --queue-balance). A queue has one consumer: the
// goroutine behind Packets, or the caller of Run. Verdict methods are safe
// from any goroutine, at any time, in any order. Close is idempotent and safe
// from any goroutine, also while packets flow and from inside a Run callback.
//
// Configuration (SetCopyMode) may be called while packets flow: the C library
// reads its acknowledgement from the same socket as the packets, so the
// package serializes it with the receive loop.
//
// OpenRange opens the queues of an iptables --queue-balance A:B rule as a
// QueueSet: one socket and receive loop per queue, consumed through one
// shared channel (QueueSet.Packets), a channel per queue (Queue.Packets of
// each of QueueSet.Queues) or a callback run from one goroutine per queue
// (QueueSet.Run). The kernel keeps each flow on one queue.
//
// Between packets, the receive loop first waits in a blocking call on its own
// OS thread (Config.ThreadWait, 10ms by default), so that a packet arriving
// soon is read as a C program would read it; only then does it park in Go's
// poller, whose thread wakeups cost tens of microseconds per packet at low
// rates. Such a wait holds a thread and a P: at most GOMAXPROCS-1 queues of
// a process wait this way at once (none with GOMAXPROCS=1), and the runtime
// takes the P back if other goroutines need it. Run gives the lowest latency:
// Packets adds a goroutine handoff, and with it a thread wakeup, per packet
// after a pause. Stats.Waits shows how the loop waited.
//
// # When verdicts reach the kernel
//
// Verdicts do not cost a system call each: they collect in a buffer and
// leave together. A verdict leaves at once when the consumer has taken every
// packet received so far, so a lone packet is never held back; otherwise it
// leaves with a later verdict that finds the consumer caught up, when the
// receive loop is about to wait, or when the buffer is full, and in every
// case at most 1 ms after it was given: the receive loop keeps that deadline
// in its own waits. The bound holds whatever the other packets and the
// consumer do (a packet held for a slow lookup, a consumer that stops
// reading the channel, an OnError that takes its time), for Packets,
// QueueSet.Packets and Run, for verdicts from any goroutine, and with any
// GOMAXPROCS. One exception: a Run callback that blocks holds the verdicts
// given before it in the same receive batch until it returns (it holds the
// whole queue anyway); the loop sends them between callbacks. Like every
// deadline in Go, it needs the runtime to run the loop: goroutines that keep
// every P busy without a pause can delay it until the scheduler preempts one
// (10 ms). A verdict method returns once its verdict is in the buffer or
// sent.
//
// Interface names (Queue.InterfaceName, Packet.InDevName, ...) and the
// kernel's counters (Queue.KernelStats) are those of the queue's network
// namespace, whichever thread asks: names are asked of the kernel on every
// call through the queue's own socket, so a renamed or deleted interface shows
// at once, and Open keeps the kernel's counter file, opened in that namespace,
// until Close.
//
// # Memory
//
// Packet fields are Go values: Payload is a copy of the kernel's bytes,
// owned by the Packet, valid after the verdict and for as long as the Packet
// is referenced. Nothing in a Packet points into C memory. A replacement
// payload passed to a verdict is copied before the call returns and is not
// retained.
//
// To keep receiving nearly free of allocations, Packets are carved from
// slabs of 64 and payloads from 64 KiB slabs (payloads of 8 KiB and more get
// their own allocation). A slab stays alive while any packet carved from it
// is referenced, so a program that keeps packets for a long time keeps up to
// a slab per packet alive; copy what you keep.
//
// Each queue holds its receive buffers (as many messages at the copy range
// as fit in 1 MiB, at least 4) and a verdict buffer of about 130 KiB in C
// memory, freed by Close. The kernel side
// holds at most Config.MaxQueueLen packets per queue; a consumer that falls
// behind first fills that, then the socket receive buffer
// (Config.ReadBufferSize), after which the kernel drops packets and reports
// the loss (ErrOverrun through Config.OnError, and Stats.Overruns).
//
// # Reading headers
//
// ParseHeaders decodes the IP header, the IPv6 extension headers and the
// TCP, UDP, ICMP or ICMPv6 header of a packet into a plain Headers value,
// without allocating: addresses, protocol, ports, TCP sequence numbers and
// flags, ICMP type and code, fragment state and the offsets of the transport
// header and payload. It decodes as far as the bytes go: Headers.Has says
// which fields it could fill in, Headers.Truncated where the copy range cut
// the packet, Headers.Malformed whether a header contradicts another. A
// later fragment has no ports.
//
// # Rewriting packets
//
// A verdict may carry new packet bytes (WithPayload), which the kernel sends
// as they are: lengths and checksums must be right. Headers.CheckRewritable
// says whether a packet can be rewritten: a whole TCP or UDP datagram
// (fragments and packets cut by the copy range are refused) with consistent
// lengths. MangleTransport replaces bytes of the TCP/UDP payload with bytes
// of any length and fixes the lengths and checksums, and FixChecksums
// recomputes the checksums after in-place edits; both run that check first.
// The C library's pkt_buff and protocol helpers do the work.
// After a TCP payload changes length, the program must shift the sequence
// numbers of later segments and the acknowledgments of the other direction
// (AdjustTCPSeq says how), so it must queue both directions.
//
// # Errors
//
// Errors are *OpError values naming the operation and the queue. They unwrap
// to the errno the kernel or the C library reported, so errors.Is(err,
// os.ErrPermission) works for a missing privilege, and to a sentinel
// (ErrQueueInUse, ErrNoPermission, ErrClosed, ...) where the package can
// tell what happened.
// The rewrite helpers work on bytes, not queues: they return *PacketError,
// which unwraps to ErrTruncated, ErrFragment and the like.
//
// # Builds
//
// The package needs Linux, cgo and the development files of
// libnetfilter_queue and libmnl (Debian: libnetfilter-queue-dev libmnl-dev
// pkg-config; Fedora: libnetfilter_queue-devel libmnl-devel pkgconf; the
// shared libnetfilter_queue also loads libnfnetlink). Elsewhere it builds,
// and Open returns an error wrapping ErrNotSupported; ParseHeaders, which is
// pure Go, works in every build.
package nfq
