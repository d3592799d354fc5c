//go:build linux && cgo

package scenario_test

import (
	"fmt"
	"net"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nfq-go/nfq"
	"github.com/nfq-go/nfq/internal/lab"
	"github.com/nfq-go/nfq/internal/netnstest"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

// relLab is a namespace where UDP to one loopback port goes through an
// NFQUEUE rule at OUTPUT, with a receiver that counts every datagram by the
// number it carries. Packets are numbered so that a test can account for
// each one: arrived, dropped on request, or dropped by the kernel.
type relLab struct {
	ns    *netnstest.NS
	queue uint16
	port  int
	send  *net.UDPConn
	recv  *net.UDPConn

	mu        sync.Mutex
	arrived   map[int]int       // packet number -> times it arrived
	arrivedAt map[int]time.Time // packet number -> when it first arrived
	others    []string          // payloads that are not packet numbers
	next      int               // number of the next packet to send
	change    chan struct{}
	stopped   chan struct{}

	// pause, write-held, holds back the sender of load and loadPaced.
	pause sync.RWMutex
}

// newRelLab makes the namespace and rule. With bypass, the rule accepts
// packets while no process is bound to the queue (--queue-bypass), so that
// traffic between two queues' lifetimes is not lost either.
func newRelLab(t *testing.T, bypass bool) *relLab {
	t.Helper()
	ns := netnstest.New(t)
	l := &relLab{ns: ns, queue: lab.QueueNum(), arrived: map[int]int{}, arrivedAt: map[int]time.Time{},
		change: make(chan struct{}, 1), stopped: make(chan struct{})}
	l.recv = ns.ListenUDP(t, "127.0.0.1:0")
	forceBuffer(t, l.recv, unix.SO_RCVBUFFORCE, 16<<20) // the receiver must never be where packets get lost
	l.port = l.recv.LocalAddr().(*net.UDPAddr).Port
	l.send = ns.DialUDP(t, l.recv.LocalAddr().String())
	// Queued packets count against the sender's buffer until their verdict.
	forceBuffer(t, l.send, unix.SO_SNDBUFFORCE, 16<<20)
	rule := []string{"iptables", "-A", "OUTPUT", "-p", "udp", "--dport", strconv.Itoa(l.port),
		"-j", "NFQUEUE", "--queue-num", strconv.Itoa(int(l.queue))}
	if bypass {
		rule = append(rule, "--queue-bypass")
	}
	ns.Exec(t, rule...)
	go l.collect()
	t.Cleanup(func() {
		l.recv.SetReadDeadline(time.Unix(1, 0))
		<-l.stopped
	})
	return l
}

// open opens the lab's queue in its namespace; the caller closes it.
func (l *relLab) open(t *testing.T, cfg nfq.Config) *nfq.Queue {
	t.Helper()
	cfg.Queue = l.queue
	var q *nfq.Queue
	var err error
	l.ns.Do(t, func() { q, err = nfq.Open(cfg) })
	require.NoError(t, err)
	return q
}

func (l *relLab) collect() {
	defer close(l.stopped)
	buf := make([]byte, 1<<16)
	for {
		n, err := l.recv.Read(buf)
		if err != nil {
			return
		}
		now := time.Now()
		l.mu.Lock()
		if i, err := strconv.Atoi(string(buf[:n])); err == nil {
			if l.arrived[i]++; l.arrived[i] == 1 {
				l.arrivedAt[i] = now
			}
		} else {
			l.others = append(l.others, string(buf[:n]))
		}
		l.mu.Unlock()
		select {
		case l.change <- struct{}{}:
		default:
		}
	}
}

// sendN sends n numbered datagrams and returns the first number.
func (l *relLab) sendN(t *testing.T, n int) int {
	t.Helper()
	l.mu.Lock()
	first := l.next
	l.next += n
	l.mu.Unlock()
	for i := first; i < first+n; i++ {
		_, err := l.send.Write(packetPayload(i))
		require.NoError(t, err)
	}
	return first
}

// load sends numbered packets from another goroutine until the returned
// function is called, at most max of them: packets waiting for a verdict
// hold the sender's buffer, and a consumer that takes none must not block
// the test's own sends.
func (l *relLab) load(max int) (stop func()) { return l.loadPaced(max, 0, nil) }

// loadPaced is load that keeps at most window packets in flight: sent, but
// neither arrived nor counted by settled (packets dropped on purpose), so
// that the kernel queue never overflows.
func (l *relLab) loadPaced(max, window int, settled func() int) (stop func()) {
	done, stopped := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(stopped)
		for n := 0; n < max; n++ {
			for window > 0 {
				arrived, _ := l.count()
				if l.sent()-arrived-settled() < window {
					break
				}
				select {
				case <-done:
					return
				case <-time.After(50 * time.Microsecond):
				}
			}
			select {
			case <-done:
				return
			default:
			}
			l.pause.RLock()
			l.mu.Lock()
			i := l.next
			l.next++
			l.mu.Unlock()
			_, err := l.send.Write(packetPayload(i))
			l.pause.RUnlock()
			if err != nil {
				panic(fmt.Sprintf("send packet %d: %v", i, err))
			}
			runtime.Gosched()
		}
	}()
	return func() {
		close(done)
		<-stopped
	}
}

