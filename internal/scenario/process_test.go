//go:build linux && cgo

package scenario_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nfq-go/nfq"
	"github.com/nfq-go/nfq/internal/lab"
	"github.com/nfq-go/nfq/internal/leaktest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Helper processes: the test binary started again with helperEnv set runs
// one of the helpers below instead of the tests (see TestMain).
const (
	helperEnv      = "NFQ_TEST_HELPER"
	helperQueueEnv = "NFQ_TEST_HELPER_QUEUE"

	helperHoldQueue = "hold-queue"  // open the queue, accept its packets, close on stdin EOF
	helperOpenNoCap = "open-no-cap" // try to open the queue, report as JSON
)

func runHelper(mode string) int {
	n, err := strconv.Atoi(os.Getenv(helperQueueEnv))
	if err != nil {
		fmt.Fprintln(os.Stderr, "helper: bad queue number:", err)
		return 2
	}
	switch mode {
	case helperHoldQueue:
		return holdQueue(uint16(n))
	case helperOpenNoCap:
		return openNoCap(uint16(n))
	}
	fmt.Fprintln(os.Stderr, "helper: unknown mode", mode)
	return 2
}

func holdQueue(n uint16) int {
	q, err := nfq.Open(nfq.Config{Queue: n, DefaultVerdict: nfq.Accept})
	if err != nil {
		fmt.Println("error:", err)
		return 1
	}
	ch, err := q.Packets(context.Background())
	if err != nil {
		fmt.Println("error:", err)
		return 1
	}
	go func() {
		for p := range ch {
			p.Accept()
		}
	}()
	fmt.Println("ready")
	io.Copy(io.Discard, os.Stdin)
	if err := q.Close(); err != nil {
		fmt.Println("error:", err)
		return 1
	}
	return 0
}

// noCapReport is what the helper without CAP_NET_ADMIN saw.
type noCapReport struct {
	CapEff       string
	Err          string
	NoPermission bool
	Permission   bool
	InUse        bool
	LeakedFDs    []string
	Goroutines   [2]int
}

func openNoCap(n uint16) int {
	r := noCapReport{CapEff: capEff()}
	before := leaktest.Take()
	q, err := nfq.Open(nfq.Config{Queue: n})
	if err == nil {
		q.Close()
		r.Err = "<nil>"
	} else {
		r.Err = err.Error()
	}
	r.NoPermission = errors.Is(err, nfq.ErrNoPermission)
	r.Permission = errors.Is(err, os.ErrPermission)
	r.InUse = errors.Is(err, nfq.ErrQueueInUse)
	r.LeakedFDs = leaktest.NewFDs(before, leaktest.Take())
	r.Goroutines = [2]int{before.Goroutines, runtime.NumGoroutine()}
	json.NewEncoder(os.Stdout).Encode(r)
	return 0
}

