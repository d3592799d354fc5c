//go:build linux

// Package netnstest gives each test its own network namespace, with loopback
// up, so that tests can add iptables NFQUEUE rules and send real traffic
// without touching the host or each other. It needs root (CAP_SYS_ADMIN and
// CAP_NET_ADMIN) and the ip and iptables commands; without root, New skips
// the test (see RequireKernel).
package netnstest

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"os/exec"
	"runtime"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// NS is a named network namespace (as made by `ip netns add`).
type NS struct {
	Name string
}

// New creates a namespace for t and removes it when t ends. Without the
// privileges it needs, it skips t (or fails it: see RequireKernel).
func New(t testing.TB) *NS {
	t.Helper()
	RequireKernel(t)
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	ns := &NS{Name: "nfqt-" + hex.EncodeToString(b)}
	if out, err := exec.Command("ip", "netns", "add", ns.Name).CombinedOutput(); err != nil {
		t.Fatalf("ip netns add %s: %v: %s (tests that touch the kernel need root and iproute2)", ns.Name, err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("ip", "netns", "del", ns.Name).CombinedOutput(); err != nil {
			t.Errorf("ip netns del %s: %v: %s", ns.Name, err, out)
		}
	})
	ns.Exec(t, "ip", "link", "set", "lo", "up")
	return ns
}

// Exec runs a command inside the namespace and returns its standard output;
// a failure fails the test.
func (ns *NS) Exec(t testing.TB, args ...string) string {
	t.Helper()
	out, err := ns.Command(args...).Output()
	if err != nil {
		var stderr string
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = string(ee.Stderr)
		}
		t.Fatalf("in %s: %s: %v: %s%s", ns.Name, strings.Join(args, " "), err, out, stderr)
	}
	return string(out)
}

// Command returns a command that will run inside the namespace.
func (ns *NS) Command(args ...string) *exec.Cmd {
	return exec.Command("ip", append([]string{"netns", "exec", ns.Name}, args...)...)
}

// Do runs fn on an OS thread that has entered the namespace, and waits for
// it. Sockets (and NFQUEUE queues) made by fn belong to the namespace for
// their whole life, whichever thread uses them later.
func (ns *NS) Do(t testing.TB, fn func()) {
	t.Helper()
	if err := ns.do(fn); err != nil {
		t.Fatal(err)
	}
}

func (ns *NS) do(fn func()) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		// The thread is unlocked only once it is back in its own
		// namespace; otherwise it dies with the goroutine, so no other
		// goroutine ever runs in the wrong namespace.
		orig, err := unix.Open("/proc/thread-self/ns/net", unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			errc <- fmt.Errorf("netnstest: open own namespace: %w", err)
			return
		}
		defer unix.Close(orig)
		target, err := unix.Open("/run/netns/"+ns.Name, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			errc <- fmt.Errorf("netnstest: open namespace %s: %w", ns.Name, err)
			return
		}
		defer unix.Close(target)
		if err := unix.Setns(target, unix.CLONE_NEWNET); err != nil {
			errc <- fmt.Errorf("netnstest: enter namespace %s: %w", ns.Name, err)
			return
		}
		done := false
		defer func() {
			if unix.Setns(orig, unix.CLONE_NEWNET) == nil {
				runtime.UnlockOSThread()
			}
			if !done {
				errc <- fmt.Errorf("netnstest: function run in %s did not return (t.FailNow or panic)", ns.Name)
			}
		}()
		fn()
		done = true
		errc <- nil
	}()
	return <-errc
}

// ListenUDP opens a UDP socket in the namespace on addr ("127.0.0.1:0").
func (ns *NS) ListenUDP(t testing.TB, addr string) *net.UDPConn {
	t.Helper()
	var c *net.UDPConn
	ns.Do(t, func() {
		a, err := net.ResolveUDPAddr("udp", addr)
		if err == nil {
			c, err = net.ListenUDP("udp", a)
		}
		if err != nil {
			t.Errorf("listen udp %s in %s: %v", addr, ns.Name, err)
		}
	})
	if c == nil {
		t.FailNow()
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// DialUDP opens a UDP socket in the namespace connected to addr.
func (ns *NS) DialUDP(t testing.TB, addr string) *net.UDPConn {
	t.Helper()
	var c *net.UDPConn
	ns.Do(t, func() {
		conn, err := net.Dial("udp", addr)
		if err != nil {
			t.Errorf("dial udp %s in %s: %v", addr, ns.Name, err)
			return
		}
		c = conn.(*net.UDPConn)
	})
	if c == nil {
		t.FailNow()
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// ReadUDP collects datagrams arriving on c until want have arrived or
// nothing came for quiet. It returns their payloads in order.
func ReadUDP(c *net.UDPConn, want int, quiet time.Duration) [][]byte {
	var got [][]byte
	buf := make([]byte, 65536)
	for len(got) < want {
		_ = c.SetReadDeadline(time.Now().Add(quiet))
		n, err := c.Read(buf)
		if err != nil {
			break
		}
		got = append(got, append([]byte(nil), buf[:n]...))
	}
	return got
}

// QueueLine is a line of /proc/net/netfilter/nfnetlink_queue.
type QueueLine struct {
	Queue, PortID, Waiting, CopyMode, CopyRange, Dropped, UserDropped, IDSequence uint64
}

// Queues reads the kernel's per-queue counters in the namespace; a queue
// missing from the map is not bound.
func (ns *NS) Queues(t testing.TB) map[uint64]QueueLine {
	t.Helper()
	out := ns.Exec(t, "cat", "/proc/net/netfilter/nfnetlink_queue")
	m := map[uint64]QueueLine{}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var l QueueLine
		var one uint64
		if line == "" {
			continue
		}
		if _, err := fmt.Sscan(line, &l.Queue, &l.PortID, &l.Waiting, &l.CopyMode, &l.CopyRange,
			&l.Dropped, &l.UserDropped, &l.IDSequence, &one); err != nil {
			t.Fatalf("parse nfnetlink_queue line %q: %v", line, err)
		}
		m[l.Queue] = l
	}
	return m
}
