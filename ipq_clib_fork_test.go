//go:build linux && cgo

package nfq_test

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nfq-go/nfq/internal/netnstest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The C library in the fork() patterns of ip_queue-era programs
// (libipq/test/forktest.c): it must start no thread and keep nothing per
// packet, so that a child of a process that loaded it, or that holds a
// handle, works like the parent.

// detached is a program whose output outlives it: a daemon's child keeps
// writing to the pipe after the process the test started has exited.
type detached struct {
	cmd   *exec.Cmd
	lines chan string // closed when every writer has closed the pipe
}

func (c *clib) startDetached(t *testing.T, ns *netnstest.NS, args ...string) *detached {
	t.Helper()
	r, w, err := os.Pipe()
	require.NoError(t, err)
	d := &detached{cmd: c.command(ns, args[0], args[1:]...), lines: make(chan string, 16)}
	d.cmd.Stdout = w
	d.cmd.Stderr = os.Stderr
	require.NoError(t, d.cmd.Start())
	w.Close()
	go func() {
		defer close(d.lines)
		defer r.Close()
		s := bufio.NewScanner(r)
		for s.Scan() {
			d.lines <- s.Text()
		}
	}()
	t.Cleanup(func() {
		if d.cmd.ProcessState == nil {
			d.cmd.Process.Kill()
			d.cmd.Wait()
		}
		killLeftovers(args[0])
	})
	return d
}

// line returns the next line of output, failing after timeout.
func (d *detached) line(t *testing.T, timeout time.Duration) string {
	t.Helper()
	select {
	case l, ok := <-d.lines:
		require.True(t, ok, "the program ended its output early")
		return l
	case <-time.After(timeout):
		require.FailNow(t, "no output", "after %v", timeout)
		return ""
	}
}

// ended checks that every process writing the output has exited.
func (d *detached) ended(t *testing.T, timeout time.Duration) {
	t.Helper()
	select {
	case l, ok := <-d.lines:
		require.False(t, ok, "unexpected output %q", l)
	case <-time.After(timeout):
		require.FailNow(t, "a process of the program is still running", "after %v", timeout)
	}
}

// processesOf returns the pids of the processes running the program at
// path.
func processesOf(path string) []int {
	var pids []int
	dirs, _ := os.ReadDir("/proc")
	for _, d := range dirs {
		pid, err := strconv.Atoi(d.Name())
		if err != nil {
			continue
		}
		if exe, err := os.Readlink(filepath.Join("/proc", d.Name(), "exe")); err == nil && exe == path {
			pids = append(pids, pid)
		}
	}
	return pids
}

func killLeftovers(path string) {
	for _, pid := range processesOf(path) {
		if p, err := os.FindProcess(pid); err == nil {
			p.Kill()
		}
	}
}

// field returns the value of key=value in line.
func field(t *testing.T, line, key string) string {
	t.Helper()
	for _, f := range strings.Fields(line) {
		if v, ok := strings.CutPrefix(f, key+"="); ok {
			return v
		}
	}
	require.FailNow(t, "no field", "%s in %q", key, line)
	return ""
}

func (c *clib) threadsScenario(t *testing.T) {
	ns := netnstest.New(t)
	out, err := c.command(ns, c.threads, filepath.Join(c.lib, "libipq.so.0")).CombinedOutput()
	require.NoError(t, err, "%s", out)
	assert.Equal(t, "start threads=1\nloaded threads=1\ncreated threads=1\nmode threads=1\ndestroyed threads=1\n", string(out))
}

// upper is what forktest makes of a payload it accepts.
func upper(payloads []string) []string {
	var out []string
	for _, p := range payloads {
		out = append(out, strings.ToUpper(p))
	}
	return out
}

// daemonScenario runs forktest in a mode where the process the test
// started exits at once and a child of it passes the packets.
func (c *clib) daemonScenario(t *testing.T, mode string) {
	l := newIPQLab(t, false, false)
	payloads := []string{"pkt-a", "pkt-b", "pkt-c", "pkt-d", "pkt-e"}
	d := c.startDetached(t, l.ns, c.forktest, mode, fmt.Sprint(len(payloads)))
	require.NoError(t, d.cmd.Wait(), "the parent exits")
	assert.Equal(t, "ready threads=1", d.line(t, 5*time.Second))
	assert.Equal(t, upper(payloads), l.sendUDP(t, 3*time.Second, payloads...), "every packet got the child's verdict")
	sum := d.line(t, 5*time.Second)
	assert.Equal(t, "passed=5 errors=0 interrupted=0", strings.Join(strings.Fields(sum)[:3], " "))
	assert.NotEqual(t, fmt.Sprint(d.cmd.Process.Pid), field(t, sum, "pid"), "a child did it")
	d.ended(t, 5*time.Second)
	assert.NotContains(t, l.ns.Queues(t), uint64(0), "the child's exit unbound the queue")
}

func (c *clib) forkAfterLoadScenario(t *testing.T) { c.daemonScenario(t, "after-load") }

func (c *clib) daemonizeScenario(t *testing.T) { c.daemonScenario(t, "daemonize") }

// childrenScenario: a server forks a child per packet, which gives the
// verdict on the inherited handle and exits, while the parent keeps
// reading. Every packet must get its child's verdict, every child must
// exit, and the parent must not grow.
func (c *clib) childrenScenario(t *testing.T) {
	const n, warm = 1000, 100
	l := newIPQLab(t, false, false)
	d := c.startDetached(t, l.ns, c.forktest, "children", fmt.Sprint(n), fmt.Sprint(warm))
	assert.Equal(t, "ready threads=1", d.line(t, 5*time.Second))

	var want []string
	arrived := make(chan []string, 1)
	go func() { arrived <- stringsOf(netnstest.ReadUDP(l.recv, n-n/4, 10*time.Second)) }()
	for i := 0; i < n; i++ {
		p := fmt.Sprintf("pkt-%04d", i)
		if i%4 == 0 {
			p = fmt.Sprintf("pkt-drop-%04d", i)
		} else {
			want = append(want, strings.ToUpper(p))
		}
		_, err := l.send.Write([]byte(p))
		require.NoError(t, err)
		if i%50 == 49 {
			time.Sleep(20 * time.Millisecond) // stay below the queue's 1024
		}
	}
	sum := d.line(t, 90*time.Second)
	got := <-arrived
	sort.Strings(got)
	assert.Equal(t, want, got, "accepted and rewritten by their children")
	assert.Empty(t, netnstest.ReadUDP(l.recv, 1, 300*time.Millisecond), "the others dropped")
	for _, kv := range []string{"packets=1000", "reaped=1000", "failed=0", "errors=0", "interrupted=0"} {
		assert.Contains(t, strings.Fields(sum), kv, sum)
	}
	warmKB, err := strconv.Atoi(field(t, sum, "warm_rss_kb"))
	require.NoError(t, err)
	finalKB, err := strconv.Atoi(field(t, sum, "final_rss_kb"))
	require.NoError(t, err)
	t.Logf("parent resident memory: %d KiB after %d packets, %d KiB after %d", warmKB, warm, finalKB, n)
	assert.LessOrEqual(t, finalKB-warmKB, 1024, "the parent keeps nothing per packet")
	require.NoError(t, d.cmd.Wait())
	d.ended(t, 5*time.Second)
	assert.Empty(t, processesOf(c.forktest), "no child left running")
}