func capEff() string {
	b, _ := os.ReadFile("/proc/self/status")
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "CapEff:"); ok {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// helperCommand runs this test binary as a helper inside l's namespace,
// after prefix (a command that wraps it, such as setpriv).
func helperCommand(t *testing.T, l *relLab, mode string, prefix ...string) *exec.Cmd {
	t.Helper()
	exe, err := os.Executable()
	require.NoError(t, err)
	cmd := l.ns.Command(append(prefix, exe, "-test.run=^$")...)
	cmd.Env = append(os.Environ(), helperEnv+"="+mode, helperQueueEnv+"="+strconv.Itoa(int(l.queue)))
	cmd.Stderr = os.Stderr
	return cmd
}

func TestQueueHeldByAnotherProcess(t *testing.T) {
	t.Parallel()
	l := newRelLab(t, false)
	other := helperCommand(t, l, helperHoldQueue)
	stdin, err := other.StdinPipe()
	require.NoError(t, err)
	stdout, err := other.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, other.Start())
	t.Cleanup(func() {
		other.Process.Kill()
		other.Wait()
	})
	ready := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(stdout).ReadString('\n')
		ready <- strings.TrimSpace(line)
	}()
	select {
	case line := <-ready:
		require.Equal(t, "ready", line, "the other process opened the queue")
	case <-time.After(hang):
		t.Fatal("the other process did not open the queue")
	}
	kq, bound := l.kernelQueue(t)
	require.True(t, bound)
	assert.Equal(t, uint64(other.Process.Pid), kq.PortID, "the kernel queue belongs to the other process's socket")

	var q *nfq.Queue
	l.ns.Do(t, func() { q, err = nfq.Open(nfq.Config{Queue: l.queue}) })
	require.Error(t, err)
	assert.Nil(t, q)
	assert.ErrorIs(t, err, nfq.ErrQueueInUse)
	assert.NotErrorIs(t, err, os.ErrPermission, "the kernel said EPERM, but the queue is taken, not forbidden")
	assert.NotErrorIs(t, err, nfq.ErrNoPermission)
	assert.ErrorIs(t, err, syscall.EBUSY)
	assert.NotContains(t, err.Error(), "operation not permitted")
	comm, err2 := os.ReadFile(fmt.Sprintf("/proc/%d/comm", other.Process.Pid))
	require.NoError(t, err2)
	assert.Contains(t, err.Error(), fmt.Sprintf("queue %d is bound by another socket (port id %d, process %s pid %d)",
		l.queue, kq.PortID, strings.TrimSpace(string(comm)), other.Process.Pid), "names the holder")

	// The failed Open disturbed nothing: the other process still serves
	// the queue.
	l.sendN(t, 3)
	assert.Equal(t, 3, l.waitArrived(3, hang, 0))
	kq2, bound := l.kernelQueue(t)
	require.True(t, bound)
	assert.Equal(t, kq.PortID, kq2.PortID)
	assert.Zero(t, kq2.Waiting)

	// The other process dies without closing: the kernel frees the queue
	// and this process can take it over.
	require.NoError(t, other.Process.Signal(syscall.SIGKILL))
	other.Wait()
	stdin.Close()
	_, bound = l.kernelQueue(t)
	require.False(t, bound, "the kernel unbound the queue of the dead process")
	q = l.open(t, nfq.Config{})
	defer q.Close()
	ch, err := q.Packets(context.Background())
	require.NoError(t, err)
	l.sendN(t, 2)
	for i := 0; i < 2; i++ {
		require.NoError(t, lab.RecvPacket(t, ch).Accept())
	}
	assert.Equal(t, 5, l.waitArrived(5, hang, 0))
}

// A process without CAP_NET_ADMIN (dropped from its bounding set before
// exec, as a container without --cap-add NET_ADMIN would be) gets a clear
// error, and the failed Open leaves nothing open behind.
func TestOpenInProcessWithoutCapNetAdmin(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("setpriv"); err != nil {
		t.Fatalf("setpriv (util-linux) is needed to start a process without CAP_NET_ADMIN: %v", err)
	}
	l := newRelLab(t, false)
	cmd := helperCommand(t, l, helperOpenNoCap, "setpriv", "--inh-caps=-net_admin", "--bounding-set=-net_admin", "--")
	out, err := cmd.Output()
	require.NoError(t, err, "helper output: %s", out)
	var r noCapReport
	require.NoError(t, json.Unmarshal(out, &r), "helper output: %s", out)

	capEff, err := strconv.ParseUint(r.CapEff, 16, 64)
	require.NoError(t, err)
	require.Zero(t, capEff&(1<<12), "the helper really lacks CAP_NET_ADMIN (CapEff %s)", r.CapEff)
	assert.True(t, r.NoPermission, "ErrNoPermission: %s", r.Err)
	assert.True(t, r.Permission, "os.ErrPermission: %s", r.Err)
	assert.False(t, r.InUse, "not mistaken for a queue in use: %s", r.Err)
	assert.Contains(t, r.Err, "CAP_NET_ADMIN")
	assert.Contains(t, r.Err, fmt.Sprintf("queue %d", l.queue))
	assert.Empty(t, r.LeakedFDs, "the failed Open closed its socket")
	assert.LessOrEqual(t, r.Goroutines[1], r.Goroutines[0], "the failed Open left no goroutine")

	_, bound := l.kernelQueue(t)
	assert.False(t, bound, "nothing was bound in the kernel")
	q := l.open(t, nfq.Config{}) // and the queue is free for a process that may
	require.NoError(t, q.Close())
}