// packetPayload is the payload of packet i: its number in a fixed width, so
// that every packet of a test has the same length.
func packetPayload(i int) []byte { return []byte(fmt.Sprintf("%08d", i)) }

// sent is how many packets were sent so far.
func (l *relLab) sent() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.next
}

// count returns how many distinct packets arrived, and how many arrived
// more than once.
func (l *relLab) count() (arrived, dup int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, times := range l.arrived {
		if times > 1 {
			dup++
		}
	}
	return len(l.arrived), dup
}

// has reports whether packet i arrived.
func (l *relLab) has(i int) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.arrived[i] > 0
}

// when returns when packet i first arrived; ok is false if it has not.
func (l *relLab) when(i int) (at time.Time, ok bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	at, ok = l.arrivedAt[i]
	return at, ok
}

// waitOthers waits up to timeout for n datagrams that are not packet
// numbers, and returns those that arrived.
func (l *relLab) waitOthers(n int, timeout time.Duration) []string {
	deadline := time.After(timeout)
	for {
		l.mu.Lock()
		got := append([]string(nil), l.others...)
		l.mu.Unlock()
		if len(got) >= n {
			return got
		}
		select {
		case <-l.change:
		case <-deadline:
			return got
		}
	}
}

// waitArrived waits until want distinct packets arrived, then waits for
// quiet more to make sure nothing else comes. It returns the count.
func (l *relLab) waitArrived(want int, timeout, quiet time.Duration) int {
	deadline := time.After(timeout)
	for {
		n, _ := l.count()
		if n >= want {
			break
		}
		select {
		case <-l.change:
		case <-deadline:
			return n
		}
	}
	time.Sleep(quiet)
	n, _ := l.count()
	return n
}

// kernelQueue reads this queue's line of /proc/net/netfilter/nfnetlink_queue
// from inside the namespace, without starting a process; ok is false when
// no socket is bound to the queue.
func (l *relLab) kernelQueue(t *testing.T) (line netnstest.QueueLine, ok bool) {
	t.Helper()
	var data []byte
	var err error
	l.ns.Do(t, func() { data, err = os.ReadFile("/proc/thread-self/net/netfilter/nfnetlink_queue") })
	require.NoError(t, err)
	for _, s := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		var one uint64
		if s == "" {
			continue
		}
		_, err := fmt.Sscan(s, &line.Queue, &line.PortID, &line.Waiting, &line.CopyMode, &line.CopyRange,
			&line.Dropped, &line.UserDropped, &line.IDSequence, &one)
		require.NoError(t, err, "parse %q", s)
		if line.Queue == uint64(l.queue) {
			return line, true
		}
	}
	return netnstest.QueueLine{}, false
}

// forceBuffer sets a socket buffer (SO_RCVBUFFORCE or SO_SNDBUFFORCE)
// beyond the system's maximum, which root may do.
func forceBuffer(t *testing.T, c *net.UDPConn, opt, n int) {
	t.Helper()
	raw, err := c.SyscallConn()
	require.NoError(t, err)
	var serr error
	require.NoError(t, raw.Control(func(fd uintptr) {
		serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, opt, n)
	}))
	require.NoError(t, serr)
}
